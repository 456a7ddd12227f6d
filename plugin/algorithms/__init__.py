"""One Processing algorithm per file, on a shared base class."""

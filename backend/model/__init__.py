"""The MMMamba network, its configuration and model files (imports torch; load lazily)."""

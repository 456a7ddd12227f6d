"""Typed errors of the backend: each carries a sentence a user can act on."""

from __future__ import annotations


class MMMambaError(Exception):
    """Base class of every error the backend raises on purpose."""


class InputError(MMMambaError):
    """A raster, parameter or combination of inputs that cannot be processed as given."""


class ModelFileError(MMMambaError):
    """A model file that is missing, unreadable, tampered with or does not fit the inputs."""


class OutputError(MMMambaError):
    """The output cannot be written (folder missing or read-only, disk full, ...)."""


class Cancelled(MMMambaError):  # noqa: N818 - reads naturally at call sites: `except Cancelled`
    """The caller asked to stop; nothing half-written is left behind."""

"""MMMamba backend: pan-sharpening and zero-shot super-resolution with PyTorch, NumPy and GDAL.

No QGIS imports, ever. Heavy modules (torch) are imported lazily so that `import backend` is cheap.
"""

from __future__ import annotations

from .errors import Cancelled, InputError, MMMambaError, ModelFileError, OutputError
from .openmp import limit_spinning
from .progress import NullProgress, Progress

limit_spinning()  # before any module of the package imports torch

__version__ = "0.1.0"

__all__ = [
    "Cancelled",
    "InputError",
    "MMMambaError",
    "ModelFileError",
    "NullProgress",
    "OutputError",
    "Progress",
    "__version__",
]

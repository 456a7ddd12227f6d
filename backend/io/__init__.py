"""Raster input/output: inspection, grids and warping, windows, tiling and atomic GeoTIFF writing.

Everything here speaks GDAL and NumPy only; nothing imports torch.
"""

from __future__ import annotations

from .window import Window

__all__ = ["Window"]

"""Run a classical method on GeoTIFF files: read the shared area, fuse in memory, write GeoTIFF.

Meant for scenes of a few thousand pixels a side (the classical baselines are references, not the
production path): larger areas raise `InputError` and should be cut with `window`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from ..errors import InputError, OutputError
from ..io.window import Window
from ..progress import Progress, check_cancelled
from .gdal_pansharpen import _write, gdal_pansharpen_files
from .raster_pair import read_pair

log = logging.getLogger(__name__)

MAX_PIXELS = 4096 * 4096
"""Largest PAN area (pixels) a classical method fuses in memory."""


def sharpen_file(
    method: str,
    pan: str | Path,
    ms: str | Path,
    out: str | Path,
    *,
    sensor: str | None = None,
    window: Window | None = None,
    progress: Progress | None = None,
) -> Path:
    """Pan-sharpen PAN + MS rasters with a classical method into a float32 GeoTIFF on the PAN grid.

    Args:
        method: One of `backend.classical.METHODS` ('exp', 'brovey', 'gsa', 'mtf-glp-hpm', 'gdal').
        pan: PAN raster.
        ms: MS raster.
        out: Output GeoTIFF (written to a temporary name, then renamed).
        sensor: Sensor name for the MTF gains (None: 'unknown').
        window: Optional area in PAN pixels.
        progress: Progress and cancellation.

    Returns:
        The output path.
    """
    from . import METHODS

    if method not in METHODS:
        raise InputError(f"Unknown method {method!r}: use one of {', '.join(METHODS)}.")
    out = Path(out)
    if not out.parent.is_dir():
        raise OutputError(f"The folder of {out} does not exist.")
    check_cancelled(progress)
    fd, tmp_name = tempfile.mkstemp(suffix=".tif", prefix=f".{out.stem}-", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if method == "gdal" and window is None:
            # GDAL lines the rasters up from their georeferencing itself.
            gdal_pansharpen_files(pan, ms, tmp)
        else:
            pair = read_pair(pan, ms, window=window)
            if pair.pan.size > MAX_PIXELS:
                raise InputError(
                    f"{Path(pan).name} is too large for an in-memory classical method "
                    f"({pair.pan.shape[1]} x {pair.pan.shape[0]}): give a window of at most "
                    f"{MAX_PIXELS} pixels."
                )
            fused = METHODS[method](pair.pan, pair.ms, pair.ratio, sensor)
            check_cancelled(progress)
            _write(tmp, fused, pair.geotransform, pair.projection)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    if progress is not None:
        progress.set_fraction(1.0)
    log.info("%s written with %s", out, method)
    return out

"""GDAL's own pan-sharpening (`gdal.CreatePansharpenedVRT`, weighted Brovey), on files or arrays."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from osgeo import gdal

from ..errors import InputError, OutputError
from ._inputs import check_pair

log = logging.getLogger(__name__)

_RESAMPLING = {"nearest", "bilinear", "cubic", "cubicspline", "lanczos", "average"}


def _open(path: str | Path) -> gdal.Dataset:
    ds = gdal.Open(str(path))
    if ds is None:
        raise InputError(f"Cannot open raster {path}: {gdal.GetLastErrorMsg() or 'not a raster'}.")
    return ds


def _options_xml(n_bands: int, weights: Sequence[float], resampling: str) -> str:
    spectral = "".join(f'<SpectralBand dstBand="{i + 1}"></SpectralBand>' for i in range(n_bands))
    return (
        '<VRTDataset subClass="VRTPansharpenedDataset"><PansharpeningOptions>'
        "<Algorithm>WeightedBrovey</Algorithm>"
        f"<AlgorithmOptions><Weights>{escape(','.join(f'{w:.10g}' for w in weights))}</Weights>"
        "</AlgorithmOptions>"
        f"<Resampling>{escape(resampling)}</Resampling>"
        # One thread: the machine is shared and the scenes assessed are small.
        "<NumThreads>1</NumThreads>"
        # Keep the PAN extent whatever the MS footprint: output is exactly PAN-sized.
        "<SpatialExtentAdjustment>NoneWithoutWarning</SpatialExtentAdjustment>"
        f"{spectral}</PansharpeningOptions></VRTDataset>"
    )


def gdal_pansharpen_files(
    pan_path: str | Path,
    ms_path: str | Path,
    out_path: str | Path | None = None,
    *,
    weights: Sequence[float] | None = None,
    resampling: str = "cubic",
    pan_band: int = 1,
) -> np.ndarray:
    """Pan-sharpen two georeferenced rasters with GDAL's weighted Brovey.

    GDAL resamples MS onto the PAN grid using both geotransforms, then scales every band by
    `PAN / sum_b(w_b MS_b)`.

    Args:
        pan_path: PAN raster.
        ms_path: MS raster (every band is used).
        out_path: Optional GeoTIFF to write (PAN grid, float32).
        weights: Pseudo-PAN weights, one per MS band (default equal weights summing to 1).
        resampling: GDAL resampling of MS onto the PAN grid.
        pan_band: Band of the PAN raster to use (1-based).

    Returns:
        (C, H, W) float32 on the PAN grid.
    """
    if resampling not in _RESAMPLING:
        raise InputError(f"Unknown resampling {resampling!r}: use one of {sorted(_RESAMPLING)}.")
    pan_ds, ms_ds = _open(pan_path), _open(ms_path)
    if not 1 <= pan_band <= pan_ds.RasterCount:
        raise InputError(f"{pan_path} has no band {pan_band}.")
    n = ms_ds.RasterCount
    w = [1.0 / n] * n if weights is None else [float(v) for v in weights]
    if len(w) != n:
        raise InputError(f"Give one pseudo-PAN weight per MS band ({n}), got {len(w)}.")
    xml = _options_xml(n, w, resampling)
    vrt = gdal.CreatePansharpenedVRT(
        xml, pan_ds.GetRasterBand(pan_band), [ms_ds.GetRasterBand(i + 1) for i in range(n)]
    )
    if vrt is None:
        raise InputError(
            f"GDAL cannot pan-sharpen {pan_path} with {ms_path}: {gdal.GetLastErrorMsg()}"
        )
    data = vrt.ReadAsArray()
    if data is None:
        raise InputError(f"GDAL pan-sharpening of {pan_path} failed: {gdal.GetLastErrorMsg()}")
    data = np.asarray(data, dtype=np.float32).reshape(n, pan_ds.RasterYSize, pan_ds.RasterXSize)
    if out_path is not None:
        _write(out_path, data, vrt.GetGeoTransform(), vrt.GetProjection())
    return data


def _write(path: str | Path, data: np.ndarray, geotransform: Sequence[float], wkt: str) -> None:
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(str(path), data.shape[2], data.shape[1], data.shape[0], gdal.GDT_Float32)
    if ds is None:
        raise OutputError(f"Cannot create {path}: {gdal.GetLastErrorMsg()}")
    ds.SetGeoTransform(tuple(geotransform))
    if wkt:
        ds.SetProjection(wkt)
    for b in range(data.shape[0]):
        ds.GetRasterBand(b + 1).WriteArray(data[b])
    ds.FlushCache()
    ds = None


def gdal_pansharpen(
    pan: np.ndarray, ms: np.ndarray, ratio: int, sensor: str | None = None
) -> np.ndarray:
    """GDAL's weighted Brovey on in-memory arrays (written to temporary GeoTIFFs).

    The temporary files carry the grid convention of `backend.degrade` (coarse pixel i centred on
    fine pixel ratio*i + ratio//2), so GDAL aligns MS and PAN exactly as the other methods do.

    Args:
        pan: PAN band (H, W).
        ms: MS image (C, H/ratio, W/ratio).
        ratio: Resolution ratio.
        sensor: Unused (same signature as the other methods).

    Returns:
        (C, H, W) float32.
    """
    p, m = check_pair(pan, ms, ratio)
    # Footprint of coarse pixel 0 in fine-pixel units: centred on ratio//2 + 0.5, width ratio.
    origin = ratio // 2 + 0.5 - ratio / 2.0
    with tempfile.TemporaryDirectory(prefix="mmmamba-gdal-") as tmp:
        pan_path = Path(tmp) / "pan.tif"
        ms_path = Path(tmp) / "ms.tif"
        _write(pan_path, p[None].astype(np.float32), (0.0, 1.0, 0.0, 0.0, 0.0, -1.0), "")
        _write(ms_path, m.astype(np.float32), (origin, ratio, 0.0, -origin, 0.0, -ratio), "")
        return gdal_pansharpen_files(pan_path, ms_path)

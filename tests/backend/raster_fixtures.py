"""Small GeoTIFFs for the raster tests, written with GDAL into a test's temporary folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

from backend.io.raster import numpy_to_gdal_dtype

UTM49 = 32649


def srs_wkt(epsg: int) -> str:
    """WKT of an EPSG code."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def write_raster(
    path: Path,
    data: np.ndarray,
    *,
    geotransform: Sequence[float] | None = (500000.0, 1.0, 0.0, 4000000.0, 0.0, -1.0),
    epsg: int | None = UTM49,
    nodata: float | None = None,
    descriptions: Sequence[str] | None = None,
    color_interps: Sequence[int] | None = None,
    options: Sequence[str] = (),
) -> Path:
    """Write `(H, W)` or `(C, H, W)` `data` as a GeoTIFF (dtype kept) and return its path."""
    arr = data[None] if data.ndim == 2 else data
    c, h, w = arr.shape
    ds = gdal.GetDriverByName("GTiff").Create(
        str(path), w, h, c, numpy_to_gdal_dtype(arr.dtype), options=list(options)
    )
    if geotransform is not None:
        ds.SetGeoTransform(list(geotransform))
    if epsg is not None:
        ds.SetProjection(srs_wkt(epsg))
    for i in range(c):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(arr[i])
        if nodata is not None:
            band.SetNoDataValue(float(nodata))
        if descriptions is not None:
            band.SetDescription(descriptions[i])
        if color_interps is not None:
            band.SetColorInterpretation(color_interps[i])
    ds = None
    return path


def pan_ms_pair(
    folder: Path,
    *,
    size: int = 64,
    ratio: int = 4,
    bands: int = 4,
    dtype: str = "uint16",
    pan_px: float = 0.5,
    origin: tuple[float, float] = (500000.0, 4000000.0),
    ms_shift: tuple[float, float] = (0.0, 0.0),
    seed: int = 0,
    ms_nodata: float | None = None,
    pan_nodata: float | None = None,
) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """A textured PAN `size x size` and a matching MS `(bands, size/r, size/r)` on one grid.

    `ms_shift` moves the MS origin by that many metres (east, north).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    base = 300 + 200 * np.sin(xx / 7.0) * np.cos(yy / 5.0) + 30 * rng.standard_normal((size, size))
    pan = base.clip(1, 60000).astype(dtype)
    h = size // ratio
    ms = np.stack(
        [
            base.reshape(h, ratio, h, ratio).mean(axis=(1, 3)) * (0.6 + 0.2 * b) + 20 * b
            for b in range(bands)
        ]
    )
    ms = ms.clip(1, 60000).astype(dtype)
    x0, y0 = origin
    pan_path = write_raster(
        folder / "pan.tif", pan, geotransform=(x0, pan_px, 0, y0, 0, -pan_px), nodata=pan_nodata
    )
    ms_px = pan_px * ratio
    ms_path = write_raster(
        folder / "ms.tif",
        ms,
        geotransform=(x0 + ms_shift[0], ms_px, 0, y0 + ms_shift[1], 0, -ms_px),
        nodata=ms_nodata,
        descriptions=[f"band {b + 1}" for b in range(bands)],
        color_interps=[gdal.GCI_BlueBand, gdal.GCI_GreenBand, gdal.GCI_RedBand, gdal.GCI_Undefined][
            :bands
        ]
        if bands <= 4
        else None,
    )
    return pan_path, ms_path, pan, ms


def tiny_model(folder: Path, ms_bands: int = 4, ratio: int = 4, seed: int = 0) -> Path:
    """A random-initialised tiny MMMamba saved as a model file (safetensors + card)."""
    import torch

    from backend.model.config import MMMambaConfig
    from backend.model.network import MMMamba
    from backend.model.store import ModelCard, save_model
    from backend.normalize import method_card

    torch.manual_seed(seed)
    cfg = MMMambaConfig.tiny(ms_bands=ms_bands, ratio=ratio)
    net = MMMamba(cfg)
    path = folder / f"tiny{ms_bands}.safetensors"
    card = ModelCard(
        name=f"tiny{ms_bands}",
        bands=[f"b{i + 1}" for i in range(ms_bands)],
        sensors=["test"],
        normalisation=method_card(),
        description="random-initialised tiny network for tests",
    )
    save_model(path, net, card)
    return path

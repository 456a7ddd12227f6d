"""Open and inspect rasters with GDAL, turning GDAL's failures into actionable `InputError`s.

Library calls never change GDAL's global exception mode (a QGIS process shares it with other
code): errors are caught through a scoped error handler and return values are checked instead.
Only the command line, which owns its process, sets the mode (`use_return_codes_in_this_process`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

from ..errors import InputError
from .window import Window

log = logging.getLogger(__name__)

GeoTransform = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class BandInfo:
    """What the pipeline needs to know about one band (1-based `index`)."""

    index: int
    dtype: str  # NumPy dtype name, e.g. "uint16"
    nodata: float | None
    description: str
    color_interp: int  # gdal.GCI_* value
    scale: float | None = None
    offset: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def color_interp_name(self) -> str:
        """GDAL's name of the colour interpretation, e.g. "Red"."""
        return gdal.GetColorInterpretationName(self.color_interp)


@dataclass(frozen=True)
class RasterInfo:
    """CRS, geotransform, size and band properties of a raster, read once at open time."""

    path: str
    driver: str
    width: int
    height: int
    crs_wkt: str | None
    geotransform: GeoTransform | None
    bands: tuple[BandInfo, ...]

    @property
    def count(self) -> int:
        """Number of bands."""
        return len(self.bands)

    @property
    def dtype(self) -> str:
        """NumPy dtype name of the first band (rasters rarely mix types; see `dtypes`)."""
        return self.bands[0].dtype

    @property
    def nodata(self) -> float | None:
        """Nodata value of the first band, None if unset."""
        return self.bands[0].nodata

    @property
    def band_descriptions(self) -> list[str]:
        """One description per band ("" where unset)."""
        return [b.description for b in self.bands]

    @property
    def color_interps(self) -> list[int]:
        """One gdal.GCI_* value per band."""
        return [b.color_interp for b in self.bands]

    @property
    def srs(self) -> osr.SpatialReference | None:
        """The CRS as an osr object with traditional (x=easting/longitude) axis order."""
        return srs_from_wkt(self.crs_wkt)

    @property
    def crs_label(self) -> str:
        """A short human label of the CRS, e.g. "EPSG:32649" (or "no CRS")."""
        srs = self.srs
        if srs is None:
            return "no CRS"
        code = srs.GetAuthorityCode(None)
        name = srs.GetAuthorityName(None)
        return f"{name}:{code}" if code and name else (srs.GetName() or "custom CRS")


def srs_from_wkt(wkt: str | None) -> osr.SpatialReference | None:
    """An osr SpatialReference in x/y (traditional GIS) axis order, or None for an empty WKT."""
    if not wkt:
        return None
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


class _GdalMessages:
    """Collects GDAL error/warning messages raised while a scoped handler is installed."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def __call__(self, err_class: int, err_no: int, msg: str) -> None:
        if err_class >= gdal.CE_Failure:
            self.errors.append(msg)
        elif err_class == gdal.CE_Warning:
            self.warnings.append(msg)

    @property
    def last_error(self) -> str:
        return self.errors[-1] if self.errors else ""


def use_return_codes_in_this_process() -> None:
    """Choose GDAL's error mode for a process the backend owns (its command line): failures as
    return values, GDAL 3's default and what this module checks for. Choosing it explicitly
    keeps GDAL >= 3.9 from warning that no mode was chosen. Library callers (a QGIS process)
    keep the mode of their process: the backend works in both."""
    gdal.DontUseExceptions()
    osr.DontUseExceptions()


@contextlib.contextmanager
def gdal_messages() -> Iterator[_GdalMessages]:
    """Route GDAL messages to a collector for the duration of the block (nothing on stderr).

    When the host process turned GDAL exceptions on, a failing call raises RuntimeError instead
    of returning None: the error is recorded and the block ends there, so callers initialise
    their results to None before the block and check them after it, in both modes.
    """
    collector = _GdalMessages()
    gdal.PushErrorHandler(collector)
    try:
        yield collector
    except RuntimeError as exc:
        collector.errors.append(str(exc))
    finally:
        gdal.PopErrorHandler()
        for w in collector.warnings:
            log.debug("GDAL warning: %s", w)


def open_raster(path: str | os.PathLike[str], what: str = "raster") -> gdal.Dataset:
    """Open a raster read-only, or raise `InputError` saying why it cannot be used.

    Args:
        path: file path (or any GDAL connection string).
        what: how the message names the input, e.g. "PAN raster".
    """
    p = str(path)
    if not p:
        raise InputError(f"No {what} was given: pass the path of a GDAL-readable raster.")
    if "://" not in p and not p.startswith("/vsi") and not Path(p).exists():
        raise InputError(f"The {what} '{p}' does not exist: check the path.")
    if Path(p).is_dir() and not p.lower().endswith((".gdb", ".zarr", ".safe")):
        raise InputError(f"The {what} '{p}' is a folder, not a raster file.")
    ds = None
    with gdal_messages() as msgs:
        ds = gdal.Open(p, gdal.GA_ReadOnly)
    if ds is None:
        reason = msgs.last_error or "GDAL does not recognise it as a raster"
        raise InputError(
            f"The {what} '{p}' cannot be read as a raster ({reason}): "
            "pass a GDAL-readable raster such as a GeoTIFF."
        )
    if ds.RasterCount == 0 or ds.RasterXSize == 0 or ds.RasterYSize == 0:
        raise InputError(
            f"The {what} '{p}' holds no raster band (a vector file or an empty container?): "
            "pass a raster with at least one band."
        )
    return ds


def _band_info(band: gdal.Band, index: int) -> BandInfo:
    dtype = gdal_to_numpy_dtype(band.DataType)
    nodata = band.GetNoDataValue()
    scale = band.GetScale()
    offset = band.GetOffset()
    return BandInfo(
        index=index,
        dtype=dtype,
        nodata=None if nodata is None else float(nodata),
        description=band.GetDescription() or "",
        color_interp=band.GetColorInterpretation(),
        scale=None if scale in (None, 1.0) else float(scale),
        offset=None if offset in (None, 0.0) else float(offset),
        metadata=dict(band.GetMetadata() or {}),
    )


def gdal_to_numpy_dtype(gdal_type: int) -> str:
    """NumPy dtype name of a GDAL data type; complex types are refused."""
    name = gdal.GetDataTypeName(gdal_type)
    table = {
        "Byte": "uint8",
        "Int8": "int8",
        "UInt16": "uint16",
        "Int16": "int16",
        "UInt32": "uint32",
        "Int32": "int32",
        "UInt64": "uint64",
        "Int64": "int64",
        "Float32": "float32",
        "Float64": "float64",
    }
    if name not in table:
        raise InputError(
            f"Bands of type {name} are not supported: convert the raster to a real-valued type "
            "(e.g. gdal_translate -ot Float32)."
        )
    return table[name]


def numpy_to_gdal_dtype(dtype: str | np.dtype) -> int:
    """GDAL data type of a NumPy dtype (uint8 -> GDT_Byte, ...)."""
    name = np.dtype(dtype).name
    table = {
        "uint8": gdal.GDT_Byte,
        "int8": getattr(gdal, "GDT_Int8", gdal.GDT_Int16),  # GDT_Int8 exists from GDAL 3.7
        "uint16": gdal.GDT_UInt16,
        "int16": gdal.GDT_Int16,
        "uint32": gdal.GDT_UInt32,
        "int32": gdal.GDT_Int32,
        "uint64": getattr(gdal, "GDT_UInt64", gdal.GDT_Float64),
        "int64": getattr(gdal, "GDT_Int64", gdal.GDT_Float64),
        "float32": gdal.GDT_Float32,
        "float64": gdal.GDT_Float64,
    }
    if name not in table:
        raise InputError(f"Output type {name} is not supported: use e.g. uint16 or float32.")
    return table[name]


def inspect_raster(ds: gdal.Dataset, path: str | None = None) -> RasterInfo:
    """Read size, CRS, geotransform and band properties of an open dataset."""
    gt = ds.GetGeoTransform(can_return_null=True)
    wkt = ds.GetProjection() or None
    return RasterInfo(
        path=path or ds.GetDescription(),
        driver=ds.GetDriver().ShortName if ds.GetDriver() is not None else "",
        width=ds.RasterXSize,
        height=ds.RasterYSize,
        crs_wkt=wkt,
        geotransform=None if gt is None else tuple(float(v) for v in gt),  # type: ignore[arg-type]
        bands=tuple(_band_info(ds.GetRasterBand(i), i) for i in range(1, ds.RasterCount + 1)),
    )


def band_validity(band: gdal.Band, values: np.ndarray, window: Window) -> np.ndarray:
    """Valid-pixel mask `(h, w)` of `values` read from `band` at `window`.

    A pixel is invalid where it equals the band's nodata value, is NaN/inf, or where a per-dataset
    mask or alpha band says so (GDAL's mask band covers all three kinds of declaration).
    """
    valid = np.ones(values.shape, dtype=bool)
    if values.dtype.kind == "f":
        valid &= np.isfinite(values)
    flags = band.GetMaskFlags()
    if flags & gdal.GMF_NODATA:
        nodata = band.GetNoDataValue()
        if nodata is not None and not np.isnan(nodata):
            # A Python float compares in the array's own type when it fits (NumPy value-based
            # casting), so float32 nodata such as -3.4e38 matches; an unrepresentable value
            # (e.g. -9999 on uint16) matches nothing, as GDAL itself would.
            valid &= values != nodata
    elif not flags & gdal.GMF_ALL_VALID:
        mask = None
        with gdal_messages():
            mask = band.GetMaskBand().ReadAsArray(
                window.col_off, window.row_off, window.width, window.height
            )
        if mask is None:
            raise InputError(
                f"Cannot read the validity mask of '{band.GetDataset().GetDescription()}'."
            )
        valid &= mask > 0
    return valid


def read_band(band: gdal.Band, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Read one band window as float32 with its validity mask.

    Returns:
        `(values (h, w) float32, valid (h, w) bool)`; invalid pixels hold arbitrary numbers.
    """
    raw = None
    with gdal_messages() as msgs:
        raw = band.ReadAsArray(window.col_off, window.row_off, window.width, window.height)
    if raw is None:
        ds = band.GetDataset()
        raise InputError(
            f"Reading {window} of '{ds.GetDescription() if ds else 'raster'}' failed "
            f"({msgs.last_error or 'unknown GDAL error'}): is the file truncated or corrupt?"
        )
    valid = band_validity(band, raw, window)
    return raw.astype(np.float32, copy=False), valid


def read_bands(
    ds: gdal.Dataset, bands: Sequence[int], window: Window
) -> tuple[np.ndarray, np.ndarray]:
    """Read several bands of a window; a pixel is valid only where every band is valid.

    Returns:
        `(values (C, h, w) float32, valid (h, w) bool)`.
    """
    out = np.empty((len(bands), window.height, window.width), dtype=np.float32)
    valid = np.ones((window.height, window.width), dtype=bool)
    for i, b in enumerate(bands):
        values, v = read_band(ds.GetRasterBand(b), window)
        out[i] = values
        valid &= v
    return out, valid


def sample_windows(width: int, height: int, max_pixels: int, patch: int = 64) -> list[Window]:
    """Windows that sample a `width x height` raster with at most about `max_pixels` pixels.

    Small rasters are read whole; large ones through a regular grid of `patch x patch` windows,
    so statistics cost the same on a 1k or a 100k scene and never read the whole raster.
    """
    if width * height <= max_pixels:
        return [Window(0, 0, width, height)]
    n = max(1, int(np.sqrt(max_pixels / (patch * patch))))
    nx = min(n, max(1, width // patch))
    ny = min(n, max(1, height // patch))
    pw, ph = min(patch, width), min(patch, height)
    xs = np.linspace(0, width - pw, nx).round().astype(int)
    ys = np.linspace(0, height - ph, ny).round().astype(int)
    return [Window(int(x), int(y), pw, ph) for y in ys for x in xs]

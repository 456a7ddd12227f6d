"""Pan-sharpen GeoTIFF (any GDAL raster) scenes of any size: the public `pansharpen()` function.

Steps: inspect both rasters; plan the grid (ratio from the geotransforms, intersection on the PAN
grid, MS resampled onto the PAN-aligned grid when needed); resolve and load the model; compute
the scene's normalisation scales from a bounded sample of valid pixels; stream overlapping tiles
through the network; write the blended result tile by tile into a temporary GeoTIFF that is
renamed onto the output at the end. Every check that can fail on the inputs runs before anything
is written, and a failure or cancellation later removes the temporary file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal

from .errors import InputError, OutputError
from .fuse import FusionModel, default_tile, load_fusion_model, make_grid, run_fusion
from .io.grid import GridPlan, MSGridReader, plan_grid
from .io.raster import (
    GeoTransform,
    RasterInfo,
    inspect_raster,
    open_raster,
    read_band,
    sample_windows,
)
from .io.window import Window
from .io.writer import AtomicGeoTiffWriter, check_output_path, parse_creation_options
from .normalize import NormStats, percentile_for, scene_stats
from .progress import NullProgress, Progress, check_cancelled

log = logging.getLogger(__name__)

# Pixels sampled per band for the normalisation scales (bounded whatever the scene size).
STATS_SAMPLE_PIXELS = 1 << 20
# GDAL block cache while writing: a few rows of output blocks, not 5 % of the machine's RAM.
GDAL_CACHE_BYTES = 512 << 20

_DTYPE_ALIASES = {"byte": "uint8", "float": "float32", "double": "float64"}


@dataclass(frozen=True)
class PansharpenResult:
    """What `pansharpen` wrote and how.

    Attributes:
        path: the output GeoTIFF.
        width, height, bands: output size (PAN pixels of the intersection) and MS band count.
        ratio: PAN/MS ratio found from the geotransforms.
        dtype, nodata: output data type and nodata value (None: every pixel is valid).
        crs_wkt, geotransform: output georeferencing (PAN's, cropped to the intersection).
        model, model_path, device: the network that ran and where.
        tile, overlap, tiles, tiles_run: tiling used; tiles holding no valid pixel are skipped.
        warp_reason: why the MS was resampled onto the PAN grid ("" if it was not).
        valid_fraction: share of output pixels that hold data (the rest is nodata).
        stats: normalisation scales of the scene.
        seconds: wall-clock time.
    """

    path: Path
    width: int
    height: int
    bands: int
    ratio: int
    dtype: str
    nodata: float | None
    crs_wkt: str | None
    geotransform: GeoTransform | None
    model: str
    model_path: str | None
    device: str
    tile: int
    overlap: int
    tiles: int
    tiles_run: int
    warp_reason: str
    valid_fraction: float
    stats: NormStats
    seconds: float


class GdalSource:
    """`TileSource` over the PAN file (one band, cropped to the plan's window) and the MS grid."""

    def __init__(self, pan_ds: gdal.Dataset, pan_band: int, plan: GridPlan, ms: MSGridReader):
        self._ds = pan_ds  # a GDAL band must not outlive its dataset
        self._band = pan_ds.GetRasterBand(pan_band)
        self._plan = plan
        self._ms = ms
        self.ratio = plan.ratio
        self.width = plan.pan_window.width
        self.height = plan.pan_window.height
        self.bands = len(ms.bands)

    def read_pan(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """PAN window relative to the processed area; pixels beyond it are invalid."""
        out = np.zeros((window.height, window.width), np.float32)
        valid = np.zeros((window.height, window.width), bool)
        inside = window.intersection(Window(0, 0, self.width, self.height))
        if not inside.empty:
            pw = self._plan.pan_window
            vals, v = read_band(self._band, inside.shift(pw.col_off, pw.row_off))
            dst = inside.relative_to(window).slices()
            out[dst] = vals
            valid[dst] = v
        return out, valid

    def read_ms(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """MS window on the PAN-aligned MS grid."""
        return self._ms.read(window)


def _normalise_dtype(dtype: str | None, default: str) -> str:
    if dtype is None:
        return default
    name = _DTYPE_ALIASES.get(dtype.strip().lower(), dtype.strip().lower())
    allowed = ("uint8", "uint16", "int16", "uint32", "int32", "float32", "float64")
    if name not in allowed:
        raise InputError(
            f"Output type '{dtype}' is not supported: use one of {', '.join(allowed)}."
        )
    return name


def _representable(value: float | None, dtype: str) -> bool:
    if value is None:
        return False
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return bool(np.isnan(value) or abs(value) <= np.finfo(dt).max)
    info = np.iinfo(dt)
    return bool(np.isfinite(value) and float(value).is_integer() and info.min <= value <= info.max)


def _mask_declared(ds: gdal.Dataset, bands: Sequence[int]) -> bool:
    return any(not ds.GetRasterBand(b).GetMaskFlags() & gdal.GMF_ALL_VALID for b in bands)


def output_nodata(
    pan: RasterInfo,
    ms: RasterInfo,
    pan_ds: gdal.Dataset,
    ms_ds: gdal.Dataset,
    pan_band: int,
    plan: GridPlan,
    dtype: str,
) -> float | None:
    """The nodata value of the output, or None when every output pixel is certainly valid.

    The MS's nodata is kept when the output type can hold it, else the PAN's; otherwise 0 for
    unsigned integers, the type's minimum for signed ones and -9999 for floats.
    """
    crs_warp = plan.needs_warp and plan.warp_reason.startswith("MS CRS")
    may_be_invalid = (
        crs_warp
        or _mask_declared(ms_ds, range(1, ms.count + 1))
        or _mask_declared(pan_ds, [pan_band])
        or pan.bands[pan_band - 1].dtype.startswith("float")
        or ms.dtype.startswith("float")
    )
    if not may_be_invalid:
        return None
    for cand in (ms.nodata, pan.bands[pan_band - 1].nodata):
        if _representable(cand, dtype):
            return float(cand)  # type: ignore[arg-type]
    dt = np.dtype(dtype)
    if dt.kind == "u":
        return 0.0
    if dt.kind == "i":
        return float(np.iinfo(dt).min)
    return -9999.0


def to_output(
    values: np.ndarray, dtype: str, nodata: float | None, invalid: np.ndarray | None = None
) -> np.ndarray:
    """`(C, h, w)` float32 (NaN = invalid) to the output type: rounded, clipped, nodata set.

    Valid values that would equal the nodata value are moved one step into the type's range, so
    a dark valid pixel never turns into a hole. `invalid` (h, w), if given, must be
    `isnan(values).any(axis=0)`.
    """
    dt = np.dtype(dtype)
    if invalid is None:
        invalid = np.isnan(values).any(axis=0)
    if dt.kind == "f":
        lo, hi = float(np.finfo(dt).min), float(np.finfo(dt).max)
        out = np.clip(values, lo, hi).astype(dt)
    else:
        info = np.iinfo(dt)
        t = np.rint(values)
        np.clip(t, info.min, info.max, out=t)
        with np.errstate(invalid="ignore"):  # NaN pixels: every band is overwritten below
            out = t.astype(dt)
    if nodata is not None:
        if not np.isnan(nodata):
            nd = dt.type(nodata)
            if dt.kind == "f":
                step = np.nextafter(nd, dt.type(np.inf))
            else:
                step = nd + 1 if nd < np.iinfo(dt).max else nd - 1
            clash = (out == nd) & ~invalid
            if clash.any():
                out[clash] = step
        out[:, invalid] = dt.type(nodata)
    elif invalid.any():
        out[:, invalid] = 0
    return out


def write_cell(
    writer: AtomicGeoTiffWriter, win: Window, values: np.ndarray, dtype: str, nodata: float | None
) -> int:
    """Write one finished `(C, h, w)` float32 cell (NaN = invalid) in the output type; returns
    its number of valid pixels."""
    invalid = np.isnan(values).any(axis=0)
    writer.write(win, to_output(values, dtype, nodata, invalid))
    return invalid.size - int(np.count_nonzero(invalid))


def _collect_samples(read: Any, width: int, height: int, max_pixels: int) -> np.ndarray | None:
    """Valid-pixel samples `(C, n)` gathered through `read(window) -> (values, valid)`.

    Reads a bounded grid of patches; if that finds no valid pixel (a scene that is mostly
    nodata), scans the whole area in strips, still with bounded memory. Returns None if nothing
    is valid at all.
    """

    def gather(windows: Iterator[Window] | list[Window]) -> list[np.ndarray]:
        parts: list[np.ndarray] = []
        for win in windows:
            vals, valid = read(win)
            if vals.ndim == 2:
                vals = vals[None]
            if valid.any():
                parts.append(vals[:, valid])
        return parts

    parts = gather(sample_windows(width, height, max_pixels))
    if not parts:
        rows = max(1, max_pixels // max(width, 1))
        strips = (Window(0, r, width, min(rows, height - r)) for r in range(0, height, rows))
        parts = gather(strips)
        if not parts:
            return None
        # Keep the sample bounded: every k-th value.
        total = sum(p.shape[1] for p in parts)
        k = max(1, total // max_pixels)
        parts = [p[:, ::k] for p in parts]
    return np.concatenate(parts, axis=1)


@contextlib.contextmanager
def _bounded_gdal_cache(limit: int) -> Iterator[None]:
    old = gdal.GetCacheMax()
    if old > limit:
        gdal.SetCacheMax(limit)
    try:
        yield
    finally:
        gdal.SetCacheMax(old)


def pansharpen(
    pan: str | os.PathLike[str],
    ms: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    model: Any = None,
    device: str = "auto",
    tile: int | None = None,
    overlap: int | None = None,
    batch: int = 1,
    pan_band: int | None = None,
    dtype: str | None = None,
    creation_options: Sequence[str] | dict[str, str] | None = None,
    cog: bool = False,
    progress: Progress | None = None,
) -> PansharpenResult:
    """Pan-sharpen a PAN and an MS raster into a georeferenced GeoTIFF on the PAN grid.

    Args:
        pan: panchromatic raster (one band, or pick one with `pan_band`).
        ms: multispectral raster; its band count selects the default model.
        out: output GeoTIFF path (replaced atomically if it exists).
        model: None (shipped model fitting the MS band count), a name or path of a model file,
            or a `LoadedModel`.
        device: "auto", "cpu", "cuda" or "cuda:N".
        tile: largest tile size in PAN pixels (rounded up to a multiple of the ratio); None:
            1024 on a GPU, 512 on a CPU (`backend.fuse.default_tile`).
        overlap: overlap between tiles in PAN pixels; None uses the measured default.
        batch: tiles per network call.
        pan_band: 1-based band of a multi-band PAN raster.
        dtype: output type; None keeps the MS type.
        creation_options: GTiff/COG creation options (`["KEY=VALUE", ...]` or a dict).
        cog: write a Cloud Optimized GeoTIFF.
        progress: progress and cancel callbacks.

    Returns:
        A `PansharpenResult` describing the output.

    Raises:
        InputError, ModelFileError, OutputError: with a sentence naming the fix.
        Cancelled: when `progress.is_cancelled()` turned true; nothing is left on disk.
    """
    t0 = time.perf_counter()
    progress = progress or NullProgress()
    if batch < 1:
        raise InputError(f"Batch size must be at least 1, got {batch}.")
    pan_ds = open_raster(pan, "PAN raster")
    ms_ds = open_raster(ms, "MS raster")
    pan_info = inspect_raster(pan_ds, str(pan))
    ms_info = inspect_raster(ms_ds, str(ms))
    if pan_band is None:
        if pan_info.count > 1:
            raise InputError(
                f"The PAN raster '{pan}' has {pan_info.count} bands: say which one is the "
                "panchromatic band with --pan-band N (1-based)."
            )
        pan_band = 1
    elif not 1 <= pan_band <= pan_info.count:
        raise InputError(
            f"--pan-band {pan_band} is out of range: the PAN raster has {pan_info.count} band(s)."
        )
    plan = plan_grid(pan_info, ms_info)
    out_dtype = _normalise_dtype(dtype, ms_info.dtype)
    parse_creation_options(creation_options)  # reject malformed options before any work
    out_path = check_output_path(out)
    for given, what in ((pan, "PAN"), (ms, "MS")):
        if Path(given).exists() and out_path.resolve() == Path(given).resolve():
            raise OutputError(
                f"The output '{out}' is the {what} input: choose another output file name."
            )
    w, h = plan.pan_window.width, plan.pan_window.height
    if tile is not None:
        make_grid(w, h, plan.ratio, tile, overlap)  # bad tile or overlap: fail before the model
    fm: FusionModel = load_fusion_model(model, ms_info.count, plan.ratio, device)
    grid = make_grid(w, h, plan.ratio, default_tile(fm.device) if tile is None else tile, overlap)
    progress.info(
        f"PAN/MS ratio {plan.ratio} (measured {plan.measured_ratio[0]:.4f} x "
        f"{plan.measured_ratio[1]:.4f}); processing {plan.pan_window.width} x "
        f"{plan.pan_window.height} PAN pixels at offset ({plan.pan_window.col_off}, "
        f"{plan.pan_window.row_off}) in {len(grid)} tile(s) of {grid.tile_width} x "
        f"{grid.tile_height}, overlap {grid.overlap}"
    )
    if plan.needs_warp:
        progress.info(f"Resampling the MS onto the PAN grid (cubic): {plan.warp_reason}.")
    progress.info(f"Model '{fm.name}' on {fm.device}.")

    ms_reader = MSGridReader(ms_ds, ms_info, plan)
    source = GdalSource(pan_ds, pan_band, plan, ms_reader)
    pan_sample = _collect_samples(source.read_pan, source.width, source.height, STATS_SAMPLE_PIXELS)
    if pan_sample is None:
        raise InputError(
            f"The PAN raster '{pan}' holds no valid pixel in the area shared with the MS."
        )
    ms_sample = _collect_samples(ms_reader.read, plan.ms_width, plan.ms_height, STATS_SAMPLE_PIXELS)
    if ms_sample is None:
        raise InputError(
            f"The MS raster '{ms}' holds no valid pixel in the area shared with the PAN."
        )
    stats = scene_stats(pan_sample[0], list(ms_sample), percentile_for(fm.normalisation))
    log.info("normalisation scales: %s", stats.to_dict())
    nodata = output_nodata(pan_info, ms_info, pan_ds, ms_ds, pan_band, plan, out_dtype)
    # Output bands keep every property of the input bands but their type and nodata.
    out_bands = [replace(b, dtype=out_dtype, nodata=nodata) for b in ms_info.bands]
    n_valid = 0
    check_cancelled(progress)
    with (
        _bounded_gdal_cache(GDAL_CACHE_BYTES),
        AtomicGeoTiffWriter(
            out,
            width=source.width,
            height=source.height,
            dtype=out_dtype,
            bands=out_bands,
            geotransform=plan.geotransform,
            crs_wkt=plan.crs_wkt,
            nodata=nodata,
            creation_options=creation_options,
            cog=cog,
        ) as writer,
    ):

        def sink(win: Window, values: np.ndarray) -> None:
            nonlocal n_valid
            n_valid += write_cell(writer, win, values, out_dtype, nodata)

        tiles_run = run_fusion(source, grid, fm, stats, sink, batch=batch, progress=progress)
        check_cancelled(progress)
        if n_valid == 0:
            raise InputError(
                "PAN and MS have no valid pixel in common (their nodata areas cover each other): "
                "nothing to write."
            )
        path = writer.commit()
    total = source.width * source.height
    result = PansharpenResult(
        path=path,
        width=source.width,
        height=source.height,
        bands=ms_info.count,
        ratio=plan.ratio,
        dtype=out_dtype,
        nodata=nodata,
        crs_wkt=plan.crs_wkt,
        geotransform=plan.geotransform,
        model=fm.name,
        model_path=fm.path,
        device=str(fm.device),
        tile=grid.tile_width,
        overlap=grid.overlap,
        tiles=len(grid),
        tiles_run=tiles_run,
        warp_reason=plan.warp_reason,
        valid_fraction=n_valid / total,
        stats=stats,
        seconds=time.perf_counter() - t0,
    )
    progress.info(
        f"Wrote {path} ({result.width} x {result.height}, {result.bands} bands, {out_dtype}) in "
        f"{result.seconds:.1f} s."
    )
    progress.set_fraction(1.0)
    return result

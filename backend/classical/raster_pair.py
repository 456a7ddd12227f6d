"""Read a small co-registered PAN + MS pair from georeferenced rasters into memory.

Used by the quality assessment and by the file front-end of the classical methods, which work on
scenes (or windows of scenes) small enough to hold in memory. The MS grid decides the common area:
PAN is cut to whole MS pixels so that PAN is exactly `ratio` times MS.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..errors import InputError
from ..io.window import Window

log = logging.getLogger(__name__)

RATIO_TOLERANCE = 0.05
"""Largest relative gap between the pixel-size ratio and the nearest integer that is accepted."""


@dataclass
class RasterPair:
    """A PAN band and the MS image over the same ground, PAN exactly `ratio` times finer.

    Attributes:
        pan: PAN band (H, W) float32.
        ms: MS image (C, H/ratio, W/ratio) float32.
        ratio: Integer resolution ratio.
        pan_window: Where `pan` lies in the PAN raster.
        ms_window: Where `ms` lies in the MS raster.
        geotransform: GDAL geotransform of the `pan` array.
        projection: WKT of the PAN raster ('' when none).
        rgb: 1-based MS bands tagged red, green and blue in the file, or None.
    """

    pan: np.ndarray
    ms: np.ndarray
    ratio: int
    pan_window: Window
    ms_window: Window
    geotransform: tuple[float, ...]
    projection: str
    rgb: tuple[int, int, int] | None = None


def _rgb_bands(ds: gdal.Dataset) -> tuple[int, int, int] | None:
    """MS bands whose colour interpretation says red, green and blue (1-based), if all three."""
    found = {}
    for b in range(1, ds.RasterCount + 1):
        found.setdefault(ds.GetRasterBand(b).GetColorInterpretation(), b)
    keys = (gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand)
    return tuple(found[k] for k in keys) if all(k in found for k in keys) else None  # type: ignore[return-value]


def _open(path: str | Path) -> gdal.Dataset:
    if not Path(path).exists():
        raise InputError(f"Raster {path} does not exist.")
    ds = gdal.Open(str(path))
    if ds is None:
        raise InputError(f"Cannot open raster {path}: {gdal.GetLastErrorMsg() or 'not a raster'}.")
    return ds


def _has_georef(ds: gdal.Dataset) -> bool:
    return tuple(ds.GetGeoTransform()) != (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _ratio(pan: gdal.Dataset, ms: gdal.Dataset, ratio: int | None, names: tuple[str, str]) -> int:
    if ratio is not None:
        if int(ratio) != ratio or ratio < 2:
            raise InputError(f"The resolution ratio must be an integer >= 2, got {ratio}.")
        return int(ratio)
    if not (_has_georef(pan) and _has_georef(ms)):
        rx, ry = pan.RasterXSize / ms.RasterXSize, pan.RasterYSize / ms.RasterYSize
        source = "raster sizes (no georeferencing)"
    else:
        gp, gm = pan.GetGeoTransform(), ms.GetGeoTransform()
        if gp[2] or gp[4] or gm[2] or gm[4]:
            raise InputError(
                f"{names[0]} or {names[1]} is rotated: warp both to a north-up grid first."
            )
        rx, ry = gm[1] / gp[1], gm[5] / gp[5]
        source = "pixel sizes"
    r = round(rx)
    if r < 2 or abs(rx - r) > RATIO_TOLERANCE * r or abs(ry - r) > RATIO_TOLERANCE * r:
        raise InputError(
            f"The {source} of {names[1]} and {names[0]} give a ratio of {rx:.3f} x {ry:.3f}, "
            "not an integer >= 2: resample MS to an integer multiple of the PAN pixel."
        )
    return int(r)


def _common_windows(
    pan: gdal.Dataset, ms: gdal.Dataset, r: int, names: tuple[str, str]
) -> tuple[Window, Window]:
    """Windows of PAN and MS that hold the same ground, PAN exactly r times MS."""
    pw, ph, mw, mh = pan.RasterXSize, pan.RasterYSize, ms.RasterXSize, ms.RasterYSize
    if (pw, ph) == (mw * r, mh * r) or not (_has_georef(pan) and _has_georef(ms)):
        if (pw, ph) != (mw * r, mh * r):
            raise InputError(
                f"{names[0]} ({pw} x {ph}) is not {r} times {names[1]} ({mw} x {mh}) and has no "
                "georeferencing to line them up: crop both to the same ground."
            )
        if _has_georef(pan):
            gp, gm = pan.GetGeoTransform(), ms.GetGeoTransform()
            off = math.hypot((gm[0] - gp[0]) / gp[1], (gm[3] - gp[3]) / gp[5])
            if off > 1.0:
                log.warning(
                    "%s and %s corners differ by %.1f PAN pixels; their sizes match the ratio "
                    "exactly, so they are taken as covering the same ground",
                    names[0],
                    names[1],
                    off,
                )
        return Window(0, 0, pw, ph), Window(0, 0, mw, mh)
    gp, gm = pan.GetGeoTransform(), ms.GetGeoTransform()
    # Corner of MS pixel (0, 0) in PAN pixel coordinates.
    ox = (gm[0] - gp[0]) / gp[1]
    oy = (gm[3] - gp[3]) / gp[5]
    # MS pixels whose footprint lies inside PAN (half a PAN pixel of slack for rounding).
    c0 = max(0, math.ceil((-0.5 - ox) / r))
    r0 = max(0, math.ceil((-0.5 - oy) / r))
    c1 = min(mw, math.floor((pw + 0.5 - ox) / r))
    r1 = min(mh, math.floor((ph + 0.5 - oy) / r))
    if c1 <= c0 or r1 <= r0:
        raise InputError(f"{names[0]} and {names[1]} do not overlap.")
    px, py = ox + r * c0, oy + r * r0
    shift = math.hypot(px - round(px), py - round(py))
    if shift > 0.25:
        log.warning(
            "%s and %s grids are offset by %.2f PAN pixels; the nearest alignment is used",
            names[0],
            names[1],
            shift,
        )
    ms_win = Window(c0, r0, c1 - c0, r1 - r0)
    pan_win = Window(round(px), round(py), ms_win.width * r, ms_win.height * r)
    # Rounding may push the last PAN row or column out by one: drop that MS pixel.
    while pan_win.col_end > pw or pan_win.row_end > ph:
        ms_win = Window(
            ms_win.col_off,
            ms_win.row_off,
            ms_win.width - (pan_win.col_end > pw),
            ms_win.height - (pan_win.row_end > ph),
        )
        pan_win = Window(pan_win.col_off, pan_win.row_off, ms_win.width * r, ms_win.height * r)
    if ms_win.empty:
        raise InputError(f"{names[0]} and {names[1]} do not overlap.")
    return pan_win, ms_win


def restrict_windows(
    pan_win: Window, ms_win: Window, r: int, window: Window | None, max_size: int | None
) -> tuple[Window, Window]:
    """Cut matching PAN and MS windows to a user window (PAN pixels) and to `max_size` PAN pixels.

    Both stay on whole MS pixels, PAN exactly `r` times MS; an over-size area keeps its centre.
    """
    if window is not None:
        # User window in PAN pixels -> whole MS pixels inside it.
        rel = window.relative_to(pan_win)
        c0 = max(0, -(-rel.col_off // r))
        r0 = max(0, -(-rel.row_off // r))
        c1 = min(ms_win.width, rel.col_end // r)
        r1 = min(ms_win.height, rel.row_end // r)
        if c1 <= c0 or r1 <= r0:
            raise InputError(
                f"The window {window} holds no whole MS pixel of the area PAN and MS share."
            )
        ms_win = Window(ms_win.col_off + c0, ms_win.row_off + r0, c1 - c0, r1 - r0)
        pan_win = Window(
            pan_win.col_off + c0 * r, pan_win.row_off + r0 * r, (c1 - c0) * r, (r1 - r0) * r
        )
    if max_size is not None:
        limit = max(1, max_size // r)
        if ms_win.width > limit or ms_win.height > limit:
            w, h = min(ms_win.width, limit), min(ms_win.height, limit)
            dc, dr = (ms_win.width - w) // 2, (ms_win.height - h) // 2
            log.info("Using the central %d x %d PAN pixels of the shared area", w * r, h * r)
            ms_win = Window(ms_win.col_off + dc, ms_win.row_off + dr, w, h)
            pan_win = Window(pan_win.col_off + dc * r, pan_win.row_off + dr * r, w * r, h * r)
    return pan_win, ms_win


def _read(ds: gdal.Dataset, bands: list[int], win: Window, name: str) -> np.ndarray:
    out = np.empty((len(bands), win.height, win.width), dtype=np.float32)
    for i, b in enumerate(bands):
        band = ds.GetRasterBand(b)
        data = band.ReadAsArray(win.col_off, win.row_off, win.width, win.height)
        if data is None:
            raise InputError(f"Cannot read band {b} of {name}: {gdal.GetLastErrorMsg()}")
        nodata = band.GetNoDataValue()
        if nodata is not None and (
            np.isnan(data).any() if math.isnan(nodata) else np.any(data == nodata)
        ):
            raise InputError(
                f"{name} has nodata pixels in the area assessed: choose a window inside the "
                "valid data."
            )
        out[i] = data
    return out


def read_pair(
    pan_path: str | Path,
    ms_path: str | Path,
    *,
    ratio: int | None = None,
    window: Window | None = None,
    max_size: int | None = None,
    pan_band: int = 1,
) -> RasterPair:
    """Read the area PAN and MS share, cut to whole MS pixels.

    Args:
        pan_path: PAN raster.
        ms_path: MS raster (all bands).
        ratio: Resolution ratio; default from the pixel sizes (or raster sizes without
            georeferencing), rounded to an integer within 5 %.
        window: Optional area in PAN pixel coordinates; shrunk to whole MS pixels.
        max_size: Largest PAN side in pixels; larger areas are cut to their centre.
        pan_band: Band of the PAN raster (1-based).

    Returns:
        The pair in memory with its windows and PAN geotransform.
    """
    names = (Path(pan_path).name, Path(ms_path).name)
    pan_ds, ms_ds = _open(pan_path), _open(ms_path)
    if not 1 <= pan_band <= pan_ds.RasterCount:
        raise InputError(f"{names[0]} has no band {pan_band}.")
    if pan_ds.RasterCount > 1 and pan_band == 1:
        log.warning("%s has %d bands: band 1 is used as PAN", names[0], pan_ds.RasterCount)
    r = _ratio(pan_ds, ms_ds, ratio, names)
    pan_win, ms_win = _common_windows(pan_ds, ms_ds, r, names)
    pan_win, ms_win = restrict_windows(pan_win, ms_win, r, window, max_size)
    pan = _read(pan_ds, [pan_band], pan_win, names[0])[0]
    ms = _read(ms_ds, list(range(1, ms_ds.RasterCount + 1)), ms_win, names[1])
    gt = list(pan_ds.GetGeoTransform())
    gt[0] += pan_win.col_off * gt[1] + pan_win.row_off * gt[2]
    gt[3] += pan_win.col_off * gt[4] + pan_win.row_off * gt[5]
    return RasterPair(
        pan, ms, r, pan_win, ms_win, tuple(gt), pan_ds.GetProjection() or "", _rgb_bands(ms_ds)
    )

"""The PAN input of zero-shot super-resolution: a real guide band, or one made from the image.

Guided mode: any co-registered single band at the target resolution plays the PAN role (a
panchromatic band, a Sentinel-2 10 m band for its 20 m bands, the luminance of an aerial image).
Its grid must be the input's grid refined by an integer factor: same CRS, pixel size exactly
`input pixel / scale`, and the input's origin on a guide pixel corner. The guide may be larger than
the input (only the window over the input is read) but must cover all of it. A multi-band guide
gives its luminance (mean of its bands) unless `guide_band` picks one.

Unguided mode: the network still needs a PAN. It gets the mean of the normalised input bands
interpolated to the output grid with the network's own interpolation (bicubic, pixel centres
aligned): it holds no detail the input lacks, but it tells the network where edges are at the
output resolution, and internal learning (`backend.sr_adapt`) teaches the network, from the image
itself, how to turn it into detail. The same function builds the PAN of the training pairs and of
the final run, so both see the same kind of input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from .errors import InputError
from .fill import fill_invalid
from .io.raster import GeoTransform, RasterInfo, read_bands
from .io.window import Window

# Relative tolerance on "pixel size = input pixel / scale" (rounded geotransforms such as
# 300.0379 / 4 written with 6 digits still pass; a 10 m guide for a 30 m input with scale 2 fails).
PIXEL_SIZE_TOLERANCE = 1e-3
# How far (in guide pixels) the input origin may lie from a guide pixel corner.
ALIGN_TOLERANCE = 0.01
# Input pixels read around a window to synthesise its PAN (support of the bicubic kernel + 1).
SYNTH_MARGIN = 3


@dataclass(frozen=True)
class GuideGrid:
    """Where the output grid lies in the guide raster.

    Attributes:
        ratio: guide pixels per input pixel along each axis (the super-resolution scale).
        col_off, row_off: guide pixel of the output grid's pixel (0, 0).
        band: 1-based guide band, or None for the luminance (mean of all bands).
        geotransform: geotransform of the output grid (input origin, guide pixel size), or None
            when neither raster is georeferenced.
    """

    ratio: int
    col_off: int
    row_off: int
    band: int | None
    geotransform: GeoTransform | None


def _check_band(guide: RasterInfo, band: int | None) -> int | None:
    if band is None:
        return None
    if not 1 <= band <= guide.count:
        raise InputError(
            f"--guide-band {band} is out of range: the guide '{guide.path}' has {guide.count} "
            "band(s) (bands are numbered from 1)."
        )
    return band


def plan_guide(
    lr: RasterInfo, guide: RasterInfo, scale: int | None, band: int | None = None
) -> GuideGrid:
    """Check that `guide` can guide the super-resolution of `lr` and locate the output grid in it.

    Args:
        lr: the low-resolution input.
        guide: the high-resolution guide.
        scale: the requested scale, or None to take it from the two grids.
        band: 1-based guide band, None for the luminance of all its bands.

    Raises:
        InputError: different CRS, mixed georeferencing, rotated grids, a pixel size that is not
            the input's divided by an integer (or not by `scale`), a guide grid not aligned with
            the input's pixel corners, or a guide that does not cover the input.
    """
    band = _check_band(guide, band)
    if lr.geotransform is None and guide.geotransform is None:
        return _plan_without_georeferencing(lr, guide, scale, band)
    if lr.geotransform is None or guide.geotransform is None:
        missing = lr if lr.geotransform is None else guide
        raise InputError(
            f"'{missing.path}' has no geotransform while the other raster has one: georeference "
            "both input and guide (or neither)."
        )
    for info, what in ((lr, "input"), (guide, "guide")):
        gt = info.geotransform
        assert gt is not None
        if gt[2] != 0.0 or gt[4] != 0.0 or gt[1] <= 0 or gt[5] >= 0:
            raise InputError(
                f"The {what} '{info.path}' is not a north-up raster (geotransform {gt}): warp it "
                "north-up first, e.g. gdalwarp -r cubic in.tif north_up.tif."
            )
    lr_srs, g_srs = lr.srs, guide.srs
    if (lr_srs is None) != (g_srs is None) or (
        lr_srs is not None and g_srs is not None and not lr_srs.IsSame(g_srs)
    ):
        raise InputError(
            f"The guide '{guide.path}' is in {guide.crs_label} but the input is in "
            f"{lr.crs_label}: reproject the guide onto the input's CRS first (gdalwarp -t_srs)."
        )
    lgt, ggt = lr.geotransform, guide.geotransform
    assert lgt is not None and ggt is not None
    rx, ry = lgt[1] / ggt[1], lgt[5] / ggt[5]
    ratio = round(rx)
    if (
        ratio < 2
        or round(ry) != ratio
        or abs(rx - ratio) > PIXEL_SIZE_TOLERANCE * ratio
        or abs(ry - ratio) > PIXEL_SIZE_TOLERANCE * ratio
    ):
        raise InputError(
            f"The guide's pixel size ({ggt[1]:.6g} x {-ggt[5]:.6g}) is not the input's "
            f"({lgt[1]:.6g} x {-lgt[5]:.6g}) divided by an integer of at least 2 (ratio "
            f"{rx:.4f} x {ry:.4f}): resample the guide to input pixel / scale, e.g. gdalwarp "
            f"-tr {lgt[1] / 2:.6g} {-lgt[5] / 2:.6g} for scale 2."
        )
    if scale is not None and scale != ratio:
        raise InputError(
            f"Scale {scale} was asked for but the guide's pixels are {ratio} times smaller than "
            f"the input's: use --scale {ratio}, or a guide at input pixel / {scale}."
        )
    col = (lgt[0] - ggt[0]) / ggt[1]
    row = (lgt[3] - ggt[3]) / ggt[5]
    if abs(col - round(col)) > ALIGN_TOLERANCE or abs(row - round(row)) > ALIGN_TOLERANCE:
        raise InputError(
            f"The guide's grid is shifted by ({col - math.floor(col):.3f}, "
            f"{row - math.floor(row):.3f}) of its pixels from the input's pixel corners: align it "
            "with gdalwarp -tap, or -te with the input's bounds and -tr input pixel / scale."
        )
    c0, r0 = round(col), round(row)
    need = Window(c0, r0, lr.width * ratio, lr.height * ratio)
    if need.intersection(Window(0, 0, guide.width, guide.height)) != need:
        raise InputError(
            f"The guide '{guide.path}' does not cover the whole input '{lr.path}' (the input needs "
            f"guide pixels {c0}..{need.col_end} x {r0}..{need.row_end}, the guide has "
            f"{guide.width} x {guide.height}): clip the input to the guide's extent or pass a "
            "larger guide."
        )
    # The output keeps the input's origin; the guide's pixel size (its own rounding) is the
    # output's, so output pixel (i, j) is exactly guide pixel (c0 + i, r0 + j).
    out_gt: GeoTransform = (lgt[0], ggt[1], 0.0, lgt[3], 0.0, ggt[5])
    return GuideGrid(ratio=ratio, col_off=c0, row_off=r0, band=band, geotransform=out_gt)


def _plan_without_georeferencing(
    lr: RasterInfo, guide: RasterInfo, scale: int | None, band: int | None
) -> GuideGrid:
    """Neither raster is georeferenced: the guide must be exactly `ratio` times the input."""
    ratio = round(guide.width / lr.width)
    if ratio < 2 or guide.width != lr.width * ratio or guide.height != lr.height * ratio:
        raise InputError(
            f"Neither raster is georeferenced and the guide ({guide.width} x {guide.height}) is "
            f"not an integer multiple of at least 2 of the input ({lr.width} x {lr.height}): "
            "georeference both."
        )
    if scale is not None and scale != ratio:
        raise InputError(
            f"Scale {scale} was asked for but the guide is {ratio} times the input's size: use "
            f"--scale {ratio}."
        )
    return GuideGrid(ratio=ratio, col_off=0, row_off=0, band=band, geotransform=None)


class GuideReader:
    """Reads the guide on the output grid: one band, or the luminance of all bands."""

    def __init__(self, ds: gdal.Dataset, info: RasterInfo, grid: GuideGrid) -> None:
        self._ds = ds
        self._grid = grid
        self._bands = [grid.band] if grid.band is not None else list(range(1, info.count + 1))
        self._size = Window(0, 0, info.width, info.height)

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Guide values `(h, w)` float32 and validity `(h, w)` at an output-grid window.

        Pixels outside the guide raster are invalid.
        """
        out = np.zeros((window.height, window.width), np.float32)
        valid = np.zeros((window.height, window.width), bool)
        src = window.shift(self._grid.col_off, self._grid.row_off).intersection(self._size)
        if src.empty:
            return out, valid
        vals, v = read_bands(self._ds, self._bands, src)
        dst = src.shift(-self._grid.col_off, -self._grid.row_off).relative_to(window).slices()
        out[dst] = vals.mean(axis=0)
        valid[dst] = v
        return out, valid


def synthesize_pan(ms: np.ndarray, scale: int) -> np.ndarray:
    """The unguided PAN: mean of the (normalised) bands, interpolated by `scale`.

    Uses the network's own interpolation (bicubic, pixel centres aligned, borders replicated), so
    a synthetic PAN and the network's internal upsampled MS line up exactly.

    Args:
        ms: `(C, h, w)` normalised image (no invalid pixels: fill them first).
        scale: integer factor.

    Returns:
        `(h * scale, w * scale)` float32.
    """
    import torch

    from .model.upsample import upsample_ms

    lum = np.asarray(ms, dtype=np.float32).mean(axis=0)
    with torch.inference_mode():
        up = upsample_ms(torch.from_numpy(np.ascontiguousarray(lum))[None, None], scale)
    return up[0, 0].numpy().astype(np.float32, copy=False)


class SyntheticPanReader:
    """Synthesises the unguided PAN window by window from the input (bounded memory).

    Args:
        read_lr: `read(window) -> (values (C, h, w), valid (h, w))` on the input grid, with
            pixels outside the raster marked invalid.
        lr_width, lr_height: input size.
        scales: normalisation scale of each input band.
        scale: super-resolution factor.
    """

    def __init__(
        self,
        read_lr: Callable[[Window], tuple[np.ndarray, np.ndarray]],
        lr_width: int,
        lr_height: int,
        scales: tuple[float, ...],
        scale: int,
    ) -> None:
        self._read = read_lr
        self._size = Window(0, 0, lr_width, lr_height)
        self._scales = np.asarray(scales, np.float32)[:, None, None]
        self._s = scale

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Synthetic PAN `(h, w)` (already normalised) and validity at an output-grid window.

        The window must be aligned to the scale (as the engine's tiles are).
        """
        s, m = self._s, SYNTH_MARGIN
        lr_win = Window(
            window.col_off // s, window.row_off // s, window.width // s, window.height // s
        )
        padded = Window(
            lr_win.col_off - m, lr_win.row_off - m, lr_win.width + 2 * m, lr_win.height + 2 * m
        )
        inside = padded.intersection(self._size)
        valid_out = np.zeros((window.height, window.width), bool)
        if inside.empty:
            return np.zeros((window.height, window.width), np.float32), valid_out
        vals, valid = self._read(inside)
        vals = fill_invalid(vals / self._scales, valid)
        # Replicate the raster's edge outside it, as the whole-image interpolation does.
        rel = inside.relative_to(padded)
        pad = (
            (0, 0),
            (rel.row_off, padded.height - rel.row_end),
            (rel.col_off, padded.width - rel.col_end),
        )
        vals = np.pad(vals, pad, mode="edge")
        pan = synthesize_pan(vals, s)[m * s : m * s + window.height, m * s : m * s + window.width]
        v = np.zeros((padded.height, padded.width), bool)
        v[rel.slices()] = valid
        v = v[m : m + lr_win.height, m : m + lr_win.width]
        valid_out = v.repeat(s, axis=0).repeat(s, axis=1)
        return np.ascontiguousarray(pan), valid_out

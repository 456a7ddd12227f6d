"""Put PAN and MS on one grid: ratio from the geotransforms, intersection, and MS resampling.

The fusion works on the PAN grid cropped to the PAN/MS intersection. The MS is read on the
*PAN-aligned MS grid*: same origin as the cropped PAN, pixels exactly `ratio` PAN pixels wide, so
that MS pixel `(i, j)` covers PAN pixels `[r*i, r*i + r) x [r*j, r*j + r)`. When the MS file already
lies on that grid it is read directly; otherwise (another CRS, a sub-pixel offset, a pixel size
that is only nearly `ratio` times the PAN's) it is warped onto it with `gdal.Warp` into an
in-memory VRT, which resamples lazily window by window and never loads the whole scene.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from osgeo import gdal, osr

from ..errors import InputError
from .raster import GeoTransform, RasterInfo, gdal_messages, read_bands
from .window import Window

log = logging.getLogger(__name__)

# A measured ratio within 5 % of an integer is accepted (e.g. 4.015 from rounded pixel sizes);
# further away the sensor pair is not a PAN/MS pair of that ratio and resampling would hide it.
RATIO_TOLERANCE = 0.05
# Pixel-position tolerance when snapping extents to the PAN grid (rounding noise of geotransforms).
_SNAP_EPS = 1e-3


@dataclass(frozen=True)
class GridPlan:
    """Where the fusion happens and how the MS gets there.

    Attributes:
        ratio: integer PAN/MS resolution ratio.
        measured_ratio: `(x, y)` ratio measured from the geotransforms.
        pan_window: PAN pixels processed (the intersection), in PAN file pixel coordinates.
        ms_width, ms_height: size of the PAN-aligned MS grid, `ceil(pan_window size / ratio)`.
        geotransform: geotransform of the output (PAN's, cropped to `pan_window`), or None when
            neither input is georeferenced.
        crs_wkt: CRS of the output (PAN's), or None.
        ms_offset: `(col, row)` of MS grid pixel 0 in the MS file when no resampling is needed.
        warp_reason: why the MS is resampled, or "" when it is read as it is.
    """

    ratio: int
    measured_ratio: tuple[float, float]
    pan_window: Window
    ms_width: int
    ms_height: int
    geotransform: GeoTransform | None
    crs_wkt: str | None
    ms_offset: tuple[int, int] | None
    warp_reason: str

    @property
    def needs_warp(self) -> bool:
        """True when the MS must be resampled onto the PAN-aligned grid."""
        return bool(self.warp_reason)

    @property
    def ms_geotransform(self) -> GeoTransform | None:
        """Geotransform of the PAN-aligned MS grid."""
        if self.geotransform is None:
            return None
        x0, px, _, y0, _, py = self.geotransform
        return (x0, px * self.ratio, 0.0, y0, 0.0, py * self.ratio)


def check_north_up(info: RasterInfo, what: str) -> None:
    """Refuse rotated, sheared or south-up geotransforms with an actionable message."""
    gt = info.geotransform
    if gt is None:
        return
    if gt[2] != 0.0 or gt[4] != 0.0:
        raise InputError(
            f"The {what} '{info.path}' has a rotated geotransform {gt}: only north-up rasters are "
            "supported. Resample it north-up first, e.g. gdalwarp -r cubic in.tif north_up.tif."
        )
    if gt[1] <= 0 or gt[5] >= 0:
        raise InputError(
            f"The {what} '{info.path}' is not north-up (pixel size {gt[1]}, {gt[5]}): flip or "
            "warp it north-up first, e.g. gdalwarp -r cubic in.tif north_up.tif."
        )


def ratio_from_pixel_sizes(
    pan_px: tuple[float, float], ms_px: tuple[float, float], per_axis: bool = True
) -> tuple[int, tuple[float, float]]:
    """Integer resolution ratio from PAN and MS pixel sizes (same units), or `InputError`.

    Args:
        pan_px, ms_px: `(x, y)` pixel sizes.
        per_axis: check each axis; False checks the ratio of pixel areas only (an MS in another
            CRS, e.g. square degrees, has a different aspect once expressed in the PAN's CRS).

    Returns:
        `(ratio, (measured_x, measured_y))`.
    """
    rx, ry = ms_px[0] / pan_px[0], ms_px[1] / pan_px[1]
    if not per_axis:
        rx = ry = math.sqrt(rx * ry)
    measured = (rx, ry)
    if rx < 1.0 / 1.5 and ry < 1.0 / 1.5:
        raise InputError(
            f"The MS pixels are smaller than the PAN pixels (ratio {rx:.3f} x {ry:.3f}): "
            "were --pan and --ms swapped?"
        )
    for r in measured:
        if r < 2.0 * (1.0 - RATIO_TOLERANCE):
            raise InputError(
                f"The PAN/MS resolution ratio is {rx:.3f} x {ry:.3f}, below 2: pan-sharpening "
                "needs an MS at least 2 times coarser than the PAN."
            )
    ratio = round(rx)
    if round(ry) != ratio or any(abs(r - ratio) > RATIO_TOLERANCE * ratio for r in measured):
        raise InputError(
            f"The PAN/MS resolution ratio is {rx:.3f} x {ry:.3f}, far from an integer: PAN and MS "
            "must come from the same acquisition with an integer ratio (e.g. 4)."
        )
    return ratio, measured


def _bounds(gt: GeoTransform, width: int, height: int) -> tuple[float, float, float, float]:
    """`(xmin, ymin, xmax, ymax)` of a north-up raster."""
    x0, px, _, y0, _, py = gt
    return x0, y0 + py * height, x0 + px * width, y0


def _transform_bounds(
    bounds: tuple[float, float, float, float], src: osr.SpatialReference, dst: osr.SpatialReference
) -> tuple[float, float, float, float]:
    ct = osr.CoordinateTransformation(src, dst)
    xmin, ymin, xmax, ymax = ct.TransformBounds(*bounds, 21)
    return xmin, ymin, xmax, ymax


def _local_pixel_size(
    gt: GeoTransform, width: int, height: int, src: osr.SpatialReference, dst: osr.SpatialReference
) -> tuple[float, float]:
    """Size of the MS centre pixel once transformed into the PAN CRS (for the ratio)."""
    x0, px, _, y0, _, py = gt
    cx, cy = x0 + px * width / 2, y0 + py * height / 2
    ct = osr.CoordinateTransformation(src, dst)
    p0 = ct.TransformPoint(cx, cy)
    p1 = ct.TransformPoint(cx + px, cy)
    p2 = ct.TransformPoint(cx, cy + py)
    return math.dist(p0[:2], p1[:2]), math.dist(p0[:2], p2[:2])


def plan_grid(pan: RasterInfo, ms: RasterInfo) -> GridPlan:
    """Decide the ratio, the PAN window to process and whether the MS must be resampled.

    Raises:
        InputError: rotated geotransform, mixed georeferencing, ratio below 2 or non-integer,
            or no overlap between PAN and MS.
    """
    check_north_up(pan, "PAN raster")
    check_north_up(ms, "MS raster")
    if pan.geotransform is None and ms.geotransform is None:
        return _plan_without_georeferencing(pan, ms)
    if pan.geotransform is None or ms.geotransform is None:
        missing = pan if pan.geotransform is None else ms
        raise InputError(
            f"'{missing.path}' has no geotransform while the other input has one: georeference "
            "both (e.g. gdal_edit.py -a_ullr ... -a_srs ...) or neither."
        )
    pan_srs, ms_srs = pan.srs, ms.srs
    if (pan_srs is None) != (ms_srs is None):
        missing = pan if pan_srs is None else ms
        raise InputError(
            f"'{missing.path}' has no CRS while the other input has one: assign the right CRS "
            "first (e.g. gdal_edit.py -a_srs EPSG:XXXX)."
        )
    same_crs = pan_srs is None or bool(pan_srs.IsSame(ms_srs))
    pan_gt, ms_gt = pan.geotransform, ms.geotransform
    pan_px = (pan_gt[1], -pan_gt[5])
    ms_bounds = _bounds(ms_gt, ms.width, ms.height)
    if same_crs:
        ms_px = (ms_gt[1], -ms_gt[5])
    else:
        ms_px = _local_pixel_size(ms_gt, ms.width, ms.height, ms_srs, pan_srs)
        ms_bounds = _transform_bounds(ms_bounds, ms_srs, pan_srs)
    ratio, measured = ratio_from_pixel_sizes(pan_px, ms_px, per_axis=same_crs)

    # The intersection, snapped inwards to whole PAN pixels.
    px0, py0 = pan_gt[0], pan_gt[3]
    c0 = math.ceil((ms_bounds[0] - px0) / pan_px[0] - _SNAP_EPS)
    c1 = math.floor((ms_bounds[2] - px0) / pan_px[0] + _SNAP_EPS)
    r0 = math.ceil((py0 - ms_bounds[3]) / pan_px[1] - _SNAP_EPS)
    r1 = math.floor((py0 - ms_bounds[1]) / pan_px[1] + _SNAP_EPS)
    c0, r0 = max(c0, 0), max(r0, 0)
    c1, r1 = min(c1, pan.width), min(r1, pan.height)
    # A last, partial MS grid pixel is kept only if its centre lies inside the MS extent, so that
    # every MS value the network sees is interpolated, never extrapolated.
    ms_x_end = (ms_bounds[2] - px0) / pan_px[0]
    ms_y_end = (py0 - ms_bounds[1]) / pan_px[1]
    c1 = _trim_partial_cell(c0, c1, ratio, ms_x_end)
    r1 = _trim_partial_cell(r0, r1, ratio, ms_y_end)
    if c1 - c0 < ratio or r1 - r0 < ratio:
        raise InputError(
            f"PAN '{pan.path}' and MS '{ms.path}' do not overlap (PAN covers "
            f"{_fmt_bounds(_bounds(pan_gt, pan.width, pan.height))}, MS covers "
            f"{_fmt_bounds(ms_bounds)} in {pan.crs_label}): pass a PAN and an MS of the same area."
        )
    window = Window(c0, r0, c1 - c0, r1 - r0)
    out_gt: GeoTransform = (
        px0 + c0 * pan_gt[1],
        pan_gt[1],
        0.0,
        py0 + r0 * pan_gt[5],
        0.0,
        pan_gt[5],
    )
    ms_w, ms_h = math.ceil(window.width / ratio), math.ceil(window.height / ratio)

    warp_reason = ""
    ms_offset = None
    if not same_crs:
        warp_reason = f"MS CRS {ms.crs_label} differs from PAN CRS {pan.crs_label}"
    else:
        want_px = (pan_px[0] * ratio, pan_px[1] * ratio)
        off_x = (out_gt[0] - ms_gt[0]) / ms_px[0]
        off_y = (ms_gt[3] - out_gt[3]) / ms_px[1]
        aligned = (
            all(abs(m - w) <= 1e-6 * w for m, w in zip(ms_px, want_px, strict=True))
            and abs(off_x - round(off_x)) < _SNAP_EPS
            and abs(off_y - round(off_y)) < _SNAP_EPS
        )
        if aligned:
            ms_offset = (round(off_x), round(off_y))
        else:
            warp_reason = (
                f"MS grid (pixel {ms_px[0]:.6g} x {ms_px[1]:.6g}, offset {off_x:.3f}, {off_y:.3f} "
                f"MS pixels) is not aligned to {ratio} x the PAN grid "
                f"({want_px[0]:.6g} x {want_px[1]:.6g})"
            )
    return GridPlan(
        ratio=ratio,
        measured_ratio=measured,
        pan_window=window,
        ms_width=ms_w,
        ms_height=ms_h,
        geotransform=out_gt,
        crs_wkt=pan.crs_wkt,
        ms_offset=ms_offset,
        warp_reason=warp_reason,
    )


def _trim_partial_cell(start: int, end: int, ratio: int, ms_end: float) -> int:
    n = math.ceil((end - start) / ratio)
    if n > 0 and (end - start) % ratio and start + ratio * (n - 1) + ratio / 2 > ms_end + _SNAP_EPS:
        return start + ratio * (n - 1)
    return end


def _fmt_bounds(b: tuple[float, float, float, float]) -> str:
    return f"x {b[0]:.6g}..{b[2]:.6g}, y {b[1]:.6g}..{b[3]:.6g}"


def _plan_without_georeferencing(pan: RasterInfo, ms: RasterInfo) -> GridPlan:
    """Neither raster is georeferenced: assume both cover the same area, ratio from the sizes."""
    ratio, measured = ratio_from_pixel_sizes(
        (1.0 / pan.width, 1.0 / pan.height), (1.0 / ms.width, 1.0 / ms.height)
    )
    if pan.width != ms.width * ratio or pan.height != ms.height * ratio:
        raise InputError(
            f"Neither raster is georeferenced and their sizes ({pan.width} x {pan.height} PAN, "
            f"{ms.width} x {ms.height} MS) are not an exact multiple: georeference them."
        )
    log.warning(
        "Neither PAN nor MS is georeferenced: assuming they cover the same area (ratio %d).", ratio
    )
    return GridPlan(
        ratio=ratio,
        measured_ratio=measured,
        pan_window=Window(0, 0, pan.width, pan.height),
        ms_width=ms.width,
        ms_height=ms.height,
        geotransform=None,
        crs_wkt=None,
        ms_offset=(0, 0),
        warp_reason="",
    )


class MSGridReader:
    """Reads windows of the MS on the PAN-aligned MS grid, resampling lazily where needed.

    Validity (`valid`) is computed on a nearest-neighbour view of the MS so that resampling never
    turns nodata pixels into valid ones; values come from a cubic warp that excludes nodata from
    its kernel, so valid pixels next to a nodata collar are not pulled towards the nodata value.
    """

    def __init__(self, ms_ds: gdal.Dataset, ms: RasterInfo, plan: GridPlan) -> None:
        self._ds = ms_ds
        self._info = ms
        self._plan = plan
        self.bands = list(range(1, ms.count + 1))
        self.width, self.height = plan.ms_width, plan.ms_height
        self._values: gdal.Dataset | None = None
        self._near: gdal.Dataset | None = None
        if plan.needs_warp:
            self._values, self._near = self._make_warps()

    def _make_warps(self) -> tuple[gdal.Dataset, gdal.Dataset]:
        plan, info = self._plan, self._info
        gt = plan.ms_geotransform
        assert gt is not None  # warping only happens between georeferenced rasters
        bounds = (gt[0], gt[3] + gt[5] * plan.ms_height, gt[0] + gt[1] * plan.ms_width, gt[3])
        nodata = info.nodata
        src_nodata: str | float
        if nodata is not None:
            src_nodata = nodata
        elif info.dtype.startswith("float"):
            src_nodata = "nan"  # keeps NaN out of the cubic kernel
        else:
            src_nodata = "None"
        common = dict(
            format="VRT",
            outputBounds=bounds,
            width=plan.ms_width,
            height=plan.ms_height,
            dstSRS=plan.crs_wkt or None,
            errorThreshold=0.0,  # exact per-pixel reprojection, no linear approximation
            multithread=False,
        )
        values = near = None
        with gdal_messages() as msgs:
            values = gdal.Warp(
                "",
                self._ds,
                options=gdal.WarpOptions(
                    resampleAlg="cubic",
                    outputType=gdal.GDT_Float32,
                    srcNodata=src_nodata,
                    dstNodata="nan",
                    **common,
                ),
            )
            # Nearest neighbour view with an alpha band: footprint and nodata, unresampled.
            near = gdal.Warp(
                "",
                self._ds,
                options=gdal.WarpOptions(
                    resampleAlg="near", srcNodata="None", dstAlpha=True, **common
                ),
            )
        if values is None or near is None:
            raise InputError(
                f"Cannot resample the MS '{info.path}' onto the PAN grid ({msgs.last_error})."
            )
        return values, near

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Read a window of the MS grid; pixels outside the grid or the MS footprint are invalid.

        Returns:
            `(values (C, h, w) float32, valid (h, w) bool)`.
        """
        c = len(self.bands)
        out = np.zeros((c, window.height, window.width), dtype=np.float32)
        valid = np.zeros((window.height, window.width), dtype=bool)
        inside = window.intersection(Window(0, 0, self.width, self.height))
        if inside.empty:
            return out, valid
        dst = inside.relative_to(window).slices()
        if not self._plan.needs_warp:
            ox, oy = self._plan.ms_offset or (0, 0)
            src = inside.shift(ox, oy).intersection(
                Window(0, 0, self._info.width, self._info.height)
            )
            if not src.empty:
                vals, v = read_bands(self._ds, self.bands, src)
                d = src.shift(-ox, -oy).relative_to(window).slices()
                out[:, d[0], d[1]] = vals
                valid[d] = v
            return out, valid
        assert self._values is not None and self._near is not None
        vals, v_cubic = read_bands(self._values, self.bands, inside)
        near, v_near = read_bands(self._near, self.bands, inside)
        alpha = None
        with gdal_messages() as msgs:
            alpha = self._near.GetRasterBand(len(self.bands) + 1).ReadAsArray(
                inside.col_off, inside.row_off, inside.width, inside.height
            )
        if alpha is None:
            raise InputError(f"Resampling the MS failed ({msgs.last_error}): is it corrupt?")
        v = v_cubic & (alpha > 0) & _source_validity(self._info, near) & v_near
        out[:, dst[0], dst[1]] = vals
        valid[dst] = v
        return out, valid


def _source_validity(info: RasterInfo, near: np.ndarray) -> np.ndarray:
    """Validity from the MS's own nodata, applied to nearest-neighbour values `(C, h, w)`."""
    valid = np.ones(near.shape[1:], dtype=bool)
    for band, values in zip(info.bands, near, strict=True):
        if band.nodata is not None and not np.isnan(band.nodata):
            valid &= values != np.float32(band.nodata)
        valid &= np.isfinite(values)
    return valid

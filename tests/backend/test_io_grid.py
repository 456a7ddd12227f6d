"""Ratio, intersection and MS resampling onto the PAN-aligned grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from backend.errors import InputError
from backend.io.grid import MSGridReader, plan_grid, ratio_from_pixel_sizes
from backend.io.raster import inspect_raster, open_raster
from backend.io.window import Window
from tests.backend.raster_fixtures import pan_ms_pair, write_raster


def _plan(pan: Path, ms: Path):
    return plan_grid(inspect_raster(open_raster(pan), str(pan)), inspect_raster(open_raster(ms)))


def _ramp(h: int, w: int, x0: float, y0: float, px: float, a: float = 3.0, b: float = -2.0):
    """Values a*x + b*y (+ offset) at pixel centres of a north-up grid: cubic keeps it exact."""
    xs = x0 + (np.arange(w) + 0.5) * px
    ys = y0 - (np.arange(h) + 0.5) * px
    return 5000.0 + a * (xs - x0)[None, :] + b * (ys - y0)[:, None]


@pytest.mark.parametrize(
    ("pan_px", "ms_px", "ratio"),
    [((0.5, 0.5), (2.0, 2.0), 4), ((0.498125, 0.500625), (2.0, 2.01), 4), ((15, 15), (30, 30), 2)],
)
def test_ratio_from_pixel_sizes(pan_px, ms_px, ratio) -> None:
    assert ratio_from_pixel_sizes(pan_px, ms_px)[0] == ratio


@pytest.mark.parametrize(
    ("ms_px", "message"),
    [
        ((0.75, 0.75), "below 2"),
        ((1.25, 1.25), "far from an integer"),
        ((2.0, 1.5), "far from an integer"),
        ((0.125, 0.125), "swapped"),
    ],
)
def test_bad_ratios_are_refused(ms_px, message) -> None:
    with pytest.raises(InputError, match=message):
        ratio_from_pixel_sizes((0.5, 0.5), ms_px)


def test_real_pair_ratio_and_subpixel_offset(shared_data: Path) -> None:
    d = shared_data / "pansharpening"
    plan = _plan(d / "osman_pan.tif", d / "osman_ms.tif")
    assert plan.ratio == 4
    assert plan.measured_ratio[0] == pytest.approx(4.015, abs=1e-3)
    assert plan.pan_window == Window(0, 0, 800, 800)
    assert (plan.ms_width, plan.ms_height) == (200, 200)
    # the MS pixel is 2 m, not 4 x 0.498 m: it must be resampled onto the PAN-aligned grid
    assert plan.needs_warp and "not aligned" in plan.warp_reason


def test_aligned_pair_is_read_without_resampling(tmp_path: Path) -> None:
    pan, ms, _, ms_arr = pan_ms_pair(tmp_path, size=64)
    plan = _plan(pan, ms)
    assert not plan.needs_warp and plan.ms_offset == (0, 0)
    reader = MSGridReader(open_raster(ms), inspect_raster(open_raster(ms)), plan)
    values, valid = reader.read(Window(2, 3, 8, 8))
    np.testing.assert_array_equal(values, ms_arr[:, 3:11, 2:10].astype(np.float32))
    assert valid.all()


def test_intersection_on_pan_grid(tmp_path: Path) -> None:
    # PAN 64 px at 0.5 m from (500000, 4000000); MS starts at x = 500008, y = 3999994 and
    # reaches past the PAN's east and south edges
    pan, _, _, _ = pan_ms_pair(tmp_path, size=64)
    ms = write_raster(
        tmp_path / "ms_small.tif",
        np.ones((4, 30, 30), np.uint16),
        geotransform=(500008.0, 2.0, 0, 3999994.0, 0, -2.0),
    )
    plan = _plan(pan, ms)
    # x from 500008 (col 16) to the PAN's end (col 64); y from 3999994 (row 12) to 64
    assert plan.pan_window == Window(16, 12, 48, 52)
    assert plan.geotransform == pytest.approx((500008.0, 0.5, 0, 3999994.0, 0, -0.5))
    assert not plan.needs_warp and plan.ms_offset == (0, 0)


def test_no_overlap_is_refused(tmp_path: Path) -> None:
    pan, _, _, _ = pan_ms_pair(tmp_path, size=64)
    far = write_raster(
        tmp_path / "far.tif",
        np.ones((4, 16, 16), np.uint16),
        geotransform=(600000.0, 2.0, 0, 4000000.0, 0, -2.0),
    )
    with pytest.raises(InputError, match="do not overlap"):
        _plan(pan, far)


def test_rotated_geotransform_is_refused(tmp_path: Path) -> None:
    pan, _, _, _ = pan_ms_pair(tmp_path, size=64)
    rot = write_raster(
        tmp_path / "rot.tif",
        np.ones((4, 16, 16), np.uint16),
        geotransform=(500000.0, 2.0, 0.1, 4000000.0, 0.1, -2.0),
    )
    with pytest.raises(InputError, match="rotated geotransform"):
        _plan(pan, rot)
    south_up = write_raster(
        tmp_path / "south.tif",
        np.ones((4, 16, 16), np.uint16),
        geotransform=(500000.0, 2.0, 0, 3999968.0, 0, 2.0),
    )
    with pytest.raises(InputError, match="not north-up"):
        _plan(pan, south_up)


def test_missing_crs_on_one_side_is_refused(tmp_path: Path) -> None:
    pan, _, _, _ = pan_ms_pair(tmp_path, size=64)
    ms = write_raster(
        tmp_path / "nocrs.tif",
        np.ones((4, 16, 16), np.uint16),
        epsg=None,
        geotransform=(500000.0, 2.0, 0, 4000000.0, 0, -2.0),
    )
    with pytest.raises(InputError, match="no CRS"):
        _plan(pan, ms)


def test_subpixel_offset_is_resampled_precisely(tmp_path: Path) -> None:
    """An MS shifted by 0.3 / 0.55 MS pixel is resampled onto the PAN-aligned grid.

    The MS holds a linear ramp of the ground coordinates; cubic convolution reproduces linear
    functions exactly, so interior values must equal the ramp at the target pixel centres.
    """
    x0, y0, ms_px = 500000.0, 4000000.0, 2.0
    shift = (0.3 * ms_px, -0.55 * ms_px)
    ms_vals = _ramp(40, 40, x0 + shift[0], y0 + shift[1], ms_px)
    # express the ramp in absolute ground coordinates: value = 5000 + 3 (x - x0) - 2 (y - y0)
    ms_vals += 3.0 * shift[0] - 2.0 * shift[1]
    ms = write_raster(
        tmp_path / "ms.tif",
        np.stack([ms_vals, 2 * ms_vals]).astype(np.float32),
        geotransform=(x0 + shift[0], ms_px, 0, y0 + shift[1], 0, -ms_px),
    )
    pan = write_raster(
        tmp_path / "pan.tif",
        np.ones((160, 160), np.float32),
        geotransform=(x0, 0.5, 0, y0, 0, -0.5),
    )
    plan = _plan(pan, ms)
    assert plan.needs_warp and plan.ratio == 4
    reader = MSGridReader(open_raster(ms), inspect_raster(open_raster(ms)), plan)
    values, valid = reader.read(Window(0, 0, plan.ms_width, plan.ms_height))
    gt = plan.ms_geotransform
    want = (
        _ramp(plan.ms_height, plan.ms_width, gt[0], gt[3], gt[1])
        + 3.0 * (gt[0] - x0)
        - 2.0 * (gt[3] - y0)
    )
    inner = (slice(3, -3), slice(3, -3))
    assert valid[inner].all()
    np.testing.assert_allclose(values[0][inner], want[inner], rtol=0, atol=1e-2)
    np.testing.assert_allclose(values[1][inner], 2 * want[inner], rtol=0, atol=2e-2)


def test_other_crs_is_warped(tmp_path: Path, shared_data: Path) -> None:
    d = shared_data / "pansharpening"
    ms_geo = tmp_path / "ms_4326.tif"
    gdal.Warp(str(ms_geo), str(d / "osman_ms.tif"), dstSRS="EPSG:4326", resampleAlg="cubic")
    plan = _plan(d / "osman_pan.tif", ms_geo)
    assert plan.ratio == 4 and "differs from PAN CRS" in plan.warp_reason
    assert plan.crs_wkt is not None and "32649" in plan.crs_wkt
    info = inspect_raster(open_raster(ms_geo))
    warped, valid = MSGridReader(open_raster(ms_geo), info, plan).read(
        Window(0, 0, plan.ms_width, plan.ms_height)
    )
    # compare with the same-CRS resampling of the original MS, away from the edges
    orig = plan_grid(
        inspect_raster(open_raster(d / "osman_pan.tif")),
        inspect_raster(open_raster(d / "osman_ms.tif")),
    )
    ref_ds = open_raster(d / "osman_ms.tif")
    ref, _ = MSGridReader(ref_ds, inspect_raster(ref_ds), orig).read(
        Window(
            plan.pan_window.col_off // 4,
            plan.pan_window.row_off // 4,
            plan.ms_width,
            plan.ms_height,
        )
    )
    inner = (slice(10, -10), slice(10, -10))
    assert valid[inner].all()
    corr = np.corrcoef(warped[0][inner].ravel(), ref[0][inner].ravel())[0, 1]
    assert corr > 0.95
    assert abs(warped[0][inner].mean() - ref[0][inner].mean()) < 0.02 * ref[0][inner].mean()


def test_nodata_collar_does_not_leak_into_values(tmp_path: Path) -> None:
    """A shifted MS with a zero collar: validity follows the collar, values stay on the ramp."""
    x0, y0, ms_px = 500000.0, 4000000.0, 2.0
    shift = (0.25 * ms_px, 0.0)
    ramp = _ramp(32, 32, x0 + shift[0], y0, ms_px) + 3.0 * shift[0]
    ramp[:, :8] = 0  # collar
    ms = write_raster(
        tmp_path / "ms.tif",
        ramp[None].astype(np.float32),
        geotransform=(x0 + shift[0], ms_px, 0, y0, 0, -ms_px),
        nodata=0,
    )
    pan = write_raster(
        tmp_path / "pan.tif",
        np.ones((128, 128), np.float32),
        geotransform=(x0, 0.5, 0, y0, 0, -0.5),
    )
    plan = _plan(pan, ms)
    reader = MSGridReader(open_raster(ms), inspect_raster(open_raster(ms)), plan)
    values, valid = reader.read(Window(0, 0, plan.ms_width, plan.ms_height))
    gt = plan.ms_geotransform
    want = _ramp(plan.ms_height, plan.ms_width, gt[0], gt[3], gt[1]) + 3.0 * (gt[0] - x0)
    # cells whose centre falls in the collar are invalid; the others valid
    centres = gt[0] + (np.arange(plan.ms_width) + 0.5) * gt[1]
    in_collar = centres < x0 + shift[0] + 8 * ms_px
    assert not valid[:, in_collar].any()
    assert valid[2:-2][:, ~in_collar].all()
    # next to the collar, values are not pulled towards 0 (within 2 % of the ramp)
    first = int(np.argmax(~in_collar))
    err = np.abs(values[0][2:-2, first : first + 2] - want[2:-2, first : first + 2])
    assert err.max() < 0.02 * want.mean()

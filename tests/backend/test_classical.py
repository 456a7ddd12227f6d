"""Classical pan-sharpening baselines and their file front-end (backend/classical)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio
from osgeo import gdal

from backend.classical import (
    METHODS,
    brovey,
    exp,
    gdal_pansharpen,
    gdal_pansharpen_files,
    gsa,
    mtf_glp_hpm,
)
from backend.classical.files import sharpen_file
from backend.classical.raster_pair import read_pair
from backend.degrade import interp23, wald_degrade
from backend.errors import InputError
from backend.io.window import Window
from backend.metrics import q2n


def _mat(shared_data: Path, name: str, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    d = sio.loadmat(shared_data / "pansharpening" / name)
    ms = d["I_MS"][: size // 4, : size // 4].transpose(2, 0, 1).astype(np.float32)
    return d["I_PAN"][:size, :size].astype(np.float32), ms


def _write(path: Path, data: np.ndarray, gt: tuple[float, ...], epsg: int = 32649) -> Path:
    ds = gdal.GetDriverByName("GTiff").Create(
        str(path), data.shape[2], data.shape[1], data.shape[0], gdal.GDT_UInt16
    )
    ds.SetGeoTransform(gt)
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(data.shape[0]):
        ds.GetRasterBand(b + 1).WriteArray(data[b])
    ds = None
    return path


@pytest.mark.parametrize("scene", ["ikonos_imgIK.mat", "wv2_imgWV2.mat"])
@pytest.mark.parametrize("name", list(METHODS))
def test_methods_give_finite_float32_on_the_pan_grid(shared_data, scene: str, name: str) -> None:
    pan, ms = _mat(shared_data, scene)
    out = METHODS[name](pan, ms, 4, "IKONOS" if "IK" in scene else "WV2")
    assert out.shape == (ms.shape[0], *pan.shape)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    if name != "gdal":
        # The methods that match PAN to the MS keep its radiometry: band means within 5 %.
        # (GDAL's Brovey uses PAN as it comes, so its means follow the PAN's level.)
        np.testing.assert_allclose(out.mean(axis=(1, 2)), ms.mean(axis=(1, 2)), rtol=0.05)


def test_exp_is_the_23_tap_interpolation(shared_data) -> None:
    pan, ms = _mat(shared_data, "ikonos_imgIK.mat", 128)
    np.testing.assert_allclose(exp(pan, ms, 4), interp23(ms, 4), rtol=1e-6)


def test_brovey_intensity_is_the_matched_pan(shared_data) -> None:
    pan, ms = _mat(shared_data, "ikonos_imgIK.mat", 128)
    out = brovey(pan, ms, 4).astype(np.float64)
    intensity = interp23(ms.astype(np.float64), 4).mean(axis=0)
    p = pan.astype(np.float64)
    matched = (p - p.mean()) * intensity.std() / p.std() + intensity.mean()
    np.testing.assert_allclose(out.mean(axis=0), matched, rtol=1e-5)


def test_detail_injection_methods_reduce_to_exp_without_pan_detail(shared_data) -> None:
    _, ms = _mat(shared_data, "ikonos_imgIK.mat", 128)
    flat_pan = np.full((128, 128), 300.0, dtype=np.float32)
    up = interp23(ms, 4)
    np.testing.assert_allclose(mtf_glp_hpm(flat_pan, ms, 4), up, rtol=1e-5)
    np.testing.assert_allclose(gsa(flat_pan, ms, 4), up, rtol=1e-5, atol=1e-3)


def test_sharpening_beats_interpolation_at_reduced_resolution(shared_data) -> None:
    pan, ms = _mat(shared_data, "wv2_imgWV2.mat", 512)
    pan_lr, ms_lr = wald_degrade(pan, ms, 4, "WV2")
    base = q2n(ms, exp(pan_lr, ms_lr, 4))
    for method in (brovey, gsa, mtf_glp_hpm, gdal_pansharpen):
        assert q2n(ms, method(pan_lr, ms_lr, 4, "WV2")) > base + 0.05


def test_gdal_arrays_follow_the_grid_convention(shared_data) -> None:
    """With PAN equal to the interpolated intensity, GDAL's output is the interpolated MS."""
    _, ms = _mat(shared_data, "ikonos_imgIK.mat", 256)
    up = interp23(ms, 4)
    out = gdal_pansharpen(up.mean(axis=0), ms, 4)
    inner = (slice(None), slice(16, -16), slice(16, -16))
    errors = {
        (dy, dx): float(np.abs(out[inner] - np.roll(up, (dy, dx), axis=(1, 2))[inner]).mean())
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    }
    assert min(errors, key=errors.get) == (0, 0)
    assert errors[(0, 0)] < 0.02 * float(up.mean())


def test_gdal_on_georeferenced_files(shared_data, tmp_path: Path) -> None:
    folder = shared_data / "pansharpening"
    out = tmp_path / "gdal.tif"
    data = gdal_pansharpen_files(folder / "osman_pan.tif", folder / "osman_ms.tif", out)
    assert data.shape == (4, 800, 800) and np.isfinite(data).all()
    ds = gdal.Open(str(out))
    pan = gdal.Open(str(folder / "osman_pan.tif"))
    assert (ds.RasterCount, ds.RasterXSize, ds.RasterYSize) == (4, 800, 800)
    np.testing.assert_allclose(ds.GetGeoTransform(), pan.GetGeoTransform())
    np.testing.assert_array_equal(ds.GetRasterBand(2).ReadAsArray(), data[1])


@pytest.mark.parametrize("method", ["gsa", "gdal"])
def test_sharpen_file_writes_a_georeferenced_geotiff(shared_data, tmp_path: Path, method) -> None:
    folder = shared_data / "pansharpening"
    out = tmp_path / f"{method}.tif"
    sharpen_file(method, folder / "osman_pan.tif", folder / "osman_ms.tif", out, sensor=None)
    ds = gdal.Open(str(out))
    pan = gdal.Open(str(folder / "osman_pan.tif"))
    assert (ds.RasterCount, ds.RasterXSize, ds.RasterYSize) == (4, 800, 800)
    np.testing.assert_allclose(ds.GetGeoTransform(), pan.GetGeoTransform())
    assert "32649" in ds.GetProjection() or "UTM zone 49N" in ds.GetProjection()
    assert np.isfinite(ds.ReadAsArray()).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary left


def test_read_pair_snaps_windows_to_whole_ms_pixels(shared_data) -> None:
    folder = shared_data / "pansharpening"
    pair = read_pair(folder / "osman_pan.tif", folder / "osman_ms.tif")
    assert pair.ratio == 4 and pair.pan.shape == (800, 800) and pair.ms.shape == (4, 200, 200)
    assert pair.rgb == (1, 2, 3)  # the file tags bands 1-3 as red, green, blue
    cut = read_pair(
        folder / "osman_pan.tif", folder / "osman_ms.tif", window=Window(10, 10, 101, 90)
    )
    assert cut.ms_window == Window(3, 3, 24, 22)
    assert cut.pan_window == Window(12, 12, 96, 88)
    np.testing.assert_array_equal(cut.pan, pair.pan[12:100, 12:108])
    centre = read_pair(folder / "osman_pan.tif", folder / "osman_ms.tif", max_size=256)
    assert centre.pan_window == Window(272, 272, 256, 256)


def test_read_pair_lines_up_offset_rasters(shared_data, tmp_path: Path) -> None:
    pan, ms = _mat(shared_data, "ikonos_imgIK.mat", 256)
    # MS starts 8 MS pixels (32 PAN pixels) right and 4 MS pixels down of PAN's corner.
    pan_path = _write(tmp_path / "pan.tif", pan[None].astype(np.uint16), (1000, 1, 0, 5000, 0, -1))
    ms_sub = ms[:, 4:, 8:]
    ms_path = _write(tmp_path / "ms.tif", ms_sub.astype(np.uint16), (1032, 4, 0, 4984, 0, -4))
    pair = read_pair(pan_path, ms_path)
    assert pair.ratio == 4
    assert pair.pan_window == Window(32, 16, 224, 240)
    np.testing.assert_array_equal(pair.pan, pan[16:, 32:])
    np.testing.assert_array_equal(pair.ms, ms_sub)
    assert pair.geotransform[0] == 1032 and pair.geotransform[3] == 4984


def test_read_pair_rejects_non_integer_ratios(shared_data, tmp_path: Path) -> None:
    pan, ms = _mat(shared_data, "ikonos_imgIK.mat", 128)
    pan_path = _write(tmp_path / "pan.tif", pan[None].astype(np.uint16), (0, 1, 0, 0, 0, -1))
    ms_path = _write(tmp_path / "ms.tif", ms.astype(np.uint16), (0, 3.5, 0, 0, 0, -3.5))
    with pytest.raises(InputError, match="not an integer"):
        read_pair(pan_path, ms_path)
    with pytest.raises(InputError, match="does not exist"):
        read_pair(tmp_path / "missing.tif", ms_path)

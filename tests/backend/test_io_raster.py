"""Opening and inspecting rasters: clear errors, CRS/geotransform/nodata/bands, validity masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from backend.errors import InputError
from backend.io.raster import inspect_raster, open_raster, read_band, read_bands, sample_windows
from backend.io.window import Window
from tests.backend.raster_fixtures import write_raster


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        open_raster(tmp_path / "nope.tif", "PAN raster")


def test_text_file_is_not_a_raster(tmp_path: Path) -> None:
    p = tmp_path / "notes.tif"
    p.write_text("this is not an image\n")
    with pytest.raises(InputError, match="cannot be read as a raster"):
        open_raster(p, "MS raster")


def test_folder_is_not_a_raster(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        open_raster(tmp_path, "PAN raster")


def test_truncated_tiff_is_refused(tmp_path: Path) -> None:
    src = write_raster(tmp_path / "full.tif", np.ones((64, 64), np.uint16))
    broken = tmp_path / "broken.tif"
    broken.write_bytes(src.read_bytes()[:200])
    with pytest.raises(InputError, match="broken.tif"):
        ds = open_raster(broken, "PAN raster")
        read_band(ds.GetRasterBand(1), Window(0, 0, 64, 64))


def test_inspect_real_ms(shared_data: Path) -> None:
    path = shared_data / "pansharpening" / "osman_ms.tif"
    info = inspect_raster(open_raster(path), str(path))
    assert (info.width, info.height, info.count) == (200, 200, 4)
    assert info.dtype == "uint16"
    assert info.crs_label == "EPSG:32649"
    assert info.geotransform is not None
    assert info.geotransform[0] == pytest.approx(732114.0)
    assert info.geotransform[1] == pytest.approx(2.0)
    assert [b.color_interp_name for b in info.bands][:3] == ["Red", "Green", "Blue"]
    assert info.nodata is None


def test_inspect_reports_nodata_descriptions(tmp_path: Path) -> None:
    p = write_raster(
        tmp_path / "x.tif",
        np.zeros((2, 8, 8), np.int16),
        nodata=-32768,
        descriptions=["red", "nir"],
        color_interps=[gdal.GCI_RedBand, gdal.GCI_Undefined],
    )
    info = inspect_raster(open_raster(p))
    assert info.nodata == -32768
    assert info.band_descriptions == ["red", "nir"]
    assert info.color_interps == [gdal.GCI_RedBand, gdal.GCI_Undefined]
    assert info.dtype == "int16"


def test_validity_from_nodata_and_nan(tmp_path: Path) -> None:
    data = np.arange(16, dtype=np.float32).reshape(4, 4)
    data[0, 0] = -9999
    data[1, 1] = np.nan
    p = write_raster(tmp_path / "f.tif", data, nodata=-9999)
    ds = open_raster(p)  # keep the dataset alive while its band is used
    values, valid = read_band(ds.GetRasterBand(1), Window(0, 0, 4, 4))
    assert values.dtype == np.float32
    assert not valid[0, 0] and not valid[1, 1]
    assert valid.sum() == 14


def test_validity_from_alpha_band(tmp_path: Path) -> None:
    data = np.full((2, 6, 6), 100, np.uint8)
    data[1, :, :2] = 0  # alpha: transparent left two columns
    p = write_raster(tmp_path / "a.tif", data, options=["ALPHA=YES"])
    ds = open_raster(p)
    values, valid = read_bands(ds, [1], Window(0, 0, 6, 6))
    assert values.shape == (1, 6, 6)
    assert not valid[:, :2].any() and valid[:, 2:].all()


def test_sample_windows_is_bounded() -> None:
    wins = sample_windows(100_000, 80_000, max_pixels=1 << 20)
    assert sum(w.width * w.height for w in wins) <= 1 << 20
    assert all(w.col_end <= 100_000 and w.row_end <= 80_000 for w in wins)
    # spread over the whole raster, corners included
    assert min(w.col_off for w in wins) == 0 and max(w.col_end for w in wins) == 100_000
    assert sample_windows(300, 200, max_pixels=1 << 20) == [Window(0, 0, 300, 200)]

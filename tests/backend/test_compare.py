"""`compare_rasters` / `python -m backend compare`: scores, clear errors, GDAL's mode untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from backend.compare import compare_rasters
from backend.errors import InputError
from tests.backend.raster_fixtures import write_raster
from tests.conftest import REPO

REFERENCE = REPO / "resources" / "sample" / "reference.tif"


def test_a_raster_against_itself_scores_perfectly() -> None:
    scores = compare_rasters(REFERENCE, REFERENCE)
    assert scores["Q2n"] == pytest.approx(1.0, abs=1e-9)
    assert scores["SAM"] == pytest.approx(0.0, abs=1e-6)
    assert scores["ERGAS"] == pytest.approx(0.0, abs=1e-9)


def test_a_noisy_copy_scores_worse(tmp_path: Path) -> None:
    ds = gdal.Open(str(REFERENCE))
    ref = ds.ReadAsArray().astype(np.float32)
    noisy = ref + np.random.default_rng(0).normal(0, 0.05 * ref.std(), ref.shape)
    path = write_raster(
        tmp_path / "noisy.tif", noisy.astype(np.float32), geotransform=ds.GetGeoTransform()
    )
    scores = compare_rasters(REFERENCE, path)
    assert 0.5 < scores["Q2n"] < 0.999
    assert scores["SAM"] > 0.1 and scores["ERGAS"] > 0.1


@pytest.mark.parametrize("exceptions", [False, True])
def test_gdal_error_mode_is_left_as_the_caller_set_it(exceptions: bool, tmp_path: Path) -> None:
    was = gdal.GetUseExceptions()
    (gdal.UseExceptions if exceptions else gdal.DontUseExceptions)()
    try:
        compare_rasters(REFERENCE, REFERENCE)
        assert bool(gdal.GetUseExceptions()) is exceptions
        with pytest.raises(InputError, match="does not exist"):
            compare_rasters(REFERENCE, tmp_path / "missing.tif")
        (tmp_path / "broken.tif").write_bytes(b"II*\x00 not a tiff")
        with pytest.raises(InputError, match="cannot be read as a raster"):
            compare_rasters(tmp_path / "broken.tif", REFERENCE)
        assert bool(gdal.GetUseExceptions()) is exceptions
    finally:
        (gdal.UseExceptions if was else gdal.DontUseExceptions)()


def test_command_line_json_and_no_gdal_mode_warning() -> None:
    cmd = [
        sys.executable, "-m", "backend", "compare", "--reference", str(REFERENCE),
        "--image", str(REFERENCE), "--json",
    ]  # fmt: skip
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["Q2n"] == pytest.approx(1.0, abs=1e-9)
    # GDAL >= 3.9 warns once per process when no error mode was chosen: the CLI chooses one
    assert "UseExceptions" not in res.stderr


def test_command_line_names_a_missing_file(tmp_path: Path) -> None:
    cmd = [
        sys.executable, "-m", "backend", "compare", "--reference", str(REFERENCE),
        "--image", str(tmp_path / "none.tif"),
    ]  # fmt: skip
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1
    assert res.stderr.startswith("error: The image") and "does not exist" in res.stderr

"""`qgis_process`: the plugin as scripts and servers use it (a separate QGIS per call)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from osgeo import gdal

from .conftest import REPO

gdal.UseExceptions()

MODEL3 = REPO / "tests" / "plugin" / "data" / "pansharpen_then_sr.model3"


def _raster_shape(path: Path) -> tuple[int, int, int]:
    ds = gdal.Open(str(path))
    return ds.RasterCount, ds.RasterYSize, ds.RasterXSize


def test_list_shows_the_algorithms(qgis_process) -> None:
    proc = qgis_process("list")
    assert proc.returncode == 0, proc.stderr
    for alg_id, name in (
        ("mmmamba:pansharpen", "MMMamba Pansharpen"),
        ("mmmamba:zeroshotsr", "Zero-shot SR"),
        ("mmmamba:quality", "Pan-sharpening quality assessment"),
        ("mmmamba:finetune", "Fine-tune model on a scene"),
    ):
        assert f"{alg_id}\t{name}" in proc.stdout


def test_run_with_key_value_arguments(qgis_process, scene, tiny_model, tmp_path) -> None:
    out = tmp_path / "kv.tif"
    result = qgis_process.run_json(
        "mmmamba:pansharpen",
        {"PAN": scene.pan, "MS": scene.ms, "MODEL_FILE": tiny_model, "DEVICE": 2,
         "TILE_SIZE": 64, "OUTPUT": out},
    )  # fmt: skip
    assert Path(result["results"]["OUTPUT"]) == out
    bands, height, width = _raster_shape(out)
    assert bands == 4 and height > 100 and width > 100


def test_run_with_json_parameters_on_stdin(qgis_process, scene, tiny_model, tmp_path) -> None:
    out = tmp_path / "stdin.tif"
    result = qgis_process.run_json(
        "mmmamba:pansharpen",
        {"PAN": str(scene.pan), "MS": str(scene.ms), "MODEL_FILE": str(tiny_model),
         "DEVICE": 2, "TILE_SIZE": 64, "OUTPUT": str(out)},
        via_stdin=True,
    )  # fmt: skip
    assert Path(result["results"]["OUTPUT"]) == out
    assert _raster_shape(out)[0] == 4


def test_errors_exit_non_zero_with_the_backend_sentence(qgis_process, scene, tmp_path) -> None:
    proc = qgis_process(
        "run", "mmmamba:pansharpen", "--",
        f"PAN={scene.pan}", f"MS={scene.ms}", f"MODEL_FILE={tmp_path / 'missing.safetensors'}",
        f"OUTPUT={tmp_path / 'never.tif'}",
    )  # fmt: skip
    assert proc.returncode != 0
    assert "missing.safetensors" in proc.stdout + proc.stderr
    assert not (tmp_path / "never.tif").exists()


def test_graphical_model_chains_pansharpen_and_sr(qgis_process, scene, tiny_model, tmp_path):
    if importlib.util.find_spec("backend.sr") is None:
        pytest.skip("backend/sr.py (Zero-shot SR backend) is not there yet")
    out = tmp_path / "chain.tif"
    result = qgis_process.run_json(
        str(MODEL3),
        {"pan": scene.pan, "ms": scene.ms, "model_file": tiny_model, "scale": 0,
         "superresolved": out},
    )  # fmt: skip
    assert Path(result["results"]["superresolved"]) == out
    pan_bands, pan_h, pan_w = _raster_shape(scene.pan)
    bands, height, width = _raster_shape(out)
    # Pan-sharpening lands on the PAN grid (within the MS/PAN overlap), SR doubles it.
    assert bands == 4
    assert pan_w * 2 - 16 <= width <= pan_w * 2 and pan_h * 2 - 16 <= height <= pan_h * 2

"""`mmmamba:finetune` in real QGIS: a few seconds of scene adaptation of a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import processing
from osgeo import gdal

from .conftest import crop_scene

gdal.UseExceptions()


def test_finetune_writes_a_model_and_the_pansharpened_scene(
    provider, shared_data, tiny_model, tmp_path
) -> None:
    part = crop_scene(tmp_path / "scene", shared_data, (200, 200, 256, 256), (50, 50, 64, 64))
    model_out = tmp_path / "adapted.safetensors"
    sharp = tmp_path / "adapted.tif"
    result = processing.run(
        "mmmamba:finetune",
        {"PAN": str(part.pan), "MS": str(part.ms), "MINUTES": 0.05,
         "MODEL_FILE": str(tiny_model), "SENSOR": "unknown", "DEVICE": 2,
         "OUTPUT_MODEL": str(model_out), "PANSHARPENED": str(sharp)},
    )  # fmt: skip
    assert Path(result["OUTPUT_MODEL"]) == model_out and model_out.is_file()
    card = json.loads(model_out.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["config"]["ms_bands"] == 4
    assert result["STEPS"] >= 1
    assert result["BEST_L1"] <= result["START_L1"]
    assert Path(result["PANSHARPENED"]) == sharp
    assert gdal.Open(str(sharp)).RasterCount == 4

"""`mmmamba:finetune` in real QGIS: a few seconds of scene adaptation of a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import processing
from osgeo import gdal

gdal.UseExceptions()


def test_finetune_writes_a_model_and_the_pansharpened_scene(
    provider, scene, tiny_model, tmp_path
) -> None:
    model_out = tmp_path / "adapted.safetensors"
    sharp = tmp_path / "adapted.tif"
    result = processing.run(
        "mmmamba:finetune",
        {"PAN": str(scene.pan), "MS": str(scene.ms), "MINUTES": 0.05,
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

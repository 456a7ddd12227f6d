"""`mmmamba:quality` in real QGIS: the report of the backend's assessment."""

from __future__ import annotations

import json
from pathlib import Path

import processing
import pytest

from .conftest import crop_scene


def test_enums_match_the_backend_lists(provider) -> None:
    from mmmamba.plugin.algorithms import quality

    from backend.degrade import sensor_names
    from backend.evaluate import METHOD_NAMES

    assert sorted(quality.SENSORS) == sorted(sensor_names())
    assert quality.METHODS == METHOD_NAMES


def test_processing_run_writes_report_and_figures(
    provider, shared_data, tiny_model, tmp_path
) -> None:
    part = crop_scene(tmp_path / "scene", shared_data, (200, 200, 192, 192), (50, 50, 48, 48))
    report = tmp_path / "quality.html"
    result = processing.run(
        "mmmamba:quality",
        {
            "PAN": str(part.pan),
            "MS": str(part.ms),
            "SENSOR": "unknown",
            "METHODS": ["exp", "gsa", "mmmamba"],
            "MODEL_FILE": str(tiny_model),
            "DEVICE": 2,
            "REPORT": str(report),
        },
    )
    assert Path(result["REPORT"]) == report
    assert "<html" in report.read_text(encoding="utf-8").lower()
    figures = json.loads(Path(result["JSON"]).read_text(encoding="utf-8"))
    assert set(figures["reduced"]) == {"exp", "gsa", "mmmamba"}
    assert set(figures["full"]) == {"exp", "gsa", "mmmamba"}
    for scores in figures["reduced"].values():
        assert 0.0 < scores["Q2n"] <= 1.0


def test_no_method_chosen_is_an_input_error(provider, scene, tmp_path) -> None:
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException):
        processing.run(
            "mmmamba:quality",
            {"PAN": str(scene.pan), "MS": str(scene.ms), "METHODS": [],
             "REPORT": str(tmp_path / "r.html")},
        )  # fmt: skip

"""`mmmamba:pansharpen` in real QGIS on real imagery, with a tiny real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import processing
import pytest
from osgeo import gdal
from processing.core.ProcessingConfig import ProcessingConfig
from qgis.core import (
    QgsApplication,
    QgsMultiBandColorRenderer,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
)

gdal.UseExceptions()


class RecordingFeedback(QgsProcessingFeedback):
    """Feedback that keeps what the algorithm reported."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.progress_values: list[float] = []
        self.progressChanged.connect(self.progress_values.append)

    def pushInfo(self, info: str) -> None:
        self.lines.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning: str) -> None:
        self.lines.append(warning)
        super().pushWarning(warning)


@pytest.fixture
def extra_model_folder(provider, model_dir: Path):
    """Point the Processing option 'extra model folder' at the test models."""
    from mmmamba.plugin import settings

    ProcessingConfig.setSettingValue(settings.MODEL_FOLDER_SETTING, str(model_dir))
    provider.refreshAlgorithms()
    yield model_dir
    ProcessingConfig.setSettingValue(settings.MODEL_FOLDER_SETTING, "")
    provider.refreshAlgorithms()


def test_processing_run_writes_a_georeferenced_pansharpened_raster(
    provider, scene, tiny_model, tmp_path
) -> None:
    out = tmp_path / "sharp.tif"
    feedback = RecordingFeedback()
    result = processing.run(
        "mmmamba:pansharpen",
        {
            "PAN": str(scene.pan),
            "MS": str(scene.ms),
            "MODEL_FILE": str(tiny_model),
            "DEVICE": 2,
            "TILE_SIZE": 64,
            "OUTPUT": str(out),
        },
        feedback=feedback,
    )
    assert Path(result["OUTPUT"]) == out
    ds = gdal.Open(str(out))
    pan = gdal.Open(str(scene.pan))
    ms = gdal.Open(str(scene.ms))
    assert ds.RasterCount == ms.RasterCount == 4
    assert ds.GetRasterBand(1).DataType == ms.GetRasterBand(1).DataType
    # On the PAN grid: PAN pixel size, same CRS, inside the PAN extent.
    assert ds.GetGeoTransform()[1] == pytest.approx(pan.GetGeoTransform()[1])
    assert ds.GetSpatialRef().IsSame(pan.GetSpatialRef())
    assert ds.RasterXSize <= pan.RasterXSize and ds.RasterXSize >= pan.RasterXSize - 8
    values = ds.ReadAsArray().astype(np.float64)
    assert values.std() > 0  # a real image came out, not a constant
    # Per-tile progress reached the bar, and the log says which model ran.
    assert max(feedback.progress_values) == pytest.approx(100.0)
    assert len(set(feedback.progress_values)) >= 3
    assert any("tiny4" in line for line in feedback.lines)


def test_backend_arguments_maps_every_parameter(provider, scene, tiny_model, tmp_path) -> None:
    alg = QgsApplication.processingRegistry().createAlgorithmById("mmmamba:pansharpen")
    context = QgsProcessingContext()
    args = alg.backend_arguments(
        {
            "PAN": str(scene.pan),
            "PAN_BAND": 1,
            "MS": str(scene.ms),
            "MODEL_FILE": str(tiny_model),
            "DEVICE": 1,
            "TILE_SIZE": 256,
            "OVERLAP": 16,
            "BATCH_SIZE": 3,
            "OUTPUT": str(tmp_path / "o.tif"),
        },
        context,
    )
    assert args == {
        "pan": str(scene.pan),
        "ms": str(scene.ms),
        "out": str(tmp_path / "o.tif"),
        "model": tiny_model,
        "device": "cuda",
        "tile": 256,
        "overlap": 16,
        "batch": 3,
        "pan_band": 1,
    }
    # Left empty, the tile size and the overlap are the backend's automatic choices (by device);
    # the device is the option's.
    args = alg.backend_arguments(
        {"PAN": str(scene.pan), "MS": str(scene.ms), "MODEL_FILE": str(tiny_model),
         "OUTPUT": str(tmp_path / "o.tif")},
        context,
    )  # fmt: skip
    assert args["overlap"] is None
    assert args["device"] == "auto"
    assert args["tile"] is None and args["batch"] == 1


def test_model_enum_lists_models_of_the_extra_folder(extra_model_folder, scene) -> None:
    alg = QgsApplication.processingRegistry().createAlgorithmById("mmmamba:pansharpen")
    options = alg.parameterDefinition("MODEL").options()
    assert options[0] == "auto"
    assert {"tiny4", "tiny2"} <= set(options)
    context = QgsProcessingContext()
    ok, message = alg.checkParameterValues(
        {"PAN": str(scene.pan), "MS": str(scene.ms), "MODEL": "tiny2", "OUTPUT": "x.tif"},
        context,
    )
    assert not ok
    assert "tiny2" in message and "2" in message and "4" in message
    ok, _ = alg.checkParameterValues(
        {"PAN": str(scene.pan), "MS": str(scene.ms), "MODEL": "tiny4", "OUTPUT": "x.tif"},
        context,
    )
    assert ok
    args = alg.backend_arguments(
        {"PAN": str(scene.pan), "MS": str(scene.ms), "MODEL": "tiny4", "OUTPUT": "x.tif"},
        context,
    )
    assert args["model"] == extra_model_folder / "tiny4.safetensors"


def test_backend_errors_become_processing_exceptions(provider, scene, tmp_path) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a model")
    with pytest.raises(QgsProcessingException, match="card"):
        processing.run(
            "mmmamba:pansharpen",
            {"PAN": str(scene.pan), "MS": str(scene.ms), "MODEL_FILE": str(broken),
             "DEVICE": 2, "OUTPUT": str(tmp_path / "never.tif")},
        )  # fmt: skip
    assert not (tmp_path / "never.tif").exists()


def test_cancel_between_tiles_leaves_no_output(provider, scene, tiny_model, tmp_path) -> None:
    feedback = QgsProcessingFeedback()
    # Cancel as soon as the first tile reports progress.
    feedback.progressChanged.connect(lambda value: value > 0 and feedback.cancel())
    out = tmp_path / "cancelled.tif"
    with pytest.raises(QgsProcessingException, match="[Cc]ancel"):
        processing.run(
            "mmmamba:pansharpen",
            {"PAN": str(scene.pan), "MS": str(scene.ms), "MODEL_FILE": str(tiny_model),
             "DEVICE": 2, "TILE_SIZE": 32, "OUTPUT": str(out)},
            feedback=feedback,
        )  # fmt: skip
    assert not out.exists()


def test_loaded_result_is_named_after_ms_and_drawn_in_true_colour(
    provider, scene, tiny_model, tmp_path
) -> None:
    ms_layer = QgsRasterLayer(str(scene.ms), "Osman MS")
    pan_layer = QgsRasterLayer(str(scene.pan), "Osman PAN")
    project = QgsProject.instance()
    project.addMapLayers([ms_layer, pan_layer])
    try:
        result = processing.runAndLoadResults(
            "mmmamba:pansharpen",
            {"PAN": pan_layer, "MS": ms_layer, "MODEL_FILE": str(tiny_model), "DEVICE": 2,
             "TILE_SIZE": 64, "OUTPUT": str(tmp_path / "loaded.tif")},
        )  # fmt: skip
        loaded = [
            layer
            for layer in project.mapLayers().values()
            if Path(layer.source()) == Path(result["OUTPUT"])
        ]
        assert len(loaded) == 1
        layer = loaded[0]
        assert layer.name() == "Osman MS"
        renderer = layer.renderer()
        assert isinstance(renderer, QgsMultiBandColorRenderer)
        # The tiny model's card says red, green, blue, nir.
        assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (1, 2, 3)
    finally:
        project.removeAllMapLayers()


def test_default_device_comes_from_the_processing_options(provider) -> None:
    from mmmamba.plugin import settings

    registry = QgsApplication.processingRegistry()
    alg = registry.createAlgorithmById("mmmamba:pansharpen")  # owns its parameter definitions
    assert alg.parameterDefinition("DEVICE").defaultValue() == settings.DEVICES.index("auto")
    ProcessingConfig.setSettingValue(settings.DEVICE_SETTING, "cpu")
    provider.refreshAlgorithms()
    try:
        for alg_id in ("mmmamba:pansharpen", "mmmamba:zeroshotsr", "mmmamba:finetune"):
            alg = registry.createAlgorithmById(alg_id)
            assert alg.parameterDefinition("DEVICE").defaultValue() == settings.DEVICES.index("cpu")
    finally:
        ProcessingConfig.setSettingValue(settings.DEVICE_SETTING, "auto")
        provider.refreshAlgorithms()

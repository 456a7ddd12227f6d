"""`mmmamba:zeroshotsr` in real QGIS on real imagery, guided and unguided."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import processing
import pytest
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingContext

gdal.UseExceptions()

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("backend.sr") is None, reason="backend/sr.py is not there yet"
)


def test_backend_arguments_maps_every_parameter(provider, scene, tiny_model, tmp_path) -> None:
    alg = QgsApplication.processingRegistry().createAlgorithmById("mmmamba:zeroshotsr")
    context = QgsProcessingContext()
    args = alg.backend_arguments(
        {"INPUT": str(scene.ms), "SCALE": 2, "GUIDE": str(scene.pan), "GUIDE_BAND": 1,
         "ADAPT_SECONDS": 30, "MODEL_FILE": str(tiny_model), "DEVICE": 2, "TILE_SIZE": 128,
         "ENSEMBLE": 1, "BACKPROJECT": 0, "OUTPUT": str(tmp_path / "o.tif")},
        context,
    )  # fmt: skip
    assert args == {
        "input": str(scene.ms),
        "out": str(tmp_path / "o.tif"),
        "scale": 4,
        "guide": str(scene.pan),
        "guide_band": 1,
        "adapt_steps": None,
        "adapt_seconds": 30.0,
        "model": str(tiny_model),
        "device": "cpu",
        "tile": 128,
        "ensemble": 2,
        "backproject": 0,
    }
    args = alg.backend_arguments(
        {"INPUT": str(scene.ms), "ADAPT_STEPS": 0, "OUTPUT": str(tmp_path / "o.tif")}, context
    )
    assert args["scale"] == 2 and args["guide"] is None and args["guide_band"] is None
    assert args["adapt_steps"] == 0 and args["adapt_seconds"] is None and args["model"] is None
    # the dialog's defaults are the backend's
    from backend.sr import DEFAULT_BACKPROJECT, DEFAULT_ENSEMBLE

    assert args["ensemble"] == DEFAULT_ENSEMBLE and args["backproject"] == DEFAULT_BACKPROJECT
    ok, message = alg.checkParameterValues(
        {"INPUT": str(scene.ms), "ADAPT_STEPS": 3, "ADAPT_SECONDS": 3.0, "OUTPUT": "x.tif"},
        context,
    )
    assert not ok and "not both" in message


def test_unguided_doubles_the_grid(provider, scene, tiny_model, tmp_path) -> None:
    out = tmp_path / "sr2.tif"
    result = processing.run(
        "mmmamba:zeroshotsr",
        {"INPUT": str(scene.ms), "SCALE": 0, "ADAPT_STEPS": 0, "MODEL_FILE": str(tiny_model),
         "DEVICE": 2, "OUTPUT": str(out)},
    )  # fmt: skip
    assert Path(result["OUTPUT"]) == out
    src, dst = gdal.Open(str(scene.ms)), gdal.Open(str(out))
    assert (dst.RasterCount, dst.RasterXSize, dst.RasterYSize) == (
        src.RasterCount, 2 * src.RasterXSize, 2 * src.RasterYSize,
    )  # fmt: skip
    sgt, dgt = src.GetGeoTransform(), dst.GetGeoTransform()
    assert dgt[0] == pytest.approx(sgt[0]) and dgt[3] == pytest.approx(sgt[3])
    assert dgt[1] == pytest.approx(sgt[1] / 2)


def test_guided_takes_the_guide_grid(provider, scene, tiny_model, tmp_path) -> None:
    # The osman PAN pixel is 1/4.015 of the MS pixel: resample it to exactly 1/4 as a guide.
    ms = gdal.Open(str(scene.ms))
    x0, px, _, y0, _, py = ms.GetGeoTransform()
    bounds = (x0, y0 + py * ms.RasterYSize, x0 + px * ms.RasterXSize, y0)
    guide = tmp_path / "guide.tif"
    gdal.Warp(str(guide), str(scene.pan), xRes=px / 4, yRes=-py / 4, outputBounds=bounds,
              resampleAlg="cubic")  # fmt: skip
    out = tmp_path / "sr_guided.tif"
    processing.run(
        "mmmamba:zeroshotsr",
        {"INPUT": str(scene.ms), "SCALE": 2, "GUIDE": str(guide), "GUIDE_BAND": 1,
         "ADAPT_STEPS": 0, "MODEL_FILE": str(tiny_model), "DEVICE": 2, "OUTPUT": str(out)},
    )  # fmt: skip
    dst = gdal.Open(str(out))
    assert (dst.RasterCount, dst.RasterXSize, dst.RasterYSize) == (4, 4 * 32, 4 * 32)
    assert dst.GetGeoTransform()[1] == pytest.approx(px / 4)

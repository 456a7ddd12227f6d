"""Write pansharpen_then_sr.model3: a graphical model chaining MMMamba Pansharpen and Zero-shot SR.

Run from the repository root with the plugin enabled, e.g.
`QT_QPA_PLATFORM=offscreen .venv/bin/python tests/plugin/data/make_pansharpen_then_sr_model.py`.
The model is built through the QGIS modeler API (not written by hand) so it stays loadable by
the modeler; the committed .model3 is what the tests run through `qgis_process`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# A fixed hash seed makes Qt write the XML attributes in the same order on every run.
os.environ.setdefault("QT_HASH_SEED", "0")

from qgis.core import (
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QPointF

HERE = Path(__file__).resolve().parent
TARGET = HERE / "pansharpen_then_sr.model3"


def set_sources(child: QgsProcessingModelChildAlgorithm, sources: dict) -> None:
    """Set the parameter sources one by one (setParameterSources with a dict crashes PyQGIS)."""
    for name, values in sources.items():
        child.addParameterSources(name, values)


def build() -> QgsProcessingModelAlgorithm:
    """The model: PAN + MS -> pan-sharpened -> super-resolved (unguided)."""
    model = QgsProcessingModelAlgorithm("Pansharpen then super-resolve", "MMMamba tests")
    inputs = [
        QgsProcessingParameterRasterLayer("pan", "Panchromatic layer"),
        QgsProcessingParameterRasterLayer("ms", "Multispectral layer"),
        QgsProcessingParameterFile(
            "model_file", "Model file", extension="safetensors", optional=True
        ),
        QgsProcessingParameterEnum(
            "scale", "Scale factor", options=["×2", "×3", "×4", "×8"], defaultValue=0
        ),
    ]
    for i, definition in enumerate(inputs):
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(120 + 220 * i, 60))
        model.addModelParameter(definition, component)

    def from_input(name: str) -> list[QgsProcessingModelChildParameterSource]:
        return [QgsProcessingModelChildParameterSource.fromModelParameter(name)]

    def static(value) -> list[QgsProcessingModelChildParameterSource]:
        return [QgsProcessingModelChildParameterSource.fromStaticValue(value)]

    sharpen = QgsProcessingModelChildAlgorithm("mmmamba:pansharpen")
    sharpen.setChildId("pansharpen")
    sharpen.setDescription("MMMamba Pansharpen")
    sharpen.setPosition(QPointF(300, 200))
    set_sources(
        sharpen,
        {
            "PAN": from_input("pan"),
            "PAN_BAND": static(1),
            "MS": from_input("ms"),
            "MODEL": static("auto"),
            "MODEL_FILE": from_input("model_file"),
            "DEVICE": static(0),
            "TILE_SIZE": static(512),
            "BATCH_SIZE": static(1),
        },
    )
    model.addChildAlgorithm(sharpen)

    sr = QgsProcessingModelChildAlgorithm("mmmamba:zeroshotsr")
    sr.setChildId("zeroshotsr")
    sr.setDescription("Zero-shot SR")
    sr.setPosition(QPointF(300, 340))
    set_sources(
        sr,
        {
            "INPUT": [
                QgsProcessingModelChildParameterSource.fromChildOutput("pansharpen", "OUTPUT")
            ],
            "SCALE": from_input("scale"),
            "ADAPT_STEPS": static(0),
            "MODEL_FILE": from_input("model_file"),
            "DEVICE": static(0),
            "TILE_SIZE": static(512),
        },
    )
    output = QgsProcessingModelOutput("super_resolved", "Super-resolved")
    output.setChildId("zeroshotsr")
    output.setChildOutputName("OUTPUT")
    output.setPosition(QPointF(480, 420))
    sr.setModelOutputs({"super_resolved": output})
    sr.setDependencies([])
    model.addChildAlgorithm(sr)
    model.updateDestinationParameters()
    return model


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append(QgsApplication.pkgDataPath() + "/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    # Load the plugin as QGIS does: the package `mmmamba` is the repository root.
    plugins = Path(tempfile.mkdtemp())
    (plugins / "mmmamba").symlink_to(HERE.parents[2], target_is_directory=True)
    sys.path.insert(0, str(plugins))
    plugin = __import__("mmmamba").classFactory(None)
    plugin.initProcessing()
    model = build()
    ok = model.toFile(str(TARGET))
    print(("wrote " if ok else "FAILED to write ") + str(TARGET))
    plugin.unload()
    app.exitQgis()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

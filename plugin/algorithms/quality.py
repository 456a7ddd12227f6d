"""`mmmamba:quality`: compare MMMamba with classical pan-sharpening on a scene, as a report."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)

from .. import settings
from .base import MMMambaAlgorithm, advanced

# Canonical names of backend.degrade.sensor_names(), kept here so listing the algorithms does not
# import NumPy/SciPy; a test checks both lists are equal.
SENSORS = (
    "unknown",
    "QuickBird",
    "IKONOS",
    "GeoEye-1",
    "WorldView-2",
    "WorldView-3",
    "Pleiades",
    "SPOT-7",
)
# Method names of backend.evaluate.METHOD_NAMES (same check).
METHODS = ("exp", "brovey", "gsa", "mtf-glp-hpm", "gdal", "mmmamba")


class QualityAlgorithm(MMMambaAlgorithm):
    """Reduced- and full-resolution quality assessment of pan-sharpening methods on one scene."""

    PAN = "PAN"
    MS = "MS"
    SENSOR = "SENSOR"
    METHODS = "METHODS"
    MODEL = "MODEL"
    MODEL_FILE = "MODEL_FILE"
    MAX_SIZE = "MAX_SIZE"
    REPORT = "REPORT"
    JSON = "JSON"

    def name(self) -> str:
        """Stable id (`mmmamba:quality`)."""
        return "quality"

    def displayName(self) -> str:
        """Name in the toolbox."""
        return self.tr("Pan-sharpening quality assessment")

    def group(self) -> str:
        """Toolbox group."""
        return self.tr("Pan-sharpening")

    def groupId(self) -> str:
        """Stable group id."""
        return "pansharpening"

    def shortHelpString(self) -> str:
        """What the tool does, expects and writes."""
        return "".join(
            [
                self.tr(
                    "<p>Measures how well MMMamba and classical methods pan-sharpen this "
                    "scene, without any reference image.</p>"
                ),
                self.tr(
                    "<p><b>Reduced resolution (Wald's protocol).</b> PAN and MS are degraded "
                    "by the resolution ratio with filters matching the sensor's MTF, fused, "
                    "and compared with the original MS: Q2n, SAM, ERGAS, SCC, PSNR, SSIM "
                    "(ideal: Q2n, SCC, SSIM near 1; SAM, ERGAS near 0).</p>"
                ),
                self.tr(
                    "<p><b>Full resolution.</b> The fused products at the original scale are "
                    "scored with D-lambda (spectral distortion), D-S (spatial distortion) and "
                    "HQNR (ideal 1).</p>"
                ),
                self.tr(
                    "<p><b>Inputs.</b> The PAN and MS layers as for 'MMMamba Pansharpen' and "
                    "the sensor, whose MTF gains drive the degradation ('unknown' uses "
                    "generic gains).</p>"
                ),
                self.tr(
                    "<p><b>Outputs.</b> An HTML report with tables and image crops; the "
                    "figures are also written as JSON and CSV beside it (or where 'Figures as "
                    "JSON' says). Classical methods take seconds; MMMamba runs on the device "
                    "chosen (on a CPU, keep 'Largest PAN side assessed' small).</p>"
                ),
            ]
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """Declare the parameters (keys are the public API of processing.run/qgis_process)."""
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.PAN, self.tr("Panchromatic layer (PAN)"))
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.MS, self.tr("Multispectral layer (MS)"))
        )
        sensor = QgsProcessingParameterEnum(
            self.SENSOR, self.tr("Sensor"), options=list(SENSORS), defaultValue="unknown"
        )
        sensor.setUsesStaticStrings(True)
        self.addParameter(sensor)
        methods = QgsProcessingParameterEnum(
            self.METHODS,
            self.tr("Methods"),
            options=list(METHODS),
            allowMultiple=True,
            defaultValue=list(METHODS),
        )
        methods.setUsesStaticStrings(True)
        self.addParameter(methods)
        self.add_model_parameters(self.MODEL, self.MODEL_FILE, self.tr("MMMamba model"))
        self.add_device_parameter()
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.MAX_SIZE,
                    self.tr(
                        "Largest PAN side assessed (pixels; larger scenes: the centre; 0 = all)"
                    ),
                    type=QgsProcessingParameterNumber.Integer,
                    defaultValue=1024,
                    minValue=0,
                )
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.REPORT, self.tr("Report"), self.tr("HTML files (*.html)")
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.JSON,
                self.tr("Figures as JSON"),
                self.tr("JSON files (*.json)"),
                optional=True,
                createByDefault=False,
            )
        )

    def backend_arguments(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> dict[str, Any]:
        """Keyword arguments of `backend.evaluate.evaluate` for these parameters (pure)."""
        from ...backend.model.registry import resolve_model

        pan = self.raster_path(parameters, self.PAN, context)
        ms_layer = self.parameterAsRasterLayer(parameters, self.MS, context)
        if pan is None or ms_layer is None:
            raise QgsProcessingException(self.tr("Both a PAN and an MS layer are required."))
        methods = self.parameterAsEnumStrings(parameters, self.METHODS, context)
        if not methods:
            raise QgsProcessingException(self.tr("Choose at least one method."))
        model = None
        if "mmmamba" in methods:
            model = resolve_model(
                self.model_value(parameters, self.MODEL, self.MODEL_FILE, context),
                ms_bands=ms_layer.bandCount(),
                extra_dirs=settings.extra_model_dirs(),
            )
        return {
            "pan": pan,
            "ms": self.layer_source(ms_layer),
            "sensor": self.parameterAsEnumString(parameters, self.SENSOR, context),
            "methods": list(methods),
            "model": model,
            "device": self.device_value(parameters, context),
            "max_size": self.parameterAsInt(parameters, self.MAX_SIZE, context) or None,
            "report": self.parameterAsFileOutput(parameters, self.REPORT, context),
            "json": self.parameterAsFileOutput(parameters, self.JSON, context) or None,
        }

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Run the assessment; QGIS opens the HTML report in the results viewer."""

        def call(progress):
            from ...backend.evaluate import evaluate

            args = self.backend_arguments(parameters, context)
            return args, evaluate(**args, progress=progress)

        args, result = self.run_backend(feedback, call)
        outputs = result.get("outputs", {})
        return {self.REPORT: args["report"], self.JSON: outputs.get("json", args["json"])}

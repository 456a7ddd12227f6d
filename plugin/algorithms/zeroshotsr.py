"""`mmmamba:zeroshotsr`: super-resolve any raster, guided by a finer band or not at all."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsMultiBandColorRenderer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterBand,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..rendering import ResultStyler
from .base import MMMambaAlgorithm, advanced

SCALES = (2, 3, 4, 8)
ENSEMBLES = (1, 2, 4, 8)
DEFAULT_ENSEMBLE_INDEX = 3  # 8 views, backend.sr.DEFAULT_ENSEMBLE
DEFAULT_BACKPROJECT = 5  # backend.sr.DEFAULT_BACKPROJECT


class ZeroShotSRAlgorithm(MMMambaAlgorithm):
    """Zero-shot super-resolution with the fusion network (guided or by internal learning)."""

    INPUT = "INPUT"
    SCALE = "SCALE"
    GUIDE = "GUIDE"
    GUIDE_BAND = "GUIDE_BAND"
    ADAPT_STEPS = "ADAPT_STEPS"
    ADAPT_SECONDS = "ADAPT_SECONDS"
    MODEL_FILE = "MODEL_FILE"
    ENSEMBLE = "ENSEMBLE"
    BACKPROJECT = "BACKPROJECT"
    OUTPUT = "OUTPUT"

    # Filled by prepareAlgorithm (main thread) for the post-processing of the result.
    _input_name = ""
    _input_rgb: tuple[int, int, int] | None = None

    def name(self) -> str:
        """Stable id (`mmmamba:zeroshotsr`)."""
        return "zeroshotsr"

    def displayName(self) -> str:
        """Name in the toolbox."""
        return self.tr("Zero-shot SR")

    def group(self) -> str:
        """Toolbox group."""
        return self.tr("Super-resolution")

    def groupId(self) -> str:
        """Stable group id."""
        return "superresolution"

    def shortHelpString(self) -> str:
        """What the tool does, expects and writes."""
        return "".join(
            [
                self.tr(
                    "<p>Increases the resolution of any raster by 2, 3, 4 or 8 with the "
                    "MMMamba fusion network, without training data prepared by you.</p>"
                ),
                self.tr(
                    "<p><b>Guided.</b> Give a co-registered higher-resolution raster as "
                    "'Guide' (a panchromatic band, a 10 m Sentinel-2 band for its 20 m bands, "
                    "an aerial image) and the band to use, or none for the mean of its bands. "
                    "The guide's grid defines the output grid; the scale must equal the ratio "
                    "of the input's pixel size to the guide's.</p>"
                ),
                self.tr(
                    "<p><b>Unguided.</b> Without a guide, the network's panchromatic input is "
                    "synthesised from the input itself and the model adapts to the image by "
                    "learning from downscaled copies of it, starting from the shipped "
                    "weights. 'Adaptation steps' or 'Adaptation time' bound that learning; 0 "
                    "steps uses the shipped weights only. Leave both empty for the default "
                    "budget.</p>"
                ),
                self.tr(
                    "<p><b>Inputs.</b> Any band count and bit depth (8-16-bit integers, "
                    "floats); nodata is respected.</p>"
                ),
                self.tr(
                    "<p><b>Output.</b> A GeoTIFF in the same CRS and origin, pixel size "
                    "divided by the scale, in the input's data type, loaded under the input's "
                    "name.</p>"
                ),
                self.tr(
                    "<p><b>GPU or CPU.</b> Adaptation trains the network, which is far faster "
                    "on an NVIDIA GPU; on a CPU keep the adaptation budget to a few minutes "
                    "and the input small.</p>"
                ),
            ]
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """Declare the parameters (keys are the public API of processing.run/qgis_process)."""
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Input raster")))
        self.addParameter(
            QgsProcessingParameterEnum(
                self.SCALE,
                self.tr("Scale factor"),
                options=[f"×{s}" for s in SCALES],
                defaultValue=0,
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.GUIDE, self.tr("Guide (higher-resolution band)"), optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterBand(
                self.GUIDE_BAND,
                self.tr("Guide band (empty: the mean of the guide's bands)"),
                parentLayerParameterName=self.GUIDE,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.ADAPT_STEPS,
                self.tr("Adaptation steps (0 = shipped weights only; empty = default)"),
                type=QgsProcessingParameterNumber.Integer,
                minValue=0,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.ADAPT_SECONDS,
                self.tr("Adaptation time in seconds (instead of steps)"),
                type=QgsProcessingParameterNumber.Double,
                minValue=0.0,
                optional=True,
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterFile(
                    self.MODEL_FILE,
                    self.tr("Model file (.safetensors; default: the shipped model)"),
                    extension="safetensors",
                    optional=True,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterEnum(
                    self.ENSEMBLE,
                    self.tr("Flipped and rotated views averaged (more: better, slower)"),
                    options=[str(v) for v in ENSEMBLES],
                    defaultValue=DEFAULT_ENSEMBLE_INDEX,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.BACKPROJECT,
                    self.tr("Back-projection iterations (0 = none)"),
                    type=QgsProcessingParameterNumber.Integer,
                    defaultValue=DEFAULT_BACKPROJECT,
                    minValue=0,
                    maxValue=50,
                )
            )
        )
        self.add_device_parameter()
        self.add_tile_parameter()
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Super-resolved"))
        )

    def checkParameterValues(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[bool, str]:
        """Steps and seconds are two ways to give one budget: accept one of them."""
        ok, message = super().checkParameterValues(parameters, context)
        if (
            ok
            and parameters.get(self.ADAPT_STEPS) not in (None, "")
            and parameters.get(self.ADAPT_SECONDS) not in (None, "")
        ):
            return False, self.tr("Give either 'Adaptation steps' or 'Adaptation time', not both.")
        return ok, message

    def backend_arguments(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> dict[str, Any]:
        """Keyword arguments of `backend.sr.super_resolve` for these parameters (pure)."""
        guide = self.raster_path(parameters, self.GUIDE, context)
        return {
            "input": self.raster_path(parameters, self.INPUT, context),
            "out": self.parameterAsOutputLayer(parameters, self.OUTPUT, context),
            "scale": SCALES[self.parameterAsEnum(parameters, self.SCALE, context)],
            "guide": guide,
            "guide_band": (
                (self.parameterAsInt(parameters, self.GUIDE_BAND, context) or None)
                if guide
                else None
            ),
            "adapt_steps": self.optional_number(parameters, self.ADAPT_STEPS, context, int),
            "adapt_seconds": self.optional_number(parameters, self.ADAPT_SECONDS, context, float),
            "model": self.parameterAsFile(parameters, self.MODEL_FILE, context) or None,
            "device": self.device_value(parameters, context),
            "tile": self.parameterAsInt(parameters, self.TILE_SIZE, context),
            "ensemble": ENSEMBLES[self.parameterAsEnum(parameters, self.ENSEMBLE, context)],
            "backproject": self.parameterAsInt(parameters, self.BACKPROJECT, context),
        }

    def prepareAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> bool:
        """Runs in the main thread: remember how the input is drawn, to draw the result alike."""
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        self._input_name = layer.name() if layer is not None else ""
        self._input_rgb = None
        renderer = layer.renderer() if layer is not None else None
        if isinstance(renderer, QgsMultiBandColorRenderer):
            self._input_rgb = (renderer.redBand(), renderer.greenBand(), renderer.blueBand())
        return True

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Run the backend and prepare how the result loads."""

        def call(progress):
            from ...backend.sr import super_resolve

            args = self.backend_arguments(parameters, context)
            super_resolve(**args, progress=progress)
            return args

        args = self.run_backend(feedback, call)
        name = self.tr("{name} ×{scale}").format(name=self._input_name, scale=args["scale"])
        rgb = self._input_rgb if self._input_rgb and min(self._input_rgb) > 0 else None
        ResultStyler.attach(context, args["out"], name, rgb)
        return {self.OUTPUT: args["out"]}

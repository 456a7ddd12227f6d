"""`mmmamba:finetune`: adapt a model to one scene (self-supervised), optionally pan-sharpen it."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .. import settings
from ..rendering import ResultStyler, rgb_bands
from .base import MMMambaAlgorithm, advanced
from .quality import SENSORS

AUTO_SENSOR = "auto"


class FinetuneAlgorithm(MMMambaAlgorithm):
    """Fine-tune a pan-sharpening model on the scene at hand within a time budget."""

    PAN = "PAN"
    MS = "MS"
    MINUTES = "MINUTES"
    MODEL = "MODEL"
    MODEL_FILE = "MODEL_FILE"
    OUTPUT_MODEL = "OUTPUT_MODEL"
    PANSHARPENED = "PANSHARPENED"
    SENSOR = "SENSOR"
    MAX_SIZE = "MAX_SIZE"
    STEPS = "STEPS"
    START_L1 = "START_L1"
    BEST_L1 = "BEST_L1"

    def name(self) -> str:
        """Stable id (`mmmamba:finetune`)."""
        return "finetune"

    def displayName(self) -> str:
        """Name in the toolbox."""
        return self.tr("Fine-tune model on a scene")

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
                    "<p>Adapts a pan-sharpening model to one scene, without reference data: "
                    "training pairs are made by degrading the scene's own PAN and MS by the "
                    "resolution ratio (Wald's protocol), starting from the chosen model.</p>"
                ),
                self.tr(
                    "<p><b>Inputs.</b> PAN and MS layers as for 'MMMamba Pansharpen' (MS "
                    "bands in the model's band order), a time budget in minutes and the sensor, "
                    "whose MTF gains shape the degradation. 'auto' as starting model takes the "
                    "shipped model for the MS band count, or trains from scratch if there is "
                    "none.</p>"
                ),
                self.tr(
                    "<p><b>Outputs.</b> A new model file (.safetensors with its .json model "
                    "card recording the scene and the training), usable in 'MMMamba "
                    "Pansharpen' as 'Model file' or from the extra model folder; optionally "
                    "the scene pan-sharpened with it.</p>"
                ),
                self.tr(
                    "<p><b>GPU or CPU.</b> Training is far faster on an NVIDIA GPU; on a CPU "
                    "the same time budget runs far fewer training steps, so expect a smaller "
                    "improvement.</p>"
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
        self.addParameter(
            QgsProcessingParameterNumber(
                self.MINUTES,
                self.tr("Time budget (minutes)"),
                type=QgsProcessingParameterNumber.Double,
                defaultValue=2.0,
                minValue=0.05,
                maxValue=24 * 60.0,
            )
        )
        self.add_model_parameters(self.MODEL, self.MODEL_FILE, self.tr("Starting model"))
        sensor = QgsProcessingParameterEnum(
            self.SENSOR,
            self.tr("Sensor (MTF of the degradation; 'auto': from the file name)"),
            options=[AUTO_SENSOR, *SENSORS],
            defaultValue=AUTO_SENSOR,
        )
        sensor.setUsesStaticStrings(True)
        self.addParameter(sensor)
        self.add_device_parameter()
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.MAX_SIZE,
                    self.tr("Largest PAN side used for training (pixels; larger: the centre)"),
                    type=QgsProcessingParameterNumber.Integer,
                    defaultValue=2048,
                    minValue=64,
                )
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_MODEL,
                self.tr("Fine-tuned model"),
                self.tr("MMMamba model files (*.safetensors)"),
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.PANSHARPENED,
                self.tr("Scene pan-sharpened with the fine-tuned model"),
                optional=True,
                createByDefault=False,
            )
        )
        self.addOutput(QgsProcessingOutputNumber(self.STEPS, self.tr("Training steps")))
        self.addOutput(QgsProcessingOutputNumber(self.START_L1, self.tr("Validation L1 before")))
        self.addOutput(QgsProcessingOutputNumber(self.BEST_L1, self.tr("Validation L1 after")))

    def backend_arguments(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> dict[str, Any]:
        """Keyword arguments of `backend.finetune.finetune` for these parameters (pure)."""
        from ...backend.model.registry import resolve_model

        pan = self.raster_path(parameters, self.PAN, context)
        ms_layer = self.parameterAsRasterLayer(parameters, self.MS, context)
        if pan is None or ms_layer is None:
            raise QgsProcessingException(self.tr("Both a PAN and an MS layer are required."))
        choice = self.model_value(parameters, self.MODEL, self.MODEL_FILE, context)
        sensor = self.parameterAsEnumString(parameters, self.SENSOR, context)
        return {
            "pan": pan,
            "ms": self.layer_source(ms_layer),
            "out": self.parameterAsFileOutput(parameters, self.OUTPUT_MODEL, context),
            "minutes": self.parameterAsDouble(parameters, self.MINUTES, context),
            # "auto": the backend picks the shipped model that fits, or starts from scratch.
            "base_model": None
            if choice is None
            else resolve_model(choice, extra_dirs=settings.extra_model_dirs()),
            "pansharpen_out": self.parameterAsOutputLayer(parameters, self.PANSHARPENED, context)
            or None,
            "device": self.device_value(parameters, context),
            "sensor": None if sensor in ("", AUTO_SENSOR) else sensor,
            "max_size": self.parameterAsInt(parameters, self.MAX_SIZE, context),
        }

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Train, save the model (and pan-sharpen the scene with it when asked)."""

        def call(progress):
            from ...backend.finetune import finetune

            args = self.backend_arguments(parameters, context)
            return args, finetune(**args, progress=progress)

        args, result = self.run_backend(feedback, call)
        if result.cancelled:
            feedback.pushWarning(
                self.tr("Stopped early: the best weights so far were written to {0}.").format(
                    result.model_path
                )
            )
        pansharpened = str(result.pansharpened) if result.pansharpened else None
        if pansharpened:
            ms_layer = self.parameterAsRasterLayer(parameters, self.MS, context)
            ResultStyler.attach(
                context, pansharpened, ms_layer.name(), rgb_bands(result.card.bands)
            )
        return {
            self.OUTPUT_MODEL: str(result.model_path),
            self.PANSHARPENED: pansharpened,
            self.STEPS: result.steps,
            self.START_L1: result.start_val_l1,
            self.BEST_L1: result.best_val_l1,
        }

"""`mmmamba:pansharpen`: fuse a panchromatic band and a multispectral image with MMMamba."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterBand,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .. import settings
from ..rendering import ResultStyler, rgb_bands
from .base import MMMambaAlgorithm, advanced


class PansharpenAlgorithm(MMMambaAlgorithm):
    """Pan-sharpen an MS image to the PAN grid with a shipped or custom MMMamba model."""

    PAN = "PAN"
    PAN_BAND = "PAN_BAND"
    MS = "MS"
    MODEL = "MODEL"
    MODEL_FILE = "MODEL_FILE"
    OVERLAP = "OVERLAP"
    BATCH_SIZE = "BATCH_SIZE"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        """Stable id (`mmmamba:pansharpen`)."""
        return "pansharpen"

    def displayName(self) -> str:
        """Name in the toolbox."""
        return self.tr("MMMamba Pansharpen")

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
                    "<p>Fuses a high-resolution panchromatic band (PAN) with a "
                    "lower-resolution multispectral image (MS) into a multispectral image on "
                    "the PAN grid, with the MMMamba network.</p>"
                ),
                self.tr(
                    "<p><b>Inputs.</b> PAN: any single band of a raster (choose it with 'PAN "
                    "band'). MS: all bands, in the band order of the model (the model card "
                    "lists it, e.g. blue, green, red, near-infrared). Both must overlap and "
                    "be georeferenced; the MS pixel is usually 4 times the PAN pixel. 8-, "
                    "11-, 12- and 16-bit integers and floats are accepted: each scene is "
                    "normalised by its own statistics. Nodata is respected.</p>"
                ),
                self.tr(
                    "<p><b>Model.</b> 'auto' takes the shipped model whose band count matches "
                    "the MS image; choose another by name, or give a model file (.safetensors "
                    "with its .json card) from the fine-tuning tool. Extra models can be "
                    "placed in the folder set in Processing options > Providers > "
                    "MMMamba.</p>"
                ),
                self.tr(
                    "<p><b>Output.</b> A GeoTIFF with the MS bands at the PAN resolution, on "
                    "the PAN grid (CRS and extent of the overlap), in the MS data type. It is "
                    "loaded under the MS layer's name, in true colour when the model knows "
                    "the band order.</p>"
                ),
                self.tr(
                    "<p><b>GPU or CPU.</b> 'Automatic' uses an NVIDIA GPU when PyTorch can "
                    "(with its Triton kernels and a tile size of 1024: about 10 million PAN "
                    "pixels per second on an H200), else the CPU. The CPU is slower: with the "
                    "shipped 4-band model a million PAN pixels (1000 x 1000) took about 50 "
                    "seconds on two cores, so use a GPU for whole scenes or crop the scene "
                    "first. Tile size is an upper bound that bounds memory: lower it if the "
                    "device runs out of memory.</p>"
                ),
            ]
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """Declare the parameters (keys are the public API of processing.run/qgis_process)."""
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.PAN, self.tr("Panchromatic layer (PAN)"))
        )
        self.addParameter(
            QgsProcessingParameterBand(
                self.PAN_BAND,
                self.tr("PAN band"),
                defaultValue=1,
                parentLayerParameterName=self.PAN,
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.MS, self.tr("Multispectral layer (MS)"))
        )
        self.add_model_parameters(self.MODEL, self.MODEL_FILE, self.tr("Model"))
        self.add_device_parameter()
        self.add_tile_parameter(default=None)
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.OVERLAP,
                    self.tr("Tile overlap (PAN pixels; empty = automatic)"),
                    type=QgsProcessingParameterNumber.Integer,
                    minValue=0,
                    optional=True,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.BATCH_SIZE,
                    self.tr("Batch size (tiles per network call)"),
                    type=QgsProcessingParameterNumber.Integer,
                    defaultValue=1,
                    minValue=1,
                    maxValue=64,
                )
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Pan-sharpened"))
        )

    def checkParameterValues(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[bool, str]:
        """Catch a named model whose band count does not match the MS layer before running."""
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        ms = self.parameterAsRasterLayer(parameters, self.MS, context)
        name = self.parameterAsEnumString(parameters, self.MODEL, context)
        if ms is None or self.parameterAsFile(parameters, self.MODEL_FILE, context):
            return True, ""
        bands = dict(self.installed_models()).get(name)
        if bands is not None and bands != ms.bandCount():
            return False, self.tr(
                "Model '{model}' expects {expected} MS bands but layer '{layer}' has {actual}. "
                "Choose 'auto' or a model made for {actual} bands."
            ).format(model=name, expected=bands, layer=ms.name(), actual=ms.bandCount())
        return True, ""

    def backend_arguments(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> dict[str, Any]:
        """Keyword arguments of `backend.pansharpen.pansharpen` for these parameters.

        Pure: reads the parameters and the model registry, runs nothing, writes nothing.
        """
        from ...backend.model.registry import resolve_model

        pan = self.raster_path(parameters, self.PAN, context)
        ms_layer = self.parameterAsRasterLayer(parameters, self.MS, context)
        if pan is None or ms_layer is None:
            raise QgsProcessingException(self.tr("Both a PAN and an MS layer are required."))
        model = resolve_model(
            self.model_value(parameters, self.MODEL, self.MODEL_FILE, context),
            ms_bands=ms_layer.bandCount(),
            extra_dirs=settings.extra_model_dirs(),
        )
        return {
            "pan": pan,
            "ms": self.layer_source(ms_layer),
            "out": self.parameterAsOutputLayer(parameters, self.OUTPUT, context),
            "model": model,
            "device": self.device_value(parameters, context),
            "tile": self.optional_number(parameters, self.TILE_SIZE, context, int),
            "overlap": self.optional_number(parameters, self.OVERLAP, context, int),
            "batch": self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            "pan_band": self.parameterAsInt(parameters, self.PAN_BAND, context),
        }

    def processAlgorithm(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Run the backend and prepare how the result loads."""

        def call(progress):
            from ...backend.model.card import read_card
            from ...backend.pansharpen import pansharpen

            args = self.backend_arguments(parameters, context)
            pansharpen(**args, progress=progress)
            return args, read_card(args["model"])

        args, card = self.run_backend(feedback, call)
        ms_layer = self.parameterAsRasterLayer(parameters, self.MS, context)
        ResultStyler.attach(context, args["out"], ms_layer.name(), rgb_bands(card.bands))
        return {self.OUTPUT: args["out"]}

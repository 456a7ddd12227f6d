"""Shared base of the MMMamba algorithms: translation, common parameters, running the backend.

Every algorithm maps its parameters to keyword arguments of one backend function in a pure
method (`backend_arguments`), then calls that function through `run_backend`, which checks that
PyTorch is importable, adapts the feedback to the backend's `Progress`, forwards the backend's log
lines and turns the backend's typed errors into `QgsProcessingException`s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .. import environment, settings
from ..feedback import FeedbackProgress, forward_logs
from ..i18n import TranslationContext

T = TypeVar("T")

HOMEPAGE = "https://github.com/mmmamba-qgis/mmmamba"
ICON_PATH = Path(__file__).resolve().parents[2] / "resources" / "icon.svg"
AUTO_MODEL = "auto"

log = logging.getLogger(__name__)


class MMMambaCommon(TranslationContext):
    """Translation context of the texts every algorithm shares."""


def backend_package() -> str:
    """Import name of the bundled backend (`mmmamba.backend` inside QGIS)."""
    return __name__.rsplit(".plugin.", 1)[0] + ".backend" if ".plugin." in __name__ else "backend"


def advanced(parameter: QgsProcessingParameterDefinition) -> QgsProcessingParameterDefinition:
    """Mark a tuning knob as Advanced (hidden under the Advanced section of the dialog)."""
    parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return parameter


class MMMambaAlgorithm(QgsProcessingAlgorithm):
    """Base class of the provider's algorithms (one translation context per subclass)."""

    DEVICE = "DEVICE"
    TILE_SIZE = "TILE_SIZE"

    # -- identity --------------------------------------------------------------------------

    def tr(self, string: str) -> str:
        """Translate `string` in the context of the concrete algorithm class."""
        return QCoreApplication.translate(type(self).__name__, string)

    def createInstance(self) -> MMMambaAlgorithm:
        """A fresh instance for each run (QGIS runs instances in background threads)."""
        return type(self)()

    def icon(self) -> QIcon:
        """The plugin icon."""
        return QIcon(str(ICON_PATH))

    def helpUrl(self) -> str:
        """The project's home page."""
        return HOMEPAGE

    # -- common parameters -----------------------------------------------------------------

    def device_labels(self) -> list[str]:
        """Translated labels of the DEVICE enum, in the order of `settings.DEVICES`."""
        return [
            MMMambaCommon.tr("Automatic (GPU when usable)"),
            MMMambaCommon.tr("CUDA GPU"),
            MMMambaCommon.tr("CPU"),
        ]

    def add_device_parameter(self) -> None:
        """Advanced DEVICE enum; its default is the device chosen in the Processing options."""
        self.addParameter(
            advanced(
                QgsProcessingParameterEnum(
                    self.DEVICE,
                    MMMambaCommon.tr("Device"),
                    options=self.device_labels(),
                    defaultValue=settings.DEVICES.index(settings.default_device()),
                )
            )
        )

    def add_tile_parameter(self, default: int | None = 512) -> None:
        """Advanced TILE_SIZE: largest side of the square tiles the network sees (memory bound);
        `default` None: optional, empty = the backend's choice for the device."""
        if default is None:
            label = MMMambaCommon.tr(
                "Tile size (output pixels; empty = automatic: 1024 on a GPU, 512 on a CPU; "
                "smaller uses less memory)"
            )
        else:
            label = MMMambaCommon.tr("Tile size (output pixels; smaller uses less memory)")
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.TILE_SIZE,
                    label,
                    type=QgsProcessingParameterNumber.Integer,
                    defaultValue=default,
                    minValue=32,
                    maxValue=8192,
                    optional=default is None,
                )
            )
        )

    def add_model_parameters(self, key: str, file_key: str, description: str) -> None:
        """A MODEL enum of installed model names (plus "auto") and a MODEL_FILE override.

        Model names are static strings, so saved models and scripts keep pointing at the same
        model when models are added or removed.
        """
        names = [AUTO_MODEL, *[name for name, _bands in self.installed_models()]]
        model = QgsProcessingParameterEnum(key, description, options=names, defaultValue=AUTO_MODEL)
        model.setUsesStaticStrings(True)
        self.addParameter(model)
        self.addParameter(
            QgsProcessingParameterFile(
                file_key,
                MMMambaCommon.tr("Model file (.safetensors; overrides the model above)"),
                extension="safetensors",
                optional=True,
            )
        )

    @staticmethod
    def installed_models() -> list[tuple[str, int]]:
        """(name, MS band count) of the shipped models and those of the extra model folder.

        Reads only the JSON model cards. Returns an empty list when the backend cannot list
        models (e.g. PyTorch missing): the algorithms must still appear in the toolbox.
        """
        try:
            from ...backend.model.registry import list_models

            cards = list_models(extra_dirs=settings.extra_model_dirs())
        except ImportError as exc:
            log.info("models not listed: %s", exc)
            return []
        except Exception as exc:
            log.warning("models not listed: %s", exc)
            return []
        return [(card.name, card.ms_bands) for card in cards]

    # -- reading parameters ----------------------------------------------------------------

    def device_value(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str:
        """Backend device spec ("auto", "cuda" or "cpu") of the DEVICE parameter."""
        return settings.DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)]

    def raster_path(
        self, parameters: dict[str, Any], key: str, context: QgsProcessingContext
    ) -> str | None:
        """The file (GDAL data source) behind a raster layer parameter, None if not given."""
        layer = self.parameterAsRasterLayer(parameters, key, context)
        if layer is None:
            if parameters.get(key) in (None, ""):
                return None
            raise QgsProcessingException(self.invalidRasterError(parameters, key))
        return self.layer_source(layer)

    def layer_source(self, layer: QgsRasterLayer) -> str:
        """GDAL data source of `layer`; other providers (WMS, memory) cannot be read by GDAL."""
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                MMMambaCommon.tr(
                    "Layer '{name}' is not a file GDAL can read (provider '{provider}'). "
                    "Save it as GeoTIFF first (right-click > Export > Save As)."
                ).format(name=layer.name(), provider=layer.providerType())
            )
        return layer.source()

    def model_value(
        self,
        parameters: dict[str, Any],
        key: str,
        file_key: str,
        context: QgsProcessingContext,
    ) -> str | None:
        """The model file if given, else the chosen model name, None for "auto"."""
        model_file = self.parameterAsFile(parameters, file_key, context)
        if model_file:
            return model_file
        name = self.parameterAsEnumString(parameters, key, context)
        return None if not name or name == AUTO_MODEL else name

    def optional_number(
        self, parameters: dict[str, Any], key: str, context: QgsProcessingContext, kind: type
    ) -> Any:
        """An optional number parameter as `kind`, or None when left empty."""
        value = parameters.get(key)
        if value is None or value == "":
            return None
        if kind is int:
            return self.parameterAsInt(parameters, key, context)
        return self.parameterAsDouble(parameters, key, context)

    # -- running ---------------------------------------------------------------------------

    def check_environment(self, progress: FeedbackProgress) -> None:
        """Stop with install instructions if PyTorch is missing; note an unusable GPU once."""
        missing = environment.missing_modules()
        if missing:
            raise QgsProcessingException(environment.install_instructions(missing))
        notice = environment.gpu_notice_once()
        if notice:
            progress.warning(notice)

    def run_backend(
        self,
        feedback: QgsProcessingFeedback | None,
        call: Callable[[FeedbackProgress], T],
        *,
        start: float = 0.0,
        end: float = 1.0,
    ) -> T:
        """Call `call(progress)` with backend errors turned into `QgsProcessingException`.

        Args:
            feedback: The algorithm's feedback.
            call: Runs the backend with the given `Progress`; imports the backend lazily.
            start: Start of this call's share of the progress bar, in [0, 1].
            end: End of its share.

        Returns:
            Whatever `call` returns.
        """
        from ...backend.errors import Cancelled, MMMambaError

        progress = FeedbackProgress(feedback, start, end)
        self.check_environment(progress)
        with forward_logs(backend_package(), progress):
            try:
                return call(progress)
            except Cancelled as exc:
                raise QgsProcessingException(
                    MMMambaCommon.tr("Cancelled; no output was written.")
                ) from exc
            except MMMambaError as exc:
                raise QgsProcessingException(str(exc)) from exc
            except MemoryError as exc:
                raise QgsProcessingException(self.memory_advice()) from exc
            except RuntimeError as exc:
                # torch.cuda.OutOfMemoryError and the CPU allocator's failures are RuntimeErrors.
                if "out of memory" in str(exc).lower() or "not enough memory" in str(exc).lower():
                    raise QgsProcessingException(self.memory_advice()) from exc
                raise

    def memory_advice(self) -> str:
        """What to do when the device ran out of memory."""
        return MMMambaCommon.tr(
            "The device ran out of memory. Lower 'Tile size' (Advanced parameters), "
            "set 'Batch size' to 1, or run on the CPU."
        )

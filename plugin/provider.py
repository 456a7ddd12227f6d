"""The `mmmamba` Processing provider."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import settings
from .algorithms.finetune import FinetuneAlgorithm
from .algorithms.pansharpen import PansharpenAlgorithm
from .algorithms.quality import QualityAlgorithm
from .algorithms.zeroshotsr import ZeroShotSRAlgorithm

ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icon.svg"


class MMMambaProvider(QgsProcessingProvider):
    """Provider `mmmamba`: pan-sharpening, zero-shot super-resolution, quality, fine-tuning."""

    def load(self) -> bool:
        """Register the Processing options, then the algorithms."""
        settings.register(self.name(), self.icon())
        self.refreshAlgorithms()
        return True

    def unload(self) -> None:
        """Remove the Processing options (the registry removes the algorithms)."""
        settings.unregister()

    def loadAlgorithms(self) -> None:
        """Create one instance of each algorithm."""
        for algorithm in (
            PansharpenAlgorithm(),
            ZeroShotSRAlgorithm(),
            QualityAlgorithm(),
            FinetuneAlgorithm(),
        ):
            self.addAlgorithm(algorithm)

    def id(self) -> str:
        """Stable id: the prefix of every algorithm id (`mmmamba:pansharpen`)."""
        return "mmmamba"

    def name(self) -> str:
        """Short display name."""
        return "MMMamba"

    def longName(self) -> str:
        """Name with the plugin version."""
        from ..backend import __version__

        return f"MMMamba {__version__}"

    def icon(self) -> QIcon:
        """The plugin icon."""
        return QIcon(str(ICON_PATH))

    def svgIconPath(self) -> str:
        """Path of the SVG icon (used by the modeler)."""
        return str(ICON_PATH)

    def supportedOutputRasterLayerExtensions(self) -> list[str]:
        """The backend writes GeoTIFF only."""
        return ["tif"]

    def defaultRasterFileExtension(self) -> str:
        """Temporary outputs become GeoTIFF files."""
        return "tif"

    def supportsNonFileBasedOutput(self) -> bool:
        """Every output is a file the backend writes."""
        return False

"""How a result loads: named after its input, shown as true colour when the band order is known."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from qgis.core import (
    QgsContrastEnhancement,
    QgsMapLayer,
    QgsMultiBandColorRenderer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
)

_COLOUR_NAMES = {
    "red": ("red", "r"),
    "green": ("green", "g"),
    "blue": ("blue", "b"),
}


def rgb_bands(band_names: Sequence[str] | None) -> tuple[int, int, int] | None:
    """1-based (red, green, blue) band numbers from a model card's band names, or None.

    Args:
        band_names: Names in band order, e.g. ["blue", "green", "red", "nir"].
    """
    if not band_names:
        return None
    lowered = [str(name).strip().lower() for name in band_names]
    found = []
    for colour in ("red", "green", "blue"):
        matches = [i for i, name in enumerate(lowered) if name in _COLOUR_NAMES[colour]]
        if not matches:
            return None
        found.append(matches[0] + 1)
    return found[0], found[1], found[2]


class ResultStyler(QgsProcessingLayerPostProcessorInterface):
    """Names the loaded result and, when the bands are known, renders it in true colour."""

    # QGIS keeps only a raw pointer to post-processors: Python must keep them alive.
    _alive: ClassVar[dict[str, ResultStyler]] = {}

    def __init__(self, name: str, rgb: tuple[int, int, int] | None) -> None:
        super().__init__()
        self.name = name
        self.rgb = rgb

    def postProcessLayer(
        self, layer: QgsMapLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        """Called in the main thread once the layer is in the project."""
        if not isinstance(layer, QgsRasterLayer):
            return
        layer.setName(self.name)
        if self.rgb and max(self.rgb) <= layer.bandCount():
            red, green, blue = self.rgb
            renderer = QgsMultiBandColorRenderer(layer.dataProvider(), red, green, blue)
            layer.setRenderer(renderer)
            # Sensor values (11-16 bit) need a stretch to look like a photograph.
            layer.setContrastEnhancement(
                QgsContrastEnhancement.StretchToMinimumMaximum,
                QgsRasterMinMaxOrigin.CumulativeCut,
            )
        layer.triggerRepaint()

    @classmethod
    def attach(
        cls,
        context: QgsProcessingContext,
        output: str,
        name: str,
        rgb: tuple[int, int, int] | None,
    ) -> None:
        """Style `output` when QGIS loads it (no-op under `qgis_process` or `processing.run`)."""
        if not context.willLoadLayerOnCompletion(output):
            return
        details = context.layerToLoadOnCompletionDetails(output)
        details.name = name
        if hasattr(details, "forceName"):
            details.forceName = True
        styler = cls(name, rgb)
        cls._alive[output] = styler
        details.setPostProcessor(styler)

"""The plugin object QGIS creates through `classFactory`."""

from __future__ import annotations

from qgis.core import QgsApplication

from .i18n import install_translator, remove_translator
from .provider import MMMambaProvider


class MMMambaPlugin:
    """Registers the MMMamba Processing provider in the desktop and in `qgis_process`.

    `qgis_process` calls only `initProcessing()`; the desktop calls `initGui()`, which registers
    the provider too. Both paths are idempotent so the provider is registered once.
    """

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: MMMambaProvider | None = None
        # Installed before any algorithm is built, so display names and help get translated.
        self.translator = install_translator()

    def initProcessing(self) -> None:
        """Register the provider (called by `qgis_process` and by `initGui`)."""
        if self.provider is None:
            self.provider = MMMambaProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        """Desktop start-up: the algorithms live in the Processing Toolbox, no menus needed."""
        self.initProcessing()

    def unload(self) -> None:
        """Remove the provider, its settings and the translator."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None

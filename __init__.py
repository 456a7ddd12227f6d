"""QGIS entry point of the MMMamba plugin.

QGIS imports this package at start-up (and `qgis_process` on every call), so it imports nothing
heavy: the plugin class, Qt and the backend are loaded only when QGIS asks for the plugin.
"""


def classFactory(iface):
    """Create the plugin object; `iface` is None under `qgis_process`.

    Args:
        iface: The QgisInterface of the desktop application, or None when headless.

    Returns:
        The MMMamba plugin object with initProcessing(), initGui() and unload().
    """
    from .plugin.plugin import MMMambaPlugin

    return MMMambaPlugin(iface)

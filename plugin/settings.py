"""Processing options of the provider: default device and an extra model folder.

They appear under Settings > Options > Processing > Providers > MMMamba and are stored in the
QGIS profile (`Processing/Configuration/<KEY>`), so `qgis_process` reads them too.
"""

from __future__ import annotations

from pathlib import Path

from processing.core.ProcessingConfig import ProcessingConfig, Setting
from qgis.PyQt.QtGui import QIcon

from .i18n import TranslationContext

DEVICE_SETTING = "MMMAMBA_DEVICE"
MODEL_FOLDER_SETTING = "MMMAMBA_MODEL_FOLDER"
# Backend device specs, in the order the DEVICE parameter lists them.
DEVICES = ("auto", "cuda", "cpu")


class MMMambaSettings(TranslationContext):
    """Translation context of the option labels."""


def register(group: str, icon: QIcon) -> None:
    """Add the provider's options to the Processing options and read their stored values."""
    ProcessingConfig.settingIcons[group] = icon
    ProcessingConfig.addSetting(
        Setting(
            group,
            DEVICE_SETTING,
            MMMambaSettings.tr("Default device (auto, cuda or cpu)"),
            "auto",
            valuetype=Setting.SELECTION_STORE_STRING,
            options=list(DEVICES),
        )
    )
    ProcessingConfig.addSetting(
        Setting(
            group,
            MODEL_FOLDER_SETTING,
            MMMambaSettings.tr("Extra folder with MMMamba models (.safetensors + .json)"),
            "",
            valuetype=Setting.FOLDER,
        )
    )
    ProcessingConfig.readSettings()


def unregister() -> None:
    """Remove the options again (plugin unload)."""
    for name in (DEVICE_SETTING, MODEL_FOLDER_SETTING):
        if name in ProcessingConfig.settings:
            ProcessingConfig.removeSetting(name)


def default_device() -> str:
    """The device spec chosen in the options ("auto" when unset or unknown)."""
    value = str(ProcessingConfig.getSetting(DEVICE_SETTING) or "auto").strip().lower()
    return value if value in DEVICES else "auto"


def extra_model_dirs() -> tuple[Path, ...]:
    """The extra model folder of the options, if set and present."""
    value = ProcessingConfig.getSetting(MODEL_FOLDER_SETTING)
    if not value:
        return ()
    folder = Path(str(value)).expanduser()
    return (folder,) if folder.is_dir() else ()

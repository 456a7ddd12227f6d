"""Load the plugin's translation for the user's QGIS locale."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

I18N_DIR = Path(__file__).resolve().parent.parent / "i18n"


def user_locale() -> str:
    """Return the locale QGIS runs in, e.g. "zh_CN" or "fr" (QGIS's override first)."""
    settings = QgsSettings()
    if settings.value("locale/overrideFlag", False, type=bool):
        chosen = str(settings.value("locale/userLocale", "") or "")
        if chosen:
            return chosen
    return QLocale().name()


def translation_candidates(locale: str) -> list[Path]:
    """The .qm files to try for `locale`, most specific first ("zh_CN" then "zh")."""
    names = [locale, locale.split("_")[0]] if "_" in locale else [locale]
    return [I18N_DIR / f"mmmamba_{name}.qm" for name in names]


def install_translator(locale: str | None = None) -> QTranslator | None:
    """Install the translator for `locale` (default: the user's) into the application.

    Returns:
        The installed translator (keep a reference; Qt does not own it), or None when the plugin
        has no translation for that locale.
    """
    for path in translation_candidates(locale or user_locale()):
        if not path.is_file():
            continue
        translator = QTranslator()
        if translator.load(str(path)):
            QCoreApplication.installTranslator(translator)
            return translator
    return None


def remove_translator(translator: QTranslator | None) -> None:
    """Undo `install_translator` (on plugin unload)."""
    if translator is not None:
        QCoreApplication.removeTranslator(translator)


class TranslationContext:
    """`Name.tr(text)` translates `text` in the context `Name`, as pylupdate5 reads it.

    Subclass it once per group of messages outside algorithm classes (algorithms use their
    own `self.tr`). Qt's `QCoreApplication.translate` calls work too, but pylupdate5 misses
    them when the formatter puts a trailing comma after the text.
    """

    @classmethod
    def tr(cls, text: str) -> str:
        """Translate `text` in this class's context."""
        return QCoreApplication.translate(cls.__name__, text)

"""Translations: complete, in sync with the code, compiled, and loaded from the user's locale."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import REPO, QgisProcess, qgis_env, write_profile

I18N = REPO / "i18n"
LOCALES = ("zh_CN", "fr")
SOURCES = ["__init__.py", *sorted(str(p.relative_to(REPO)) for p in REPO.glob("plugin/**/*.py"))]
PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
TAG = re.compile(r"</?[a-z]+>")


def _messages(ts: Path) -> list[tuple[str, str, ET.Element]]:
    root = ET.parse(ts).getroot()
    return [
        (context.findtext("name"), message.findtext("source"), message.find("translation"))
        for context in root.iter("context")
        for message in context.iter("message")
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_is_translated_with_its_placeholders_and_tags(locale: str) -> None:
    messages = _messages(I18N / f"mmmamba_{locale}.ts")
    assert len(messages) > 80
    for context, source, translation in messages:
        where = f"{locale} {context}: {source[:60]!r}"
        assert translation.get("type") is None, f"unfinished or obsolete: {where}"
        text = translation.text or ""
        assert text.strip(), f"empty: {where}"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), where
        assert TAG.findall(text) == TAG.findall(source), where
        words = re.findall(r"[A-Za-z]{2,}", PLACEHOLDER.sub("", source))
        if locale == "zh_CN" and len(words) >= 3:
            assert re.search(r"[\u4e00-\u9fff]", text), f"no Chinese text: {where}"


@pytest.mark.skipif(shutil.which("pylupdate5") is None, reason="pylupdate5 (pyqt5-dev-tools)")
@pytest.mark.parametrize("locale", LOCALES)
def test_ts_files_are_in_sync_with_the_code(locale: str, tmp_path: Path) -> None:
    """Regenerating from the code adds nothing untranslated and removes nothing."""
    committed = I18N / f"mmmamba_{locale}.ts"
    fresh = tmp_path / "i18n" / committed.name
    fresh.parent.mkdir()
    shutil.copy(committed, fresh)
    # Same relative layout as the repository so the recorded locations match.
    for source in SOURCES:
        target = tmp_path / source
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / source, target)
    proc = subprocess.run(
        ["pylupdate5", "-noobsolete", *SOURCES, "-ts", str(fresh.relative_to(tmp_path))],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    before = {(c, s) for c, s, _ in _messages(committed)}
    after = {(c, s): t for c, s, t in _messages(fresh)}
    assert set(after) == before, "run scripts/update_translations.sh and translate"
    assert all(t.get("type") is None for t in after.values())


@pytest.mark.skipif(shutil.which("lrelease") is None, reason="lrelease (qttools5-dev-tools)")
@pytest.mark.parametrize("locale", LOCALES)
def test_qm_files_are_compiled_from_the_ts_files(locale: str, tmp_path: Path) -> None:
    qm = tmp_path / "fresh.qm"
    subprocess.run(
        ["lrelease", "-silent", str(I18N / f"mmmamba_{locale}.ts"), "-qm", str(qm)],
        check=True, timeout=60,
    )  # fmt: skip
    assert (I18N / f"mmmamba_{locale}.qm").read_bytes() == qm.read_bytes()


@pytest.fixture(scope="module")
def localized_qgis(tmp_path_factory, plugin_dir):
    """`qgis_process` runners whose profile (or environment) asks for a locale."""

    def make(locale: str, *, via_settings: bool) -> QgisProcess:
        tmp = tmp_path_factory.mktemp(f"locale_{locale}")
        # Settings > Options > General > Override system locale, or the system's locale.
        ini = f"[locale]\noverrideFlag=true\nuserLocale={locale}\n" if via_settings else ""
        env = qgis_env(write_profile(tmp / "profile", ini), plugin_dir, tmp)
        if not via_settings:
            env.update(LANG=f"{locale}.UTF-8", LC_ALL=f"{locale}.UTF-8")
        return QgisProcess(env=env, cwd=tmp)

    return make


@pytest.mark.parametrize(
    ("locale", "via_settings", "name", "help_phrase", "parameter"),
    [
        ("zh_CN", True, "MMMamba 全色锐化", "使用 MMMamba 网络", "全色图层（PAN）"),
        ("fr", True, "Pansharpening MMMamba", "Fusionne une bande panchromatique", "Bande PAN"),
        ("fr_FR", False, "Pansharpening MMMamba", "Fusionne une bande panchromatique", "Bande PAN"),
    ],
)
def test_algorithm_name_and_help_follow_the_locale(
    localized_qgis, locale, via_settings, name, help_phrase, parameter
) -> None:
    runner = localized_qgis(locale, via_settings=via_settings)
    proc = runner("help", "mmmamba:pansharpen")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{name} (mmmamba:pansharpen)")
    assert help_phrase in proc.stdout
    assert parameter in proc.stdout


def test_english_stays_english(localized_qgis) -> None:
    runner = localized_qgis("en_US", via_settings=True)
    proc = runner("help", "mmmamba:pansharpen")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("MMMamba Pansharpen (mmmamba:pansharpen)")

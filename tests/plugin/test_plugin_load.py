"""The plugin loads in real QGIS, registers its provider and unloads cleanly."""

from __future__ import annotations

import configparser
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from qgis.core import QgsApplication

from .conftest import REPO, qgis_env

ALGORITHMS = {"mmmamba:pansharpen", "mmmamba:zeroshotsr", "mmmamba:quality", "mmmamba:finetune"}


def test_provider_registers_the_four_algorithms(provider) -> None:
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("mmmamba") is provider
    assert provider.name() == "MMMamba"
    assert not provider.icon().isNull()
    ids = {alg.id() for alg in provider.algorithms()}
    assert ids == ALGORITHMS
    for alg_id in ALGORITHMS:
        alg = registry.algorithmById(alg_id)
        assert alg is not None and alg.displayName() and alg.shortHelpString()


def test_metadata_is_complete_for_the_plugin_repository() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "metadata.txt", encoding="utf-8")
    meta = parser["general"]
    for key in (
        "name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
        "homepage", "tracker", "repository", "tags", "category", "icon", "changelog",
    ):  # fmt: skip
        assert meta.get(key, "").strip(), key
    assert meta["name"] == "MMMamba"
    assert meta["version"] == "0.1.0"
    assert meta["qgisMinimumVersion"] == "3.22"
    assert meta["category"] == "Raster"
    assert meta["hasProcessingProvider"] == "yes"
    assert (REPO / meta["icon"]).is_file()
    from backend import __version__

    assert __version__ == meta["version"]


@pytest.fixture(scope="module")
def fresh_load(plugin_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh QGIS does what qgis_process does: classFactory(None), initProcessing(); unload()."""
    tmp = tmp_path_factory.mktemp("fresh_load")
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(plugin_dir)!r})
        from qgis.core import QgsApplication
        app = QgsApplication([], False)
        app.initQgis()
        sys.path.append(QgsApplication.pkgDataPath() + "/python/plugins")
        from processing.core.Processing import Processing
        Processing.initialize()
        from processing.core.ProcessingConfig import ProcessingConfig
        import mmmamba
        plugin = mmmamba.classFactory(None)
        plugin.initProcessing()
        registry = QgsApplication.processingRegistry()
        print("ALGS", sorted(a.id() for a in registry.providerById("mmmamba").algorithms()))
        print("TORCH", "torch" in sys.modules)
        print("SETTING", "MMMAMBA_DEVICE" in ProcessingConfig.settings)
        plugin.unload()
        print("AFTER", registry.providerById("mmmamba") is None,
              "MMMAMBA_DEVICE" in ProcessingConfig.settings)
        app.exitQgis()
        """
    )
    profile = tmp / "profile"
    profile.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=qgis_env(profile, None, tmp),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)


def test_fresh_qgis_loads_and_unloads_the_plugin(fresh_load: dict[str, str]) -> None:
    assert fresh_load["ALGS"] == str(sorted(ALGORITHMS))
    assert fresh_load["SETTING"] == "True"
    assert fresh_load["AFTER"] == "True False"


def test_loading_the_plugin_does_not_import_torch(fresh_load: dict[str, str]) -> None:
    """Listing algorithms must stay cheap: PyTorch is imported only when an algorithm runs."""
    assert fresh_load["TORCH"] == "False"

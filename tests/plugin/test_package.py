"""The plugin zip of scripts/package.sh installs into a throwaway QGIS profile and runs."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, QgisProcess, qgis_env


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "package.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert path == out / "mmmamba-0.1.0.zip"
    return path


def test_zip_has_one_top_folder_and_no_dev_files(plugin_zip: Path) -> None:
    names = zipfile.ZipFile(plugin_zip).namelist()
    assert {name.split("/")[0] for name in names} == {"mmmamba"}
    for required in (
        "mmmamba/metadata.txt",
        "mmmamba/__init__.py",
        "mmmamba/plugin/provider.py",
        "mmmamba/backend/pansharpen.py",
        "mmmamba/resources/icon.svg",
        "mmmamba/i18n/mmmamba_zh_CN.qm",
        "mmmamba/i18n/mmmamba_fr.qm",
    ):
        assert required in names, required
    # Shipped models come along with their cards.
    shipped = sorted((REPO / "resources" / "models").glob("*.safetensors"))
    for weights in shipped:
        assert f"mmmamba/resources/models/{weights.name}" in names
        assert f"mmmamba/resources/models/{weights.with_suffix('.json').name}" in names
    forbidden = ("tests/", "bench/", "scripts/", ".ci/", "__pycache__", ".pyc", ".git", ".ts")
    for name in names:
        assert not any(part in name for part in forbidden), name
    for dev_file in ("Makefile", "pyproject.toml", "requirements-dev.txt", ".gitignore"):
        assert f"mmmamba/{dev_file}" not in names


def test_zip_installs_into_a_profile_and_an_algorithm_runs(
    plugin_zip: Path, scene, tiny_model, tmp_path: Path
) -> None:
    profile = tmp_path / "profile"
    plugins = profile / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(plugin_zip).extractall(plugins)
    # No QGIS_PLUGINPATH and a working folder outside the repository: only the zip's copy exists.
    runner = QgisProcess(env=qgis_env(profile, None, tmp_path), cwd=tmp_path)
    proc = runner("plugins", "enable", "mmmamba")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / "from_zip.tif"
    result = runner.run_json(
        "mmmamba:pansharpen",
        {"PAN": scene.pan, "MS": scene.ms, "MODEL_FILE": tiny_model, "DEVICE": 2,
         "TILE_SIZE": 64, "OUTPUT": out},
    )  # fmt: skip
    assert Path(result["results"]["OUTPUT"]) == out and out.is_file()
    proc = runner("--json", "plugins")
    assert proc.returncode == 0
    listing = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert listing["plugins"]["mmmamba"]["loaded"] is True

"""Fixtures of the plugin tests: real QGIS (pytest-qgis), real imagery, a tiny real model.

The repository root is the plugin folder. QGIS loads it as the package `mmmamba`, so the tests
do the same: a temporary folder holds a symlink `mmmamba` -> repository root and goes first on
`sys.path` (and on `QGIS_PLUGINPATH` for `qgis_process` and the desktop).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN_NAME = "mmmamba"
# Keep the test inputs tiny: a 128 x 128 PAN crop and the matching 32 x 32 MS crop.
PAN_WINDOW = (256, 256, 128, 128)
MS_WINDOW = (64, 64, 32, 32)
# Band order of the osman MS file (its colour interpretation: red, green, blue, undefined).
OSMAN_BANDS = ["red", "green", "blue", "nir"]

# Providers registered by the tests must outlive every test (QGIS keeps raw pointers).
_KEEP: list[object] = []


@dataclass(frozen=True)
class Scene:
    """A small real PAN + MS pair cut from ../shared/data."""

    pan: Path
    ms: Path


def venv_site_packages() -> str:
    """Where the project's Python packages (torch, safetensors) live."""
    return sysconfig.get_paths()["purelib"]


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugins folder whose `mmmamba` entry is the repository (as QGIS_PLUGINPATH expects)."""
    folder = tmp_path_factory.mktemp("plugins")
    (folder / PLUGIN_NAME).symlink_to(REPO, target_is_directory=True)
    return folder


@pytest.fixture(scope="session")
def plugin_package(plugin_dir: Path):
    """The plugin imported the way QGIS imports it: as the package `mmmamba`."""
    sys.path.insert(0, str(plugin_dir))
    return importlib.import_module(PLUGIN_NAME)


@pytest.fixture(scope="session")
def plugin(qgis_processing, plugin_package) -> Iterator[object]:
    """The plugin as `qgis_process` starts it: classFactory(None), then initProcessing()."""
    instance = plugin_package.classFactory(None)
    instance.initProcessing()
    _KEEP.append(instance)
    yield instance
    instance.unload()


@pytest.fixture(scope="session")
def provider(plugin):
    """The registered `mmmamba` provider."""
    return plugin.provider


def crop_scene(
    folder: Path,
    shared_data: Path,
    pan_window: tuple[int, int, int, int] = PAN_WINDOW,
    ms_window: tuple[int, int, int, int] = MS_WINDOW,
) -> Scene:
    """Cut matching windows (col, row, width, height) of the osman PAN and MS into `folder`."""
    from osgeo import gdal

    gdal.UseExceptions()
    folder.mkdir(parents=True, exist_ok=True)
    src = shared_data / "pansharpening"
    pan, ms = folder / "pan.tif", folder / "ms.tif"
    gdal.Translate(str(pan), str(src / "osman_pan.tif"), srcWin=list(pan_window))
    gdal.Translate(str(ms), str(src / "osman_ms.tif"), srcWin=list(ms_window))
    return Scene(pan=pan, ms=ms)


@pytest.fixture(scope="session")
def scene(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Scene:
    """Crops of the georeferenced osman PAN/MS pair (uint16, EPSG:32649, ratio 4)."""
    return crop_scene(tmp_path_factory.mktemp("scene"), shared_data)


def make_tiny_model(path: Path, ms_bands: int = 4, bands: list[str] | None = None) -> Path:
    """Save a small randomly initialised MMMamba (fast on a CPU) with its model card."""
    import torch

    from backend.model.config import MMMambaConfig
    from backend.model.network import MMMamba
    from backend.model.store import ModelCard, save_model

    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(ms_bands=ms_bands, ratio=4))
    card = ModelCard(
        name=path.stem,
        bands=bands or OSMAN_BANDS[:ms_bands],
        sensors=["test"],
        description="Random weights for tests.",
    )
    save_model(path, net, card)
    return path


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder with a 4-band and a 2-band tiny model."""
    folder = tmp_path_factory.mktemp("models")
    make_tiny_model(folder / "tiny4.safetensors", 4)
    make_tiny_model(folder / "tiny2.safetensors", 2, ["red", "nir"])
    return folder


@pytest.fixture(scope="session")
def tiny_model(model_dir: Path) -> Path:
    """The 4-band tiny model file."""
    return model_dir / "tiny4.safetensors"


# -- qgis_process ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QgisProcess:
    """Runs `qgis_process` with a throwaway profile in which the plugin is enabled."""

    env: dict[str, str]
    cwd: Path

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: int = 300
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["qgis_process", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=timeout,
        )

    def run_json(self, algorithm: str, params: dict, *, via_stdin: bool = False) -> dict:
        """Run an algorithm and return the parsed `--json` result (fails on exit code != 0)."""
        if via_stdin:
            proc = self("run", algorithm, "--json", "-", stdin=json.dumps({"inputs": params}))
        else:
            proc = self("run", algorithm, "--json", "--", *[f"{k}={v}" for k, v in params.items()])
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return json.loads(proc.stdout[proc.stdout.index("{") :])


def qgis_env(profile: Path, plugin_dir: Path | None, tmp: Path) -> dict[str, str]:
    """Environment of a headless QGIS with a throwaway profile and the venv's packages."""
    xdg = tmp / "xdg"
    xdg.mkdir(mode=0o700, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QGIS_", "PYTHON"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(xdg),
        QGIS_CUSTOM_CONFIG_PATH=str(profile),
        PYTHONPATH=venv_site_packages(),
        PYTHONDONTWRITEBYTECODE="1",
    )
    if plugin_dir is not None:
        env["QGIS_PLUGINPATH"] = str(plugin_dir)
    return env


def write_profile(profile: Path, extra_ini: str = "") -> Path:
    """A throwaway QGIS profile with the plugin enabled, as `qgis_process plugins enable` does.

    Writing the setting directly saves one QGIS start per profile.
    """
    ini = profile / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text(f"[PythonPlugins]\n{PLUGIN_NAME}=true\n\n{extra_ini}", encoding="utf-8")
    return profile


@pytest.fixture(scope="session")
def qgis_process(tmp_path_factory: pytest.TempPathFactory, plugin_dir: Path) -> QgisProcess:
    """`qgis_process` seeing the repository as the enabled plugin `mmmamba`."""
    tmp = tmp_path_factory.mktemp("qgis_process")
    profile = write_profile(tmp / "profile")
    return QgisProcess(env=qgis_env(profile, plugin_dir, tmp), cwd=tmp)

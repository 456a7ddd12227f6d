"""QGIS's Python without PyTorch: the plugin still loads and tells the user what to install."""

from __future__ import annotations

import re

from .conftest import REPO, QgisProcess, qgis_env, write_profile


def test_install_instructions_pin_the_tested_versions(plugin_package) -> None:
    from mmmamba.plugin import environment

    pins = dict(
        re.findall(
            r"^(torch|safetensors)==(\S+)", (REPO / "requirements-dev.txt").read_text(), re.M
        )
    )
    assert pins == {
        "torch": environment.TORCH_VERSION,
        "safetensors": environment.SAFETENSORS_VERSION,
    }
    message = environment.install_instructions(["torch"])
    assert f"torch=={pins['torch']}" in message and f"safetensors=={pins['safetensors']}" in message
    assert "pip install" in message and "torch" in message.splitlines()[0]


def test_without_torch_algorithms_list_and_explain_how_to_install(
    plugin_dir, scene, tmp_path
) -> None:
    env = qgis_env(write_profile(tmp_path / "profile"), plugin_dir, tmp_path)
    env.pop("PYTHONPATH")  # Debian's python3 alone: no torch, no safetensors
    runner = QgisProcess(env=env, cwd=tmp_path)
    listing = runner("list")
    assert listing.returncode == 0
    assert "mmmamba:pansharpen" in listing.stdout
    proc = runner(
        "run", "mmmamba:pansharpen", "--",
        f"PAN={scene.pan}", f"MS={scene.ms}", f"OUTPUT={tmp_path / 'never.tif'}",
    )  # fmt: skip
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "PyTorch" in output and "pip install" in output and "torch==" in output
    assert "Nothing was installed automatically" in output
    assert not (tmp_path / "never.tif").exists()

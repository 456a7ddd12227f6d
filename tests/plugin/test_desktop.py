"""The QGIS desktop under a virtual screen: toolbox -> dialog -> run -> layer; batch of three.

One desktop session (tests/plugin/desktop_session.py) does the clicking and writes what it saw;
the tests below check its findings. Screenshots are kept in test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from osgeo import gdal

from .conftest import REPO, crop_scene, qgis_env, write_profile

gdal.UseExceptions()

ARTIFACTS = REPO / "test-artifacts"
# Three different parts of the osman scene for the batch (PAN window, MS window).
BATCH_WINDOWS = [
    ((0, 0, 96, 96), (0, 0, 24, 24)),
    ((400, 200, 96, 96), (100, 50, 24, 24)),
    ((600, 600, 96, 96), (150, 150, 24, 24)),
]


@pytest.fixture(scope="module")
def desktop(tmp_path_factory, plugin_dir, scene, tiny_model, shared_data) -> dict:
    if shutil.which("xvfb-run") is None or shutil.which("qgis") is None:
        pytest.skip("the QGIS desktop and xvfb-run are needed (scripts/setup.sh installs them)")
    tmp = tmp_path_factory.mktemp("desktop")
    # Plugin enabled, first-start questions skipped, in a throwaway profile.
    profiles = write_profile(
        tmp / "profiles", "[qgis]\ncheckVersion=false\nshowTips=false\n\n[core]\nfirstRun=false\n"
    )
    batch = []
    for i, (pan_window, ms_window) in enumerate(BATCH_WINDOWS):
        part = crop_scene(tmp / f"part{i}", shared_data, pan_window, ms_window)
        batch.append({"pan": str(part.pan), "ms": str(part.ms), "output": str(tmp / f"b{i}.tif")})
    report = tmp / "findings.json"
    config = tmp / "config.json"
    config.write_text(
        json.dumps(
            {
                "pan": str(scene.pan),
                "ms": str(scene.ms),
                "model_file": str(tiny_model),
                "output": str(tmp / "single.tif"),
                "batch": batch,
                "artifacts": str(ARTIFACTS),
                "report": str(report),
            }
        )
    )
    env = qgis_env(tmp / "unused-profile", plugin_dir, tmp)
    env.pop("QT_QPA_PLATFORM")  # a real (virtual) X screen this time
    env.pop("QGIS_CUSTOM_CONFIG_PATH")
    env["MMMAMBA_GUI_CONFIG"] = str(config)
    proc = subprocess.run(
        [
            "xvfb-run", "-a", "-s", "-screen 0 1600x1000x24",
            "qgis", "--nologo", "--noversioncheck", "--profiles-path", str(profiles),
            "--code", str(Path(__file__).with_name("desktop_session.py")),
        ],
        env=env, capture_output=True, text=True, timeout=420, cwd=tmp,
    )  # fmt: skip
    assert report.is_file(), f"no findings (exit {proc.returncode}): {proc.stderr[-3000:]}"
    findings = json.loads(report.read_text())
    assert not findings["errors"], "\n".join(findings["errors"]) + proc.stderr[-2000:]
    return findings


def test_dialog_opens_from_the_toolbox_and_is_captured(desktop) -> None:
    assert desktop["provider_loaded"]
    assert desktop["toolbox_selected"] == "mmmamba:pansharpen"
    assert desktop["dialog_algorithm"] == "mmmamba:pansharpen"
    assert "MMMamba Pansharpen" in desktop["dialog_title"]
    shot = ARTIFACTS / "pansharpen_dialog.png"
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_run_from_the_dialog_adds_the_result_to_the_layer_tree(desktop) -> None:
    single = desktop["single"]
    assert single["in_layer_tree"]
    assert single["name"] == "Osman MS"
    assert single["band_count"] == 4
    assert single["renderer"] == "multibandcolor"


def test_batch_dialog_runs_three_inputs(desktop) -> None:
    assert desktop["batch_rows"] == 3
    assert len(desktop["batch"]) == 3
    for item in desktop["batch"]:
        assert item["exists"] and item["layers"] == 1
        assert gdal.Open(item["output"]).RasterCount == 4

"""Quality assessment end to end (backend/evaluate.py, backend/report.py)."""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio

from backend.errors import Cancelled, InputError, ModelFileError
from backend.evaluate import add_cli, evaluate
from backend.report import FULL_METRICS, REDUCED_METRICS
from tests.conftest import REPO

CLASSICAL = ["exp", "brovey", "gsa", "mtf-glp-hpm", "gdal"]
CHROMIUM = "/usr/bin/chromium"


def _mat(shared_data: Path, name: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    d = sio.loadmat(shared_data / "pansharpening" / name)
    ms = d["I_MS"][: size // 4, : size // 4].transpose(2, 0, 1).astype(np.float32)
    return d["I_PAN"][:size, :size].astype(np.float32), ms


@pytest.fixture(scope="module")
def osman_run(shared_data, tmp_path_factory) -> tuple[dict, Path]:
    """One assessment of the georeferenced scene with every classical method."""
    out = tmp_path_factory.mktemp("evaluate") / "osman.html"
    folder = shared_data / "pansharpening"
    result = evaluate(
        folder / "osman_pan.tif",
        folder / "osman_ms.tif",
        methods=CLASSICAL,
        report=out,
        max_size=256,
    )
    return result, out


@pytest.mark.parametrize(
    ("scene", "sensor"), [("ikonos_imgIK.mat", "IKONOS"), ("wv2_imgWV2.mat", "WV2")]
)
def test_exp_is_the_worst_method_on_a_real_scene(shared_data, scene: str, sensor: str) -> None:
    pan, ms = _mat(shared_data, scene, 512)
    result = evaluate(pan, ms, sensor=sensor, methods=CLASSICAL)
    q = {m: v["Q2n"] for m, v in result["reduced"].items()}
    assert set(q) == set(CLASSICAL)
    others = [q[m] for m in CLASSICAL if m != "exp"]
    assert q["exp"] < min(others), q
    assert result["best"]["reduced"]["Q2n"] != ["exp"]
    assert result["settings"]["ratio"] == 4 and result["inputs"]["pan_shape"] == [512, 512]


def test_json_and_csv_follow_the_schema(osman_run) -> None:
    result, report = osman_run
    data = json.loads(report.with_suffix(".json").read_text())
    assert set(data["reduced"]) == set(CLASSICAL) and set(data["full"]) == set(CLASSICAL)
    for method in CLASSICAL:
        assert set(data["reduced"][method]) >= {"Q2n", "SAM", "ERGAS", "sCC", "PSNR"}
        assert set(data["full"][method]) == {"D_lambda", "D_s", "HQNR"}
        assert all(math.isfinite(v) for v in data["reduced"][method].values())
        full = data["full"][method]
        assert 0 <= full["D_lambda"] < 1 and 0 <= full["D_s"] < 1
        assert full["HQNR"] == pytest.approx((1 - full["D_lambda"]) * (1 - full["D_s"]))
    assert data["methods"] == CLASSICAL
    assert data["settings"]["sensor"] == "unknown"
    assert data["settings"]["ms_mtf_gains"] == [0.3] * 4
    assert data["inputs"]["pan_shape"] == [256, 256] and data["inputs"]["ms_shape"] == [4, 64, 64]
    assert data["reduced"] == result["reduced"]  # floats round-trip exactly through JSON
    rows = list(csv.DictReader(report.with_suffix(".csv").open()))
    assert [r["method"] for r in rows] == CLASSICAL
    assert set(rows[0]) == {"method", *REDUCED_METRICS, *FULL_METRICS, "runtime_s"}
    for row in rows:
        m = row["method"]
        assert float(row["Q2n"]) == pytest.approx(data["reduced"][m]["Q2n"])
        assert float(row["HQNR"]) == pytest.approx(data["full"][m]["HQNR"])


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_report_opens_in_headless_chromium(osman_run, tmp_path: Path) -> None:
    result, report = osman_run
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        report.resolve().as_uri(),
    ]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True).stdout
    table = re.search(r'<table id="metrics">.*?</table>', dom, re.S)
    assert table, "metric table missing from the rendered page"
    rows = re.findall(r'<td class="method">([^<]+)</td>', table.group(0))
    assert rows == CLASSICAL
    # One highlighted best cell per metric column at least.
    assert len(re.findall(r'class="best"', table.group(0))) >= len(REDUCED_METRICS) + len(
        FULL_METRICS
    )
    images = re.findall(r'<img [^>]*src="data:image/png;base64,', dom)
    # PAN + 5 methods (full resolution and zoom), reference + 5 methods, the profile plot.
    assert len(images) == 6 + 6 + 6 + 1
    decoded = re.search(r'data-images-decoded="(\d+)"', dom)
    assert decoded and int(decoded.group(1)) == len(images), "the browser failed to decode images"
    for section in (
        'id="thumbnails"',
        'id="zoom"',
        'id="reduced"',
        'id="profile"',
        'id="settings"',
    ):
        assert section in dom


def test_cli_subcommand(shared_data, tmp_path: Path, capsys) -> None:
    parser = argparse.ArgumentParser(prog="backend")
    add_cli(parser.add_subparsers(dest="command"))
    folder = shared_data / "pansharpening"
    report = tmp_path / "r.html"
    args = parser.parse_args(
        ["evaluate", "--pan", str(folder / "osman_pan.tif"), "--ms", str(folder / "osman_ms.tif"),
         "--methods", "exp,gsa", "--report", str(report), "--json", str(tmp_path / "x.json"),
         "--max-size", "128", "--sensor", "GeoEye-1"]
    )  # fmt: skip
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "exp" in out and "gsa" in out and str(report) in out
    data = json.loads((tmp_path / "x.json").read_text())
    assert list(data["reduced"]) == ["exp", "gsa"]
    assert data["settings"]["sensor"] == "GeoEye-1" and data["settings"]["pan_mtf_gain"] == 0.16
    assert report.exists() and (tmp_path / "r.csv").exists()
    bad = parser.parse_args(
        [
            "evaluate",
            "--pan",
            "a.tif",
            "--ms",
            "b.tif",
            "--methods",
            "exp,pca",
            "--report",
            "o.html",
        ]
    )
    assert bad.func(bad) == 1
    assert "Unknown method 'pca'" in capsys.readouterr().err


@pytest.mark.skipif(
    not (REPO / "backend" / "cli.py").exists(), reason="backend/cli.py (the CLI entry) not present"
)
def test_python_m_backend_evaluate(shared_data, tmp_path: Path) -> None:
    folder = shared_data / "pansharpening"
    report = tmp_path / "cli.html"
    proc = subprocess.run(
        [sys.executable, "-m", "backend", "evaluate", "--pan", str(folder / "osman_pan.tif"),
         "--ms", str(folder / "osman_ms.tif"), "--methods", "exp,brovey", "--report", str(report),
         "--json", str(tmp_path / "cli.json"), "--max-size", "128"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "cli.json").read_text())
    assert set(data["reduced"]) == {"exp", "brovey"}
    assert report.exists()


def test_mmmamba_with_a_tiny_model_file(shared_data, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from backend.model.config import MMMambaConfig
    from backend.model.network import MMMamba
    from backend.model.store import ModelCard, save_model

    torch.manual_seed(0)
    weights = tmp_path / "tiny.safetensors"
    save_model(weights, MMMamba(MMMambaConfig.tiny(4, 4)), ModelCard(name="tiny"))
    pan, ms = _mat(shared_data, "ikonos_imgIK.mat", 128)
    result = evaluate(pan, ms, methods="exp,mmmamba", model=weights, device="cpu")
    assert result["methods"] == ["exp", "mmmamba"]
    assert all(math.isfinite(v) for v in result["reduced"]["mmmamba"].values())
    assert all(math.isfinite(v) for v in result["full"]["mmmamba"].values())


def test_mmmamba_without_a_fitting_model(shared_data) -> None:
    pan, ms = _mat(shared_data, "ikonos_imgIK.mat", 128)
    three = ms[:3]  # no model takes 3-band MS
    result = evaluate(pan, three, methods=None)
    assert "mmmamba" in result["skipped"] and "mmmamba" not in result["reduced"]
    assert result["methods"] == CLASSICAL
    with pytest.raises(ModelFileError):
        evaluate(pan, three, methods=["exp", "mmmamba"])


class _CancelAfterFirstStep:
    def __init__(self) -> None:
        self.fractions: list[float] = []

    def set_fraction(self, fraction: float) -> None:
        self.fractions.append(fraction)

    def info(self, message: str) -> None:
        pass

    def is_cancelled(self) -> bool:
        return bool(self.fractions)


def test_cancel_stops_and_writes_nothing(shared_data, tmp_path: Path) -> None:
    pan, ms = _mat(shared_data, "ikonos_imgIK.mat", 128)
    progress = _CancelAfterFirstStep()
    with pytest.raises(Cancelled):
        evaluate(pan, ms, methods=CLASSICAL, report=tmp_path / "r.html", progress=progress)
    assert progress.fractions and progress.fractions[0] < 1
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_raise_input_errors(shared_data, tmp_path: Path) -> None:
    pan, ms = _mat(shared_data, "ikonos_imgIK.mat", 128)
    with pytest.raises(InputError, match="too small"):
        evaluate(pan[:64, :64], ms[:, :16, :16], methods="exp")
    with pytest.raises(InputError, match="Unknown method"):
        evaluate(pan, ms, methods="exp,pca")
    with pytest.raises(InputError, match="both as files or both as arrays"):
        evaluate(tmp_path / "p.tif", ms, methods="exp")
    with pytest.raises(InputError, match="Unknown sensor"):
        evaluate(pan, ms, methods="exp", sensor="Landsat-99")
    with pytest.raises(InputError, match="display bands"):
        evaluate(pan, ms, methods="exp", rgb=[5, 2, 1])


def test_report_without_chromium_is_self_contained(osman_run) -> None:
    _, report = osman_run
    text = report.read_text()
    assert "http://" not in text and "https://" not in text
    assert text.count("data:image/png;base64,") == 6 + 6 + 6 + 1

"""`python -m backend pansharpen|models`: exit codes, one-line errors, options reach the output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from backend.cli import build_parser, main
from tests.backend.raster_fixtures import pan_ms_pair, tiny_model, write_raster
from tests.conftest import REPO


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("cli_model"))


def test_pansharpen_end_to_end_in_a_fresh_process(model: Path, tmp_path: Path) -> None:
    pan, ms, _, _ = pan_ms_pair(tmp_path, size=64)
    out = tmp_path / "sharp.tif"
    cmd = [
        sys.executable, "-m", "backend", "pansharpen", "--pan", str(pan), "--ms", str(ms),
        "--out", str(out), "--model", str(model), "--device", "cpu", "--tile", "64",
        "--overlap", "8", "--batch", "2", "--dtype", "float32", "--co", "COMPRESS=LZW", "--cog",
    ]  # fmt: skip
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "UseExceptions" not in res.stderr  # GDAL >= 3.9's warning when no mode was chosen
    assert str(out) in res.stdout and "ratio 4" in res.stdout
    ds = gdal.Open(str(out))
    assert ds.GetRasterBand(1).DataType == gdal.GDT_Float32
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "LZW"
    assert ds.RasterCount == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ms.tif", "pan.tif", "sharp.tif"]


def test_bad_input_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "o.tif"
    cmd = [sys.executable, "-m", "backend", "pansharpen", "--pan", str(tmp_path / "nope.tif"),
           "--ms", str(tmp_path / "nope_ms.tif"), "--out", str(out)]  # fmt: skip
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "nope.tif" in lines[0]
    assert not out.exists()


def test_multiband_pan_message(model: Path, tmp_path: Path, capsys) -> None:
    pan, ms, pan_arr, _ = pan_ms_pair(tmp_path, size=64)
    pan3 = write_raster(
        tmp_path / "pan3.tif",
        np.stack([pan_arr] * 3),
        geotransform=(500000.0, 0.5, 0, 4000000.0, 0, -0.5),
    )
    rc = main(["pansharpen", "--pan", str(pan3), "--ms", str(ms), "--out",
               str(tmp_path / "o.tif"), "--model", str(model)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and "--pan-band" in err[-1]
    assert not (tmp_path / "o.tif").exists()


def test_bad_usage_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["pansharpen", "--pan", "a.tif"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["pansharpen", "--pan", "a", "--ms", "b", "--out", "c", "--tile", "0"])
    assert exc.value.code == 2


def test_bad_creation_option(model: Path, tmp_path: Path, capsys) -> None:
    pan, ms, _, _ = pan_ms_pair(tmp_path, size=64)
    rc = main(["pansharpen", "--pan", str(pan), "--ms", str(ms), "--out", str(tmp_path / "o.tif"),
               "--model", str(model), "--co", "COMPRESS"])  # fmt: skip
    assert rc == 1 and "KEY=VALUE" in capsys.readouterr().err


def test_models_lists_model_files(model: Path, capsys) -> None:
    assert main(["models", "--dir", str(model.parent)]) == 0
    out = capsys.readouterr().out
    assert "tiny4" in out and "4 bands" in out


def test_help_lists_subcommands() -> None:
    text = build_parser().format_help()
    for name in ("pansharpen", "models"):
        assert name in text
    sub = build_parser().parse_args(
        ["pansharpen", "--pan", "p", "--ms", "m", "--out", "o", "--co", "A=1", "--co", "B=2"]
    )
    assert sub.co == ["A=1", "B=2"] and sub.overlap is None and sub.tile is None

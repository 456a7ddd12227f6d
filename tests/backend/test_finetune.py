"""Scene adaptation on a real crop: model written, cancel keeps the best, 3 bands at ratio 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from osgeo import gdal

from backend.data.scenes import Scene, load_scene
from backend.errors import ModelFileError
from backend.finetune import FinetuneResult, finetune, finetune_scene
from backend.model.config import MMMambaConfig
from backend.model.network import MMMamba
from backend.model.store import ModelCard, load_model, save_model
from backend.train.loop import TrainOptions


@pytest.fixture(scope="module")
def osman_crop(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real 64 x 64 MS / 256 x 256 PAN crop of the georeferenced osman pair, as GeoTIFFs."""
    src = shared_data / "pansharpening"
    d = tmp_path_factory.mktemp("osman")
    pan, ms = d / "crop_pan.tif", d / "crop_ms.tif"
    gdal.Translate(str(ms), str(src / "osman_ms.tif"), srcWin=[40, 40, 64, 64])
    gdal.Translate(str(pan), str(src / "osman_pan.tif"), srcWin=[160, 160, 256, 256])
    return pan, ms


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny 4-band model file to start from (weights as initialised, seed 0)."""
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(4, 4))
    path = tmp_path_factory.mktemp("base") / "tiny-base.safetensors"
    save_model(path, net, ModelCard(name="tiny-base", bands=["blue", "green", "red", "nir"]))
    return path


class CancelAfter:
    """Progress that asks to stop after `n` progress reports, recording the lines it got."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0
        self.lines: list[str] = []

    def set_fraction(self, fraction: float) -> None:
        self.calls += 1

    def info(self, message: str) -> None:
        self.lines.append(message)

    def is_cancelled(self) -> bool:
        return self.calls >= self.n


def test_finetune_writes_an_adapted_model_and_pansharpens(
    osman_crop: tuple[Path, Path], tiny_base: Path, tmp_path: Path
) -> None:
    pan, ms = osman_crop
    out = tmp_path / "adapted.safetensors"
    fused = tmp_path / "fused.tif"
    res = finetune(
        pan, ms, out, minutes=0.1, base_model=tiny_base, pansharpen_out=fused, device="cpu"
    )
    assert isinstance(res, FinetuneResult) and not res.cancelled
    assert res.base_model == "tiny-base" and res.steps >= 1
    assert res.best_val_l1 <= res.start_val_l1  # the start counts as a candidate
    loaded = load_model(out)
    assert loaded.card.training["base_model"] == "tiny-base"
    assert loaded.card.training["kind"] == "scene adaptation"
    assert loaded.card.metrics["validation"]["l1"] == pytest.approx(res.best_val_l1, rel=1e-5)
    ds = gdal.Open(str(fused))
    assert (ds.RasterCount, ds.RasterXSize, ds.RasterYSize) == (4, 256, 256)
    assert ds.GetProjection()  # georeferenced like the PAN
    assert out.with_suffix(".csv").is_file()


def test_cancel_keeps_the_best_weights_so_far(
    osman_crop: tuple[Path, Path], tiny_base: Path, tmp_path: Path
) -> None:
    pan, ms = osman_crop
    out = tmp_path / "cancelled.safetensors"
    progress = CancelAfter(2)
    res = finetune(pan, ms, out, minutes=5.0, base_model=tiny_base, device="cpu",
                   progress=progress)  # fmt: skip
    assert res.cancelled and res.steps == 2  # stopped long before the 5-minute budget
    assert any("validation L1" in line for line in progress.lines)  # the loss is shown
    loaded = load_model(out)
    assert loaded.card.training["cancelled"] is True
    best = min(row["val_l1"] for row in res.history)
    assert res.best_val_l1 == pytest.approx(best)


def test_from_scratch_for_three_bands_at_ratio_two(shared_data: Path, tmp_path: Path) -> None:
    # A real 3-band MS with a PAN twice as fine: osman's blue/green/red and its PAN averaged 2x2.
    osman = load_scene(shared_data / "pansharpening" / "osman_ms.tif")
    pan = osman.pan[:128, :128].reshape(64, 2, 64, 2).mean(axis=(1, 3)).astype(np.float32)
    scene = Scene("osman-rgb", "unknown", pan, osman.ms[:3, :32, :32].copy(), 2,
                  ("blue", "green", "red"))  # fmt: skip
    out = tmp_path / "scratch.safetensors"
    opts = TrainOptions(epochs=1, batch=1, crop=16, val_every=1)
    res = finetune_scene(scene, out, options=opts, device="cpu")
    assert res.base_model is None and res.steps >= 1
    cfg = load_model(out).net.cfg
    assert (cfg.ms_bands, cfg.ratio) == (3, 2)


def test_a_base_model_that_does_not_fit_is_refused(
    shared_data: Path, tiny_base: Path, tmp_path: Path
) -> None:
    wv3 = load_scene(shared_data / "pansharpening" / "wv3_example.mat")  # 8 bands
    with pytest.raises(ModelFileError, match="takes 4 bands"):
        finetune_scene(wv3, tmp_path / "x.safetensors", minutes=0.05, base_model=tiny_base,
                       device="cpu")  # fmt: skip

"""Training on real imagery: splits, Wald pairs and crops, and a tiny CPU training run."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backend.data.dataset import WaldPair, WaldSampler, augment, make_wald_pair
from backend.data.scenes import Scene, load_scene
from backend.data.splits import crop_strip, split_rows, split_scene
from backend.errors import InputError
from backend.model.store import load_model
from backend.normalize import NormStats
from backend.train.loop import TrainOptions
from backend.train.trainer import train
from tests.conftest import REPO


@pytest.fixture(scope="module")
def ikonos(shared_data: Path) -> Scene:
    return load_scene(shared_data / "pansharpening" / "ikonos_imgIK.mat")


def small_crop(scene: Scene, rows: int = 96, cols: int = 64, row0: int = 96) -> Scene:
    """A real crop of `rows x cols` MS pixels (and the matching PAN) of a scene."""
    r = scene.ratio
    return Scene(
        name=f"{scene.name}-crop",
        sensor=scene.sensor,
        pan=scene.pan[row0 * r : (row0 + rows) * r, : cols * r].copy(),
        ms=scene.ms[:, row0 : row0 + rows, :cols].copy(),
        ratio=r,
        band_names=scene.band_names,
        source=scene.source,
    )


def test_scenes_load_with_sensor_bands_and_ratio(shared_data: Path) -> None:
    d = shared_data / "pansharpening"
    ik = load_scene(d / "ikonos_imgIK.mat")
    assert (ik.sensor, ik.ratio, ik.ms.shape, ik.pan.shape) == (
        "IKONOS",
        4,
        (4, 320, 320),
        (1280, 1280),
    )
    assert ik.band_names == ("blue", "green", "red", "nir")
    wv3 = load_scene(d / "wv3_example.mat")  # I_MS_LR key, sensor from the file name
    assert (wv3.sensor, wv3.n_bands, wv3.ratio) == ("WorldView-3", 8, 4)
    kos = load_scene(d / "koshizuka")  # band files assembled in B, G, R, NIR order
    assert kos.band_names == ("blue", "green", "red", "nir")
    assert kos.ms.shape == (4, 300, 300) and kos.pan.shape == (1200, 1200)
    osman = load_scene(d / "osman_ms.tif")  # partner osman_pan.tif found by name
    assert osman.name == "osman" and osman.ms.shape == (4, 200, 200) and osman.ratio == 4
    with pytest.raises(InputError):
        load_scene(d / "does_not_exist.mat")


def test_splits_are_disjoint_aligned_and_cover_the_scene(ikonos: Scene) -> None:
    strips = split_scene(ikonos)
    assert [s.split for s in strips] == ["train", "val", "test"]
    rows = np.zeros(ikonos.ms.shape[1], dtype=int)
    for s in strips:
        rows[s.row0 : s.row1] += 1
        assert s.row0 % 8 == 0 and s.rows >= 32
    assert (rows == 1).all()  # every MS row in exactly one split
    test = crop_strip(ikonos, strips[2])
    assert test.ms.shape[1] == strips[2].rows
    assert test.pan.shape[0] == strips[2].rows * ikonos.ratio
    np.testing.assert_array_equal(test.ms, ikonos.ms[:, strips[2].row0 : strips[2].row1])


def test_small_scene_is_training_only_and_bad_fractions_fail(shared_data: Path) -> None:
    wv3 = load_scene(shared_data / "pansharpening" / "wv3_example.mat")
    assert [s.split for s in split_scene(wv3)] == ["train"]
    with pytest.raises(InputError):
        split_rows(40, (0.6, 0.2, 0.2), min_rows=32)
    with pytest.raises(InputError):
        split_rows(100, (0.6, -0.2, 0.2))


def test_wald_pair_shapes_and_normalisation(ikonos: Scene) -> None:
    crop = small_crop(ikonos, 64, 64)
    pair = make_wald_pair(crop)
    assert pair.pan.shape == (64, 64)  # degraded PAN lives on the original MS grid
    assert pair.ms.shape == (4, 16, 16)
    assert pair.target.shape == (4, 64, 64)
    # target = original MS divided by the scales of the degraded MS (as fuse_arrays inverts)
    scales = np.asarray(pair.stats.ms_scales, dtype=np.float32)[:, None, None]
    np.testing.assert_allclose(pair.target * scales, crop.ms, rtol=1e-5)
    assert 0.5 < np.percentile(pair.pan, 99.5) < 1.5
    assert pair.pan.dtype == np.float32 and pair.ms.dtype == np.float32


def _consistent_pair(content: np.ndarray, ratio: int) -> WaldPair:
    """A pair whose MS is the block mean of the target and whose PAN is its first band."""
    t = torch.from_numpy(content)
    ms = F.avg_pool2d(t[None], ratio)[0].numpy()
    return WaldPair(
        name="consistent",
        pan=content[0].copy(),
        ms=ms,
        target=content,
        ratio=ratio,
        stats=NormStats(1.0, (1.0,) * content.shape[0]),
    )


def test_sampler_crops_flips_and_turns_keep_pan_ms_target_aligned(ikonos: Scene) -> None:
    content = (ikonos.ms[:, :96, :80] / 1000.0).astype(np.float32)
    sampler = WaldSampler([_consistent_pair(content, 4)], crop=32, batch=8, seed=3)
    seen_turns = set()
    for _ in range(4):
        pan, ms, target = sampler.next_batch()
        assert pan.shape == (8, 1, 32, 32) and ms.shape == (8, 4, 8, 8)
        assert target.shape == (8, 4, 32, 32)
        torch.testing.assert_close(ms, F.avg_pool2d(target, 4))
        torch.testing.assert_close(pan[:, 0], target[:, 0])
        seen_turns.add(tuple(target[0, 0, 0, :2].tolist()))
    assert len(seen_turns) > 1  # crops differ between batches
    # one flip + quarter turn, applied by hand
    x = torch.arange(16.0).view(1, 4, 4)
    p, m, t = augment(x, x[:, :2, :2], x, flip=True, k=1)
    torch.testing.assert_close(p, torch.rot90(torch.flip(x, (-1,)), 1, (-2, -1)))
    torch.testing.assert_close(m, torch.rot90(torch.flip(x[:, :2, :2], (-1,)), 1, (-2, -1)))


def test_sampler_fits_the_crop_to_small_strips(ikonos: Scene) -> None:
    content = (ikonos.ms[:, :24, :40] / 1000.0).astype(np.float32)
    sampler = WaldSampler([_consistent_pair(content, 4)], crop=128, batch=2, seed=0)
    pan, ms, target = sampler.next_batch()
    assert pan.shape[-1] == 24 and ms.shape[-1] == 6  # largest multiple of 4 that fits


def test_tiny_training_run_learns_and_writes_model_csv_and_plot(
    ikonos: Scene, tmp_path: Path
) -> None:
    out = tmp_path / "tiny.safetensors"
    opts = TrainOptions(epochs=4, batch=2, crop=32, lr=2e-3, val_every=2, seed=1)
    result = train(
        [small_crop(ikonos)], out, options=opts, device="cpu", config="tiny", min_strip_rows=8
    )
    hist = result.loop.history
    assert result.loop.steps >= 4 and result.loop.epochs == pytest.approx(4.0)
    assert result.loop.best_val_l1 < hist[0]["val_l1"]  # validation L1 went down
    loaded = load_model(out)  # checksum, keys and shapes verify
    assert loaded.card.name == "tiny" and loaded.card.bands == ["blue", "green", "red", "nir"]
    training = loaded.card.training
    assert training["steps"] == result.loop.steps and training["device"].startswith("CPU")
    assert {s["split"] for s in training["splits"]["strips"]} == {"train", "val", "test"}
    assert 0 < loaded.card.metrics["validation"]["q2n"] <= 1
    with open(out.with_suffix(".csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 3 and float(rows[-1]["step"]) == result.loop.steps
    assert out.with_suffix(".png").stat().st_size > 1000
    # the written weights are the best validation weights
    with torch.no_grad():
        for k, v in loaded.net.state_dict().items():
            torch.testing.assert_close(v, result.loop.best_state[k])


def test_train_command_line(ikonos: Scene, tmp_path: Path) -> None:
    import scipy.io

    crop = small_crop(ikonos, 64, 48)
    mat = tmp_path / "ik_crop.mat"
    scipy.io.savemat(
        mat,
        {"I_PAN": crop.pan, "I_MS_LR": crop.ms.transpose(1, 2, 0), "ratio": 4, "sensor": "IKONOS"},
    )
    out = tmp_path / "cli.safetensors"
    proc = subprocess.run(
        [sys.executable, "-m", "backend.train", "--data", str(mat), "--out", str(out),
         "--epochs", "1", "--tiny", "--device", "cpu", "--crop", "16", "--batch", "1",
         "--fractions", "0.5", "0.5", "0"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "validation Q2n" in proc.stdout
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["training"]["data"][0]["sensor"] == "IKONOS"
    bad = subprocess.run(
        [sys.executable, "-m", "backend.train", "--data", str(tmp_path / "nope.mat"),
         "--out", str(tmp_path / "x.safetensors"), "--epochs", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "error: The training scene" in bad.stderr and "does not exist" in bad.stderr

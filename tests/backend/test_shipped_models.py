"""The shipped models, as loaded for users, on held-out real imagery at reduced resolution.

Each model fuses a crop of a test strip of one of its sensors (rows never used for training or
checkpoint selection, see the card's splits) degraded by Wald's protocol, and must recover the
original MS far better than the interpolated MS (EXP) does; the native and chunked CPU scans
give the same result with the real weights.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from backend.classical.exp import exp
from backend.data.scenes import load_scene
from backend.degrade import wald_degrade
from backend.fuse import fuse_arrays
from backend.metrics import q2n, sam
from backend.model.registry import resolve_model
from backend.model.store import load_model

# model -> (scene file in shared/data/pansharpening, MS columns of the crop)
CASES = {
    "mmmamba-4band": ("ikonos_imgIK.mat", slice(0, 128)),
    "mmmamba-8band": ("wv2_imgWV2.mat", slice(64, 192)),
}


def _test_strip(card_path, scene_name: str) -> tuple[int, int]:
    card = json.loads(card_path.with_suffix(".json").read_text())
    strips = card["training"]["splits"]["strips"]
    rows = [s["ms_rows"] for s in strips if s["scene"] == scene_name and s["split"] == "test"]
    assert rows, f"no test strip for {scene_name} in the card"
    return rows[0][0], rows[0][1]


@pytest.mark.parametrize("name", sorted(CASES))
def test_shipped_model_recovers_held_out_ms(name: str, shared_data) -> None:
    fname, cols = CASES[name]
    scene = load_scene(shared_data / "pansharpening" / fname)
    path = resolve_model(name)
    r0, r1 = _test_strip(path, scene.name)
    r = scene.ratio
    ms = scene.ms[:, r0:r1, cols].astype(np.float64)
    pan = scene.pan[r0 * r : r1 * r, cols.start * r : cols.stop * r].astype(np.float64)
    pan_lr, ms_lr = wald_degrade(pan, ms, r, scene.sensor)
    fused = fuse_arrays(pan_lr, ms_lr, model=path, device="cpu")
    assert fused.shape == ms.shape and np.isfinite(fused).all()
    base = exp(pan_lr, ms_lr, r, scene.sensor)
    q_net, q_exp = q2n(ms, fused, 32), q2n(ms, base, 32)
    assert q_net > q_exp + 0.1, (q_net, q_exp)
    assert sam(ms, fused) < sam(ms, base)


def test_native_and_chunked_scans_agree_with_real_weights(shared_data) -> None:
    scene = load_scene(shared_data / "pansharpening" / "ikonos_imgIK.mat")
    net = load_model("mmmamba-4band", device="cpu").net.eval()
    pan = torch.from_numpy(scene.pan[:128, :96].astype(np.float32) / 1000.0)[None, None]
    ms = torch.from_numpy(scene.ms[:, :32, :24].astype(np.float32) / 1000.0)[None]
    with torch.inference_mode():
        net.set_scan("chunked")
        ref = net(pan, ms)
        net.set_scan("native")
        got = net(pan, ms)
    assert float((got - ref).abs().max() / ref.abs().max()) < 1e-5

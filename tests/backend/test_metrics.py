"""Quality metrics (backend/metrics): oracle comparisons, hand-computed cases, ideal values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.io as sio
from sewar.full_ref import q2n as sewar_q2n

from backend.classical import brovey, gsa
from backend.degrade import interp23, mtf_filter, sensor_gains, wald_degrade
from backend.errors import InputError
from backend.metrics import (
    d_lambda_khan,
    d_s,
    ergas,
    hqnr,
    psnr,
    q2n,
    q_index,
    sam,
    scc,
    ssim,
    uiqi,
)
from backend.metrics.uiqi import uiqi_map


def _scene(shared_data, name: str, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    d = sio.loadmat(shared_data / "pansharpening" / name)
    ms = d["I_MS"][: size // 4, : size // 4].transpose(2, 0, 1).astype(np.float64)
    pan = d["I_PAN"][:size, :size].astype(np.float64)
    return pan, ms


def _sewar(ref: np.ndarray, fused: np.ndarray, block: int = 32) -> float:
    return float(sewar_q2n(ref.transpose(1, 2, 0), fused.transpose(1, 2, 0), ws=block))


@pytest.mark.parametrize(
    ("scene", "bands"),
    [("ikonos_imgIK.mat", 4), ("wv2_imgWV2.mat", 8), ("geoeye1_imgGE1.mat", 3)],
)
def test_q2n_matches_sewar_on_real_fusions(shared_data, scene: str, bands: int) -> None:
    """Q4 / Q8 / zero-padded Q2n of real reduced-resolution fusions against the oracle."""
    pan, ms = _scene(shared_data, scene, 512)
    ms = ms[:bands]
    pan_lr, ms_lr = wald_degrade(pan, ms, 4, None)
    for method in (brovey, gsa):
        fused = method(pan_lr, ms_lr, 4).astype(np.float64)
        mine = q2n(ms, fused)
        assert 0.3 < mine < 1.0
        assert mine == pytest.approx(_sewar(ms, fused), abs=1e-9)


def test_q2n_matches_sewar_when_blocks_do_not_tile_the_image(shared_data) -> None:
    pan, ms = _scene(shared_data, "ikonos_imgIK.mat", 512)
    ref = ms[:, :100, :70]
    fused = np.roll(ref, 1, axis=2) * np.array([1.0, 1.1, 0.9, 1.05])[:, None, None]
    assert q2n(ref, fused) == pytest.approx(_sewar(ref, fused), abs=1e-9)
    assert q2n(ref, fused, block=16) == pytest.approx(_sewar(ref, fused, 16), abs=1e-9)


def test_identical_images_give_ideal_values(shared_data) -> None:
    _, ms = _scene(shared_data, "wv2_imgWV2.mat")
    assert q2n(ms, ms) == pytest.approx(1.0, abs=1e-12)
    assert q_index(ms, ms) == pytest.approx(1.0, abs=1e-12)
    assert sam(ms, ms) == pytest.approx(0.0, abs=1e-5)
    assert ergas(ms, ms, 4) == 0.0
    assert scc(ms, ms) == pytest.approx(1.0, abs=1e-12)
    assert psnr(ms, ms) == math.inf
    assert ssim(ms, ms) == pytest.approx(1.0, abs=1e-12)


def test_distortions_lower_the_scores(shared_data) -> None:
    _, ms = _scene(shared_data, "ikonos_imgIK.mat", 512)
    rng = np.random.default_rng(1)
    noisy = ms + rng.normal(0, 0.05 * ms.std(), ms.shape)
    noisier = ms + rng.normal(0, 0.2 * ms.std(), ms.shape)
    assert q2n(ms, noisy) > q2n(ms, noisier)
    assert ergas(ms, noisy, 4) < ergas(ms, noisier, 4)
    assert psnr(ms, noisy) > psnr(ms, noisier)
    assert ssim(ms, noisy) > ssim(ms, noisier)
    # Scaling one band leaves the spectral angle of a pixel changed, scaling all bands does not.
    assert sam(ms, 2.0 * ms) == pytest.approx(0.0, abs=1e-5)
    skewed = ms * np.array([1.3, 1.0, 1.0, 1.0])[:, None, None]
    assert sam(ms, skewed) > 1.0
    # sCC ignores a global gain but not a geometric change.
    assert scc(ms, 3.0 * ms) == pytest.approx(1.0, abs=1e-12)
    assert scc(ms, np.roll(ms, 3, axis=2)) < 0.95


def test_sam_hand_computed() -> None:
    ref = np.array([[[1.0, 1.0, 0.0]], [[0.0, 1.0, 0.0]]])  # (2 bands, 1 row, 3 columns)
    fused = np.array([[[0.0, 2.0, 1.0]], [[1.0, 2.0, 1.0]]])
    # Pixel 1: (1,0) vs (0,1): 90 degrees; pixel 2: parallel: 0; pixel 3: zero reference: skipped.
    assert sam(ref, fused) == pytest.approx(45.0, abs=1e-12)


def test_ergas_hand_computed() -> None:
    ref = np.stack([np.full((2, 2), 10.0), np.full((2, 2), 20.0)])
    fused = np.stack([np.full((2, 2), 11.0), np.full((2, 2), 20.0)])
    # 100/4 * sqrt(mean(1^2/10^2, 0)) = 25 * sqrt(0.005)
    assert ergas(ref, fused, 4) == pytest.approx(25.0 * math.sqrt(0.005), rel=1e-12)
    with pytest.raises(InputError, match="mean is zero"):
        ergas(np.zeros((1, 2, 2)), np.ones((1, 2, 2)), 4)


def test_psnr_hand_computed() -> None:
    ref = np.array([[[0.0, 100.0], [50.0, 50.0]]])
    fused = ref + np.array([[[10.0, 0.0], [0.0, 0.0]]])
    # MSE 25, peak 100 (the maximum of the reference).
    assert psnr(ref, fused) == pytest.approx(10 * math.log10(100.0**2 / 25.0), rel=1e-12)
    assert psnr(ref, fused, data_range=2047) == pytest.approx(
        10 * math.log10(2047.0**2 / 25.0), rel=1e-12
    )


def test_uiqi_hand_computed() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = 2.0 * x
    # means 2.5, 5; variances 1.25, 5; covariance 2.5:
    # 4 * 2.5 * 2.5 * 5 / ((1.25 + 5) * (2.5^2 + 5^2)) = 0.64
    assert uiqi(x, y, block=2) == pytest.approx(0.64, rel=1e-12)
    # Two blocks: the hand case and an identical block -> mean of 0.64 and 1.
    x2 = np.hstack([x, x])
    y2 = np.hstack([y, x])
    np.testing.assert_allclose(uiqi_map(x2, y2, block=2), [[0.64, 1.0]], rtol=1e-12)
    assert uiqi(x2, y2, block=2) == pytest.approx(0.82, rel=1e-12)
    # Border blocks count with the pixels they hold; flat blocks use the mean term only.
    flat = uiqi_map(np.full((3, 3), 2.0), np.full((3, 3), 4.0), block=2)
    np.testing.assert_allclose(flat, np.full((2, 2), 2 * 2 * 4 / (4 + 16)), rtol=1e-12)
    assert q_index(np.stack([x, x]), np.stack([y, x]), block=2) == pytest.approx(0.82)


def test_ssim_hand_computed_on_flat_images() -> None:
    # Flat images: only the luminance term, (2ab + C1) / (a^2 + b^2 + C1) with C1 = (0.01 L)^2.
    a, b, span = 100.0, 80.0, 255.0
    c1 = (0.01 * span) ** 2
    value = ssim(np.full((1, 20, 20), a), np.full((1, 20, 20), b), data_range=span)
    assert value == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-9)


def _smooth_scene(n: int = 64, ratio: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A band-limited scene: MS, the fused image that MS interpolates to, and PAN."""
    y, x = np.mgrid[0 : n * ratio, 0 : n * ratio] / (n * ratio)
    base = 1000 + 200 * np.sin(2 * np.pi * x) * np.cos(2 * np.pi * y)
    fused = np.stack([base * g for g in (0.8, 1.0, 1.1, 0.9)])
    ms = fused[:, ratio // 2 :: ratio, ratio // 2 :: ratio]
    return ms, fused, base


def test_full_resolution_ideal_values() -> None:
    ms, fused, pan = _smooth_scene()
    gains = sensor_gains(None, 4)
    dl = d_lambda_khan(fused, ms, 4, gains.ms)
    ds = d_s(fused, ms, pan, 4)
    assert 0.0 <= dl < 1e-3
    assert 0.0 <= ds < 5e-3
    assert hqnr(dl, ds) > 0.99
    assert hqnr(0.0, 0.0) == 1.0
    # Flat scene: exactly ideal.
    flat_ms = np.full((4, 16, 16), 5.0)
    flat = np.full((4, 64, 64), 5.0)
    assert d_lambda_khan(flat, flat_ms, 4, gains.ms) == pytest.approx(0.0, abs=1e-12)
    assert d_s(flat, flat_ms, np.full((64, 64), 5.0), 4) == pytest.approx(0.0, abs=1e-12)


def test_full_resolution_indexes_see_distortions(shared_data) -> None:
    pan, ms = _scene(shared_data, "ikonos_imgIK.mat")
    gains = sensor_gains("IKONOS", 4)
    exp = interp23(ms, 4)
    skew = exp * np.array([1.25, 1.0, 0.8, 1.0])[:, None, None]
    assert d_lambda_khan(skew, ms, 4, gains.ms) > d_lambda_khan(exp, ms, 4, gains.ms) + 0.01
    # Injecting PAN details beyond what the MS relation allows raises the spatial distortion:
    # the fused bands copy PAN itself.
    copy_pan = np.stack([pan] * 4)
    sharp = gsa(pan, ms, 4, "IKONOS")
    assert d_s(copy_pan, ms, pan, 4) > d_s(sharp, ms, pan, 4)
    # D_lambda (Khan) is 1 - Q2n of the interpolated MS and the MTF-filtered fused image.
    fused_lp = mtf_filter(sharp.astype(np.float64), gains.ms, 4)
    assert d_lambda_khan(sharp, ms, 4, gains.ms) == pytest.approx(1 - q2n(exp, fused_lp))


def test_metrics_reject_mismatched_shapes() -> None:
    with pytest.raises(InputError, match="differ in shape"):
        q2n(np.zeros((4, 32, 32)), np.zeros((4, 32, 31)))
    with pytest.raises(InputError, match="not 4 times"):
        d_lambda_khan(np.zeros((4, 64, 64)), np.zeros((4, 15, 16)), 4, 0.3)
    with pytest.raises(InputError, match="differ in size"):
        d_s(np.zeros((4, 60, 60)), np.zeros((4, 20, 20)), np.zeros((60, 64)), 3)
    with pytest.raises(InputError, match="no longer takes a PAN MTF gain"):
        d_s(np.zeros((4, 64, 64)), np.zeros((4, 16, 16)), np.zeros((64, 64)), 4, 0.15)

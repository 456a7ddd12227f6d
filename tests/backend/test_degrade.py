"""Sensor MTF filters, Wald degradation and 23-tap interpolation (backend/degrade.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io as sio

from backend.degrade import (
    SENSORS,
    decimate,
    interp23,
    lagrange_weights,
    mtf_filter,
    mtf_kernel,
    sensor_gains,
    wald_degrade,
)
from backend.errors import InputError


def _response(kernel: np.ndarray, fx: float, fy: float = 0.0) -> float:
    """Amplitude response of a 2-D kernel at (fx, fy) cycles per pixel."""
    n = np.arange(kernel.shape[0]) - kernel.shape[0] // 2
    phase = np.exp(-2j * np.pi * (fy * n[:, None] + fx * n[None, :]))
    return float(abs((kernel * phase).sum()))


@pytest.mark.parametrize("gain", [0.11, 0.15, 0.23, 0.3, 0.365])
@pytest.mark.parametrize("ratio", [2, 3, 4])
def test_mtf_kernel_has_the_requested_gain_at_nyquist(gain: float, ratio: int) -> None:
    k = mtf_kernel(gain, ratio)
    assert k.shape == (41, 41)
    assert k.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(k, k.T, atol=1e-15)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-15)
    nyquist = 1.0 / (2 * ratio)
    assert _response(k, nyquist) == pytest.approx(gain, abs=2e-3)
    assert _response(k, 0.0, nyquist) == pytest.approx(gain, abs=2e-3)
    # A Gaussian: monotone low-pass, far below the gain at the fine grid's Nyquist.
    assert _response(k, nyquist / 2) > _response(k, nyquist) > _response(k, 0.5)
    assert _response(k, 0.5) < gain**3


def test_mtf_filter_attenuates_a_cosine_at_nyquist_by_the_gain() -> None:
    ratio, gain = 4, 0.28
    x = np.arange(256)
    wave = 100.0 + 10.0 * np.cos(2 * np.pi * x / (2 * ratio))  # period 2*ratio fine pixels
    img = np.repeat(wave[None, :], 96, axis=0)[None].astype(np.float32)
    out = mtf_filter(img, [gain], ratio)
    assert out.shape == img.shape and out.dtype == np.float32
    interior = out[0, 40:-40, 40:-40]
    amplitude = (interior.max() - interior.min()) / 2
    assert amplitude / 10.0 == pytest.approx(gain, abs=3e-3)
    assert interior.mean() == pytest.approx(100.0, abs=0.05)


def test_sensor_table_gains() -> None:
    ik = sensor_gains("IKONOS", 4)
    assert ik.name == "IKONOS"
    np.testing.assert_allclose(ik.ms, [0.26, 0.28, 0.29, 0.28])
    assert ik.pan == 0.17
    assert sensor_gains("WV3", 8).ms[1] == 0.355
    assert sensor_gains("wv2", 8).ms[-1] == 0.27
    assert sensor_gains("WorldView-2", 8).pan == 0.11
    np.testing.assert_allclose(sensor_gains("geoeye1", 4).ms, [0.23] * 4)
    unknown = sensor_gains(None, 5)
    assert unknown.name == "unknown"
    np.testing.assert_allclose(unknown.ms, [0.30] * 5)
    assert unknown.pan == 0.15
    # No published PAN gain: the 'unknown' one.
    assert sensor_gains("Pleiades", 4).pan == 0.15
    # Band count the table does not list: mean of the sensor's gains on every band.
    np.testing.assert_allclose(
        sensor_gains("WorldView-3", 4).ms, [np.mean(SENSORS["WorldView-3"][0])] * 4
    )
    with pytest.raises(InputError, match="Unknown sensor"):
        sensor_gains("Landsat-99", 4)


def test_23_tap_coefficients_are_the_toolbox_half_band_filter() -> None:
    w = lagrange_weights(0.5)
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(w, w[::-1], atol=1e-15)
    # Published 23-tap coefficients (odd taps, halved): 0.305334091185, 0.072698593239, ...
    published = [0.305334091185, -0.072698593239, 0.021809577942, -0.005192756653,
                 0.000807762146, -0.000060081482]  # fmt: skip
    np.testing.assert_allclose(w[6:] / 2, published, atol=1e-12)


@pytest.mark.parametrize("ratio", [2, 3, 4, 5, 8])
def test_interp23_keeps_the_samples_on_the_grid_convention(ratio: int) -> None:
    rng = np.random.default_rng(ratio)
    x = rng.random((3, 9, 14))
    y = interp23(x, ratio)
    assert y.shape == (3, 9 * ratio, 14 * ratio)
    np.testing.assert_array_equal(decimate(y, ratio), x)


@pytest.mark.parametrize("ratio", [2, 3, 4])
def test_interp23_reproduces_polynomials_away_from_borders(ratio: int) -> None:
    i = np.arange(48.0)
    coarse = (0.01 * i[:, None] ** 3 - 0.2 * i[None, :] ** 2 + i[None, :])[None]
    fine = interp23(coarse, ratio)[0]
    u = (np.arange(48 * ratio) - ratio // 2) / ratio  # coarse coordinate of each fine pixel
    expected = 0.01 * u[:, None] ** 3 - 0.2 * u[None, :] ** 2 + u[None, :]
    m = 12 * ratio
    np.testing.assert_allclose(fine[m:-m, m:-m], expected[m:-m, m:-m], atol=1e-9)


def test_wald_degrade_on_a_real_scene(shared_data) -> None:
    d = sio.loadmat(shared_data / "pansharpening" / "ikonos_imgIK.mat")
    ms = d["I_MS"][:64, :64].transpose(2, 0, 1).astype(np.float32)
    pan = d["I_PAN"][:256, :256].astype(np.float32)
    pan_lr, ms_lr = wald_degrade(pan, ms, 4, "IKONOS")
    assert pan_lr.shape == (64, 64) and ms_lr.shape == (4, 16, 16)
    assert pan_lr.dtype == np.float32 and np.isfinite(ms_lr).all()
    # Low-pass then decimation keeps band means and removes detail.
    np.testing.assert_allclose(ms_lr.mean(axis=(1, 2)), ms.mean(axis=(1, 2)), rtol=0.03)
    assert np.abs(np.diff(pan_lr, axis=1)).mean() < np.abs(np.diff(pan[2::4, 2::4], axis=1)).mean()
    g = sensor_gains("IKONOS", 4)
    np.testing.assert_allclose(ms_lr, decimate(mtf_filter(ms, g.ms, 4), 4), rtol=1e-6)
    # A constant scene stays constant.
    flat_pan, flat_ms = wald_degrade(np.full((64, 64), 7.0), np.full((2, 16, 16), 3.0), 4)
    np.testing.assert_allclose(flat_pan, 7.0, rtol=1e-6)
    np.testing.assert_allclose(flat_ms, 3.0, rtol=1e-6)


def test_wald_degrade_rejects_mismatched_sizes() -> None:
    with pytest.raises(InputError, match="not 4 times"):
        wald_degrade(np.zeros((64, 60)), np.zeros((4, 16, 16)), 4)
    with pytest.raises(InputError, match="positive integer"):
        mtf_filter(np.zeros((8, 8)), 0.3, 0)
    with pytest.raises(InputError, match=r"\(0, 1\)"):
        mtf_kernel(1.2, 4)

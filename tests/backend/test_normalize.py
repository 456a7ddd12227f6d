"""Normalisation across bit depths, and the nodata fill that keeps nodata away from the network."""

from __future__ import annotations

import numpy as np
import pytest

from backend.errors import ModelFileError
from backend.fill import fill_invalid
from backend.normalize import (
    NormStats,
    denormalize_ms,
    method_card,
    normalize_ms,
    normalize_pan,
    percentile_for,
    robust_scale,
    stats_from_arrays,
)


def test_same_scene_at_different_bit_depths_normalises_alike() -> None:
    rng = np.random.default_rng(0)
    img8 = rng.integers(0, 256, (4, 64, 64)).astype(np.uint8)
    pan8 = rng.integers(0, 256, (256, 256)).astype(np.uint8)
    img16 = img8.astype(np.uint16) * 8  # the same scene in 11 bits
    pan16 = pan8.astype(np.uint16) * 8
    s8 = stats_from_arrays(pan8, img8)
    s16 = stats_from_arrays(pan16, img16)
    np.testing.assert_allclose(normalize_ms(img8, s8), normalize_ms(img16, s16), rtol=1e-6)
    np.testing.assert_allclose(normalize_pan(pan8, s8), normalize_pan(pan16, s16), rtol=1e-6)
    assert 0.9 < float(normalize_ms(img16, s16).max()) < 1.1


def test_round_trip_and_scales_per_band() -> None:
    rng = np.random.default_rng(1)
    ms = np.stack([rng.random((16, 16)) * s for s in (10.0, 1000.0, 0.5)]).astype(np.float32)
    stats = stats_from_arrays(np.ones((64, 64)), ms)
    assert stats.ms_scales[1] / stats.ms_scales[0] == pytest.approx(100, rel=0.05)
    np.testing.assert_allclose(denormalize_ms(normalize_ms(ms, stats), stats), ms, rtol=1e-6)
    assert NormStats.from_dict(stats.to_dict()) == stats


def test_scale_ignores_invalid_and_hot_pixels() -> None:
    pan = np.full((100, 100), 500.0)
    pan[0, :10] = 65535  # saturated hot spots: 0.1 % of the pixels
    valid = np.ones_like(pan, bool)
    pan[50:, :] = -9999
    valid[50:, :] = False
    s = stats_from_arrays(pan, np.ones((1, 25, 25)), pan_valid=valid)
    assert s.pan_scale == pytest.approx(500.0)


def test_degenerate_bands_get_a_finite_scale() -> None:
    assert robust_scale(np.zeros(100)) == 1.0
    assert robust_scale(np.array([])) == 1.0
    assert robust_scale(np.r_[np.zeros(999), 7.0]) == 7.0
    assert robust_scale(np.array([np.nan, 2.0, 2.0])) == 2.0


def test_fill_keeps_valid_pixels_and_hides_nodata() -> None:
    rng = np.random.default_rng(2)
    img = (100 + 10 * rng.random((3, 40, 50))).astype(np.float32)
    valid = np.ones((40, 50), bool)
    valid[:, :12] = False  # a nodata collar
    valid[20:25, 30:33] = False  # a hole
    raw = img.copy()
    raw[:, ~valid] = -9999.0
    filled = fill_invalid(raw, valid)
    np.testing.assert_array_equal(filled[:, valid], img[:, valid])
    # filled values look like their valid neighbourhood, not like the nodata value
    assert filled[:, ~valid].min() >= 100 and filled[:, ~valid].max() <= 110
    assert np.isfinite(filled).all()
    assert fill_invalid(raw[0], valid).shape == (40, 50)


def test_fill_of_nothing_valid_is_zero() -> None:
    out = fill_invalid(np.full((2, 4, 4), np.nan, np.float32), np.zeros((4, 4), bool))
    assert (out == 0).all()


def test_model_card_decides_the_percentile() -> None:
    assert percentile_for(None) == 99.5
    assert percentile_for(method_card(98.0)) == 98.0
    with pytest.raises(ModelFileError, match="normalisation"):
        percentile_for({"method": "zscore"})

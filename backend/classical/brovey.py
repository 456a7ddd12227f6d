"""Brovey transform: each interpolated MS band scaled by PAN / intensity (intensity = band mean)."""

from __future__ import annotations

import numpy as np

from ..degrade import interp23
from ._inputs import check_pair, safe_divide


def brovey(pan: np.ndarray, ms: np.ndarray, ratio: int, sensor: str | None = None) -> np.ndarray:
    """Brovey pan-sharpening with PAN matched in mean and std to the intensity.

    Args:
        pan: PAN band (H, W).
        ms: MS image (C, H/ratio, W/ratio).
        ratio: Resolution ratio.
        sensor: Unused (same signature as the other methods).

    Returns:
        (C, H, W) float32.
    """
    p, m = check_pair(pan, ms, ratio)
    ms_up = interp23(m, ratio)
    intensity = ms_up.mean(axis=0)
    # Match PAN's mean and contrast to the intensity it replaces, so the band ratios keep the
    # MS radiometry.
    p_std = p.std()
    gain = intensity.std() / p_std if p_std > 0 else 1.0
    matched = (p - p.mean()) * gain + intensity.mean()
    return (ms_up * safe_divide(matched, intensity)[None]).astype(np.float32)

"""PSNR: peak signal-to-noise ratio over all bands, in decibels."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._checks import pair


def psnr(ref: np.ndarray, fused: np.ndarray, data_range: float | None = None) -> float:
    """`10 log10(peak^2 / MSE)` with the MSE over all bands and pixels; higher is better.

    Args:
        ref: Reference image (C, H, W).
        fused: Fused image (C, H, W).
        data_range: Peak value; default the maximum of the reference (the usual choice when the
            bit depth is unknown). Pass `2**bits - 1` for figures comparable across scenes.

    Returns:
        PSNR in dB; `inf` for identical images.
    """
    a, b = pair(ref, fused, "PSNR")
    peak = float(a.max()) if data_range is None else float(data_range)
    if peak <= 0:
        raise InputError(f"PSNR needs a positive peak value, got {peak}.")
    mse = float(((a - b) ** 2).mean())
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(peak**2 / mse))

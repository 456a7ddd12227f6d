"""ERGAS: relative global error in synthesis, `100/ratio * sqrt(mean_b(RMSE_b^2 / mu_b^2))`."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._checks import pair


def ergas(ref: np.ndarray, fused: np.ndarray, ratio: float) -> float:
    """ERGAS; 0 is ideal.

    Args:
        ref: Reference image (C, H, W); band means must be non-zero.
        fused: Fused image (C, H, W).
        ratio: Resolution ratio between PAN and MS (4 for most sensors).

    Returns:
        `100 / ratio * sqrt(mean over bands of RMSE_b^2 / mean(ref_b)^2)`.
    """
    if ratio <= 0:
        raise InputError(f"ERGAS needs a positive resolution ratio, got {ratio}.")
    a, b = pair(ref, fused, "ERGAS")
    mse = ((a - b) ** 2).mean(axis=(1, 2))
    mu = a.mean(axis=(1, 2))
    if np.any(mu == 0):
        raise InputError("ERGAS is undefined for a reference band whose mean is zero.")
    return float(100.0 / ratio * np.sqrt(np.mean(mse / mu**2)))

"""Checks shared by the classical methods: a PAN band and an MS image `ratio` times coarser."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def check_pair(pan: np.ndarray, ms: np.ndarray, ratio: int) -> tuple[np.ndarray, np.ndarray]:
    """Return `(pan, ms)` as float64 after checking shapes (H, W) and (C, H/ratio, W/ratio)."""
    if int(ratio) != ratio or ratio < 1:
        raise InputError(f"The resolution ratio must be a positive integer, got {ratio}.")
    p = np.asarray(pan, dtype=np.float64)
    m = np.asarray(ms, dtype=np.float64)
    if p.ndim != 2 or m.ndim != 3:
        raise InputError(f"Expected PAN (H, W) and MS (C, h, w), got {p.shape} and {m.shape}.")
    if p.shape != (m.shape[1] * ratio, m.shape[2] * ratio):
        raise InputError(
            f"PAN {p.shape} is not {ratio} times MS {m.shape[1:]}: crop both to the same ground."
        )
    return p, m


def safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """`num / den` with denominators of (nearly) zero replaced by the smallest normal float.

    The ratio-based methods divide by an intensity that is zero only on empty (nodata) pixels.
    """
    tiny = np.finfo(np.float64).tiny
    return num / np.where(np.abs(den) < tiny, tiny, den)

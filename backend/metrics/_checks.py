"""Input checks shared by the metrics: matching shapes, float64 copies."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def pair(ref: np.ndarray, fused: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return `(ref, fused)` as float64 (C, H, W) arrays after checking that their shapes match.

    A single band (H, W) becomes (1, H, W).
    """
    a = np.asarray(ref, dtype=np.float64)
    b = np.asarray(fused, dtype=np.float64)
    if a.shape != b.shape:
        raise InputError(f"{name}: reference {a.shape} and fused {b.shape} differ in shape.")
    if a.ndim == 2:
        a, b = a[None], b[None]
    if a.ndim != 3 or a.size == 0:
        raise InputError(f"{name}: expected images (C, H, W), got shape {ref.shape}.")
    return a, b

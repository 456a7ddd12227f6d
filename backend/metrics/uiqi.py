"""UIQI: the universal image quality index of Wang and Bovik, on square blocks.

`Q = 4 cov(x, y) mean(x) mean(y) / ((var x + var y) (mean(x)^2 + mean(y)^2))` per block (1 is
ideal), averaged over non-overlapping blocks that tile the image; blocks cut by the right and
bottom borders are kept with the pixels they hold (as MATLAB's `blockproc`).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._checks import pair
from .q2n import FLAT_RTOL


def uiqi_map(x: np.ndarray, y: np.ndarray, block: int = 32) -> np.ndarray:
    """UIQI of every block of two single-band images.

    Args:
        x: First band (H, W), the reference.
        y: Second band (H, W).
        block: Block size in pixels.

    Returns:
        (ceil(H / block), ceil(W / block)) map.
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.size == 0:
        raise InputError(f"UIQI needs two bands (H, W) of one shape, got {a.shape} and {b.shape}.")
    if block < 1:
        raise InputError(f"UIQI needs a positive block size, got {block}.")
    h, w = a.shape
    rows, cols = -(-h // block), -(-w // block)
    pad = ((0, rows * block - h), (0, cols * block - w))
    # NaN padding marks the pixels a border block does not hold.
    a = np.pad(a, pad, constant_values=np.nan).reshape(rows, block, cols, block)
    b = np.pad(b, pad, constant_values=np.nan).reshape(rows, block, cols, block)
    axes = (1, 3)
    ma = np.nanmean(a, axis=axes)
    mb = np.nanmean(b, axis=axes)
    da = a - ma[:, None, :, None]
    db = b - mb[:, None, :, None]
    va = np.nanmean(da * da, axis=axes)
    vb = np.nanmean(db * db, axis=axes)
    cab = np.nanmean(da * db, axis=axes)
    var_sum = va + vb
    mean_sq = ma * ma + mb * mb
    # Variances at rounding level (FFT filtering of a flat area) count as zero.
    var_sum = np.where(var_sum <= (FLAT_RTOL * (np.abs(ma) + np.abs(mb))) ** 2, 0.0, var_sum)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 4.0 * cab * ma * mb / (var_sum * mean_sq)
        # Degenerate blocks (the conventions of Wang and Bovik's reference code): both flat ->
        # only the luminance term; both zero-mean -> only the correlation-contrast term.
        only_mean = 2.0 * ma * mb / mean_sq
        only_var = 2.0 * cab / var_sum
    q = np.where((var_sum == 0) & (mean_sq != 0), only_mean, q)
    q = np.where((var_sum != 0) & (mean_sq == 0), only_var, q)
    return np.where((var_sum == 0) & (mean_sq == 0), 1.0, q)


def uiqi(x: np.ndarray, y: np.ndarray, block: int = 32) -> float:
    """Mean block UIQI of two single-band images (H, W); 1 is ideal."""
    return float(np.mean(uiqi_map(x, y, block)))


def q_index(ref: np.ndarray, fused: np.ndarray, block: int = 32) -> float:
    """Q: block UIQI averaged over bands of two (C, H, W) images; 1 is ideal."""
    a, b = pair(ref, fused, "Q")
    return float(np.mean([uiqi(x, y, block) for x, y in zip(a, b, strict=True)]))

"""Bicubic downsampling by an integer ratio with antialiasing (MATLAB `imresize(x, 1/ratio)`).

The pan-sharpening toolboxes build the low-resolution PAN of D_s with MATLAB's default
`imresize`: Keys' cubic kernel (a = -0.5) stretched by the ratio (so it low-passes before
decimating), weights normalised to sum 1, borders extended symmetrically (edge pixel repeated).
Output pixel `i` is centred on input coordinate `ratio * i + (ratio - 1) / 2` (0-based), the
centre of its `ratio x ratio` footprint.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import InputError


def keys_cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's 'bicubic'); support [-2, 2]."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    near = 1.5 * a**3 - 2.5 * a**2 + 1.0
    far = -0.5 * a**3 + 2.5 * a**2 - 4.0 * a + 2.0
    return np.where(a <= 1.0, near, np.where(a < 2.0, far, 0.0))


@lru_cache(maxsize=16)
def _taps(ratio: int) -> tuple[np.ndarray, np.ndarray]:
    # Offsets k (input pixel ratio*i + k) inside the stretched kernel's open support.
    centre = (ratio - 1) / 2.0
    lo = int(np.floor(centre - 2 * ratio)) + 1
    hi = int(np.ceil(centre + 2 * ratio)) - 1
    offsets = np.arange(lo, hi + 1)
    weights = keys_cubic((centre - offsets) / ratio) / ratio
    weights = weights / weights.sum()
    offsets.setflags(write=False)
    weights.setflags(write=False)
    return offsets, weights


def downsample_weights(ratio: int) -> tuple[np.ndarray, np.ndarray]:
    """Input offsets from `ratio * i` and their weights for one output pixel `i`.

    Returns:
        `(offsets, weights)`, both (K,); the weights sum to 1.
    """
    if int(ratio) != ratio or ratio < 1:
        raise InputError(f"The resize ratio must be a positive integer, got {ratio}.")
    return _taps(int(ratio))


def _down_axis(x: np.ndarray, ratio: int, axis: int) -> np.ndarray:
    offsets, weights = downsample_weights(ratio)
    n = x.shape[axis]
    m = -(-n // ratio)
    before = max(0, -int(offsets[0]))
    after = max(0, ratio * (m - 1) + int(offsets[-1]) - (n - 1))
    pad = [(0, 0)] * x.ndim
    pad[axis] = (before, after)
    # 'symmetric' repeats the edge pixel (MATLAB's imresize); wider pads keep reflecting.
    xp = np.pad(x, pad, mode="symmetric")
    out = np.zeros(x.shape[:axis] + (m,) + x.shape[axis + 1 :], dtype=np.float64)
    base = ratio * np.arange(m) + before
    for k, w in zip(offsets, weights, strict=True):
        out += w * np.take(xp, base + int(k), axis=axis)
    return out


def bicubic_downsample(img: np.ndarray, ratio: int) -> np.ndarray:
    """Shrink the last two axes by `ratio` like MATLAB's `imresize(img, 1/ratio)` (bicubic).

    Args:
        img: (..., H, W) image.
        ratio: Integer shrink factor.

    Returns:
        (..., ceil(H / ratio), ceil(W / ratio)) float64.
    """
    downsample_weights(ratio)  # validates the ratio
    x = np.asarray(img, dtype=np.float64)
    if x.ndim < 2 or min(x.shape[-2:]) < 1:
        raise InputError(f"Expected an image (..., H, W), got shape {x.shape}.")
    if ratio == 1:
        return x.copy()
    return _down_axis(_down_axis(x, int(ratio), x.ndim - 2), int(ratio), x.ndim - 1)

"""Q2n: the hypercomplex universal image quality index (Q4 for 4 bands, Q8 for 8 bands).

Each pixel's bands are read as one Cayley-Dickson hypercomplex number (complex for 2 bands,
quaternion for 4, octonion for 8; other counts are zero-padded to the next power of two). On every
block the index multiplies a correlation, a contrast and a mean-bias term computed on those
numbers, as UIQI does for one band; Q2n is the mean over blocks of the modulus. 1 is ideal.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import InputError
from ._checks import pair

FLAT_RTOL = 1e-9
"""A block band whose std is below this fraction of its mean magnitude counts as flat: FFT
filtering leaves ~1e-13 relative noise on flat areas, and dividing by that noise would turn a
flat block's ideal score into noise."""


def _conj(x: np.ndarray) -> np.ndarray:
    """Hypercomplex conjugate: keep the real part (component 0), negate the others."""
    out = -x
    out[0] = x[0]
    return out


def cayley_dickson_product(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Product of hypercomplex numbers stored along axis 0 (2^k components), element-wise after.

    Follows the recursive split (a, b)(c, d) used by the toolboxes' Q2n:
    (a c - d* b, a* d* + c b*), where * is the conjugate and a, b, c, d are the halves.

    Args:
        p, q: arrays (N, ...) with N a power of two.

    Returns:
        (N, ...) product.
    """
    n = p.shape[0]
    if n == 1:
        return p * q
    h = n // 2
    a, b, c, d = p[:h], p[h:], q[:h], q[h:]
    if n == 2:
        return np.concatenate([a * c - d * b, a * d + c * b])
    first = cayley_dickson_product(a, c) - cayley_dickson_product(_conj(d), b)
    second = cayley_dickson_product(_conj(a), _conj(d)) + cayley_dickson_product(c, _conj(b))
    return np.concatenate([first, second])


def _block_quality(ref: np.ndarray, fused: np.ndarray) -> np.ndarray:
    """Hypercomplex quality of many blocks at once.

    Args:
        ref, fused: (N, K, P) arrays: N components (power of two), K blocks of P pixels.

    Returns:
        (K,) modulus of the hypercomplex quality of each block.
    """
    n, k, p = ref.shape
    unbiased = p / (p - 1.0)
    # Normalise each band of each block with the reference's mean and std (unbiased), applied to
    # both images alike: it keeps the mean-bias term well conditioned for any radiometric scale.
    mean = ref.mean(axis=2, keepdims=True)
    std = ref.std(axis=2, ddof=1, keepdims=True)
    magnitude = np.abs(mean)
    flat = std <= FLAT_RTOL * magnitude
    scale = np.where(flat, 1.0, std)
    fused_flat = fused.std(axis=2, ddof=1, keepdims=True) <= FLAT_RTOL * (
        magnitude + np.abs(fused.mean(axis=2, keepdims=True))
    )
    both_flat = (flat & fused_flat).all(axis=(0, 2))  # (K,)
    x = (ref - mean) / scale + 1.0
    y = (fused - mean) / scale + 1.0
    y = _conj(y)

    m1 = x.mean(axis=2)  # (N, K)
    m2 = y.mean(axis=2)
    mod_m1_sq = (m1**2).sum(axis=0)  # (K,)
    mod_m2_sq = (m2**2).sum(axis=0)
    var_sum = unbiased * (
        (x**2).sum(axis=0).mean(axis=1) + (y**2).sum(axis=0).mean(axis=1) - mod_m1_sq - mod_m2_sq
    )
    mean_bias = 2.0 * np.sqrt(mod_m1_sq * mod_m2_sq) / (mod_m1_sq + mod_m2_sq)

    cov = unbiased * (cayley_dickson_product(x, y).mean(axis=2) - cayley_dickson_product(m1, m2))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = cov * (mean_bias * 2.0 / var_sum)
    modulus = np.sqrt((q**2).sum(axis=0))
    # Both blocks constant: only the mean-bias term is defined.
    return np.where((var_sum == 0) | both_flat, mean_bias, modulus)


def q2n_map(
    ref: np.ndarray, fused: np.ndarray, block: int = 32, shift: int | None = None
) -> np.ndarray:
    """Q2n of every block.

    Args:
        ref: Reference image (C, H, W).
        fused: Fused image (C, H, W).
        block: Block size in pixels.
        shift: Step between blocks (default `block`: non-overlapping). Images that the blocks do
            not tile exactly are extended by mirroring their last rows and columns.

    Returns:
        (rows, cols) map of the per-block index.
    """
    a, b = pair(ref, fused, "Q2n")
    shift = block if shift is None else shift
    if block < 2 or shift < 1:
        raise InputError(
            f"Q2n needs a block of at least 2 pixels and a positive shift, got {block}, {shift}."
        )
    c, h, w = a.shape
    n = 1 << (c - 1).bit_length()
    if n != c:
        zeros = np.zeros((n - c, h, w))
        a = np.concatenate([a, zeros])
        b = np.concatenate([b, zeros])
    ext_h = max(0, (-(-h // shift) - 1) * shift + block - h)
    ext_w = max(0, (-(-w // shift) - 1) * shift + block - w)
    if ext_h or ext_w:
        pad = ((0, 0), (0, ext_h), (0, ext_w))
        a = np.pad(a, pad, mode="symmetric")
        b = np.pad(b, pad, mode="symmetric")
    wa = sliding_window_view(a, (block, block), axis=(1, 2))[:, ::shift, ::shift]
    wb = sliding_window_view(b, (block, block), axis=(1, 2))[:, ::shift, ::shift]
    rows, cols = wa.shape[1:3]
    qa = wa.reshape(n, rows * cols, block * block)
    qb = wb.reshape(n, rows * cols, block * block)
    return _block_quality(qa, qb).reshape(rows, cols)


def q2n(ref: np.ndarray, fused: np.ndarray, block: int = 32, shift: int | None = None) -> float:
    """Q2n index (mean over blocks of the hypercomplex quality); 1 is ideal.

    Args:
        ref: Reference image (C, H, W).
        fused: Fused image (C, H, W).
        block: Block size (32 in the toolboxes).
        shift: Step between blocks (default `block`).

    Returns:
        The index, normally in [0, 1].
    """
    return float(np.mean(q2n_map(ref, fused, block, shift)))

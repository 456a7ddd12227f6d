"""SSIM: structural similarity (Wang et al. 2004), Gaussian window 11 x 11, sigma 1.5."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..errors import InputError
from ._checks import pair


def ssim(
    ref: np.ndarray,
    fused: np.ndarray,
    data_range: float | None = None,
    sigma: float = 1.5,
    radius: int = 5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> float:
    """Mean SSIM over bands; 1 is ideal.

    Local statistics use a Gaussian window of the given sigma truncated at `radius` pixels; the
    map is averaged over the pixels whose window lies fully inside the image.

    Args:
        ref: Reference image (C, H, W).
        fused: Fused image (C, H, W).
        data_range: Dynamic range L for the stabilising constants; default max - min of `ref`.
        sigma: Standard deviation of the Gaussian window.
        radius: Half size of the window (5: 11 x 11).
        k1, k2: Stabilising constants of the paper.
    """
    a, b = pair(ref, fused, "SSIM")
    if min(a.shape[1:]) <= 2 * radius:
        raise InputError(
            f"SSIM needs images larger than {2 * radius + 1} pixels, got {a.shape[1:]}."
        )
    span = float(a.max() - a.min()) if data_range is None else float(data_range)
    if span <= 0:
        span = 1.0
    c1, c2 = (k1 * span) ** 2, (k2 * span) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(x, sigma, mode="reflect", truncate=radius / sigma)

    values = []
    for x, y in zip(a, b, strict=True):
        mx, my = blur(x), blur(y)
        vx = blur(x * x) - mx * mx
        vy = blur(y * y) - my * my
        cxy = blur(x * y) - mx * my
        smap = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        values.append(smap[radius:-radius, radius:-radius].mean())
    return float(np.mean(values))

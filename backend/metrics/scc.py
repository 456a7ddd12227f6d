"""sCC: spatial correlation coefficient, the correlation of the high-pass details.

As in the pan-sharpening toolboxes, details are Sobel gradient magnitudes of every band, and sCC is
their normalised cross-correlation over all bands and pixels (1 is ideal).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._checks import pair


def sobel_magnitude(img: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of every band of a (C, H, W) image, borders replicated."""
    out = np.empty_like(img, dtype=np.float64)
    for i, band in enumerate(img):
        gx = ndimage.sobel(band, axis=1, mode="nearest")
        gy = ndimage.sobel(band, axis=0, mode="nearest")
        out[i] = np.hypot(gx, gy)
    return out


def scc(ref: np.ndarray, fused: np.ndarray) -> float:
    """Spatial correlation coefficient in [0, 1]; 1 is ideal.

    Args:
        ref: Reference image (C, H, W).
        fused: Fused image (C, H, W).

    Returns:
        `sum(Gr * Gf) / sqrt(sum(Gr^2) sum(Gf^2))` with G the Sobel magnitudes; NaN when either
        image has no detail at all.
    """
    a, b = pair(ref, fused, "sCC")
    ga, gb = sobel_magnitude(a), sobel_magnitude(b)
    den = np.sqrt((ga**2).sum() * (gb**2).sum())
    if den == 0:
        return float("nan")
    return float((ga * gb).sum() / den)

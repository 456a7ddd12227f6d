"""SAM: spectral angle mapper, the mean angle between reference and fused pixel spectra."""

from __future__ import annotations

import numpy as np

from ._checks import pair


def sam_map(ref: np.ndarray, fused: np.ndarray) -> np.ndarray:
    """Angle in degrees between the spectra of every pixel.

    Args:
        ref: Reference image (C, H, W).
        fused: Fused image (C, H, W).

    Returns:
        (H, W) angles in degrees; NaN where either spectrum is all zeros (angle undefined).
    """
    a, b = pair(ref, fused, "SAM")
    dot = (a * b).sum(axis=0)
    norms = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Clip: rounding can push the cosine of nearly parallel spectra just above 1.
        cos = np.clip(dot / norms, -1.0, 1.0)
    angle = np.degrees(np.arccos(cos))
    angle[norms == 0] = np.nan
    return angle


def sam(ref: np.ndarray, fused: np.ndarray) -> float:
    """Mean spectral angle in degrees over the pixels where both spectra are non-zero; 0 is ideal.

    Args:
        ref: Reference image (C, H, W).
        fused: Fused image (C, H, W).
    """
    angles = sam_map(ref, fused)
    valid = np.isfinite(angles)
    return float(angles[valid].mean()) if valid.any() else float("nan")

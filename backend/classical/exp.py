"""EXP: the MS image interpolated to the PAN grid with the 23-tap polynomial kernel (no PAN)."""

from __future__ import annotations

import numpy as np

from ..degrade import interp23
from ._inputs import check_pair


def exp(pan: np.ndarray, ms: np.ndarray, ratio: int, sensor: str | None = None) -> np.ndarray:
    """Interpolate MS to the PAN grid; the reference "no sharpening" baseline.

    Args:
        pan: PAN band (H, W); only its shape is used.
        ms: MS image (C, H/ratio, W/ratio).
        ratio: Resolution ratio.
        sensor: Unused (same signature as the other methods).

    Returns:
        (C, H, W) float32.
    """
    _, m = check_pair(pan, ms, ratio)
    return interp23(m, ratio).astype(np.float32)

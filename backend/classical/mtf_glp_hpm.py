"""MTF-GLP-HPM: generalised Laplacian pyramid with MTF-matched filters, high-pass modulation.

Each band multiplies the interpolated MS by `PAN_b / PAN_b_low`, where PAN_b is PAN equalised to
the band's mean and std and PAN_b_low is PAN_b filtered with the band's MTF, decimated and
re-interpolated (the "GLP" path, so PAN_b_low has the same aliasing as the interpolated MS).
"""

from __future__ import annotations

import numpy as np

from ..degrade import decimate, interp23, mtf_filter, sensor_gains
from ._inputs import check_pair, safe_divide


def mtf_glp_hpm(
    pan: np.ndarray, ms: np.ndarray, ratio: int, sensor: str | None = None
) -> np.ndarray:
    """MTF-GLP with high-pass modulation.

    Args:
        pan: PAN band (H, W).
        ms: MS image (C, H/ratio, W/ratio).
        ratio: Resolution ratio.
        sensor: Sensor name for the per-band MTF gains (None: 'unknown').

    Returns:
        (C, H, W) float32.
    """
    p, m = check_pair(pan, ms, ratio)
    gains = sensor_gains(sensor, m.shape[0]).ms
    ms_up = interp23(m, ratio)
    p_std = p.std()
    out = np.empty(ms_up.shape, dtype=np.float32)
    for b in range(m.shape[0]):
        scale = ms_up[b].std() / p_std if p_std > 0 else 1.0
        p_eq = (p - p.mean()) * scale + ms_up[b].mean()
        p_low = interp23(decimate(mtf_filter(p_eq, gains[b], ratio), ratio), ratio)
        out[b] = ms_up[b] * safe_divide(p_eq, p_low)
    return out

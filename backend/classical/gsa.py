"""GSA: Gram-Schmidt adaptive component substitution (Aiazzi et al. 2007).

The intensity is the linear combination of the MS bands (plus a constant) that best fits the
degraded PAN at MS resolution; each band receives the PAN detail `PAN - I` weighted by
`cov(I, MS_b) / var(I)`.
"""

from __future__ import annotations

import numpy as np

from ..degrade import decimate, mtf_filter, sensor_gains
from ..degrade import interp23 as _interp23
from ._inputs import check_pair


def gsa(pan: np.ndarray, ms: np.ndarray, ratio: int, sensor: str | None = None) -> np.ndarray:
    """GSA pan-sharpening.

    Args:
        pan: PAN band (H, W).
        ms: MS image (C, H/ratio, W/ratio).
        ratio: Resolution ratio.
        sensor: Sensor name; its PAN MTF gain low-passes PAN before the intensity fit.

    Returns:
        (C, H, W) float32.
    """
    p, m = check_pair(pan, ms, ratio)
    c = m.shape[0]
    ms_up = _interp23(m, ratio)
    up_mean = ms_up.mean(axis=(1, 2), keepdims=True)
    ms_up0 = ms_up - up_mean
    ms_lr0 = m - m.mean(axis=(1, 2), keepdims=True)
    pan0 = p - p.mean()
    pan_lr = decimate(mtf_filter(pan0, sensor_gains(sensor, c).pan, ratio), ratio)

    # Least-squares weights of the bands (and a constant) that reproduce the degraded PAN.
    design = np.concatenate([ms_lr0.reshape(c, -1), np.ones((1, pan_lr.size))]).T
    alpha, *_ = np.linalg.lstsq(design, pan_lr.ravel(), rcond=None)
    intensity = np.tensordot(alpha[:c], ms_up0, axes=1) + alpha[c]
    i0 = intensity - intensity.mean()

    var_i = i0.var()
    if var_i > 0:
        gains = np.array([(i0 * band).mean() / var_i for band in ms_up0])
        p_std = pan0.std()
        matched = pan0 * (np.sqrt(var_i) / p_std) if p_std > 0 else pan0
    else:
        # A flat intensity carries no structure to substitute: fall back to no injection.
        gains = np.zeros(c)
        matched = i0
    detail = matched - i0
    return (ms_up + gains[:, None, None] * detail[None]).astype(np.float32)

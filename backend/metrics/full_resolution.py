"""Full-resolution (no reference) quality: D_lambda (Khan), D_s and HQNR.

D_lambda (Khan): spectral distortion, `1 - Q2n(MS_up, MTF(fused))`: the fused image low-passed
with the sensor's MS MTF filters should reproduce the interpolated MS.
D_s: spatial distortion, mean over bands of `|Q(fused_b, PAN) - Q(MS_b, PAN_lr)|` (block UIQI,
32 px at full resolution, 32/ratio px at MS resolution), PAN_lr the MTF-degraded PAN.
HQNR: `(1 - D_lambda)(1 - D_s)`, 1 is ideal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..degrade import decimate, interp23, mtf_filter
from ..errors import InputError
from .q2n import q2n
from .uiqi import uiqi


def _check(fused: np.ndarray, ms: np.ndarray, ratio: int) -> None:
    if fused.ndim != 3 or ms.ndim != 3 or fused.shape[0] != ms.shape[0]:
        raise InputError(
            f"Expected fused (C, H, W) and MS (C, h, w), got {fused.shape}, {ms.shape}."
        )
    if fused.shape[1:] != (ms.shape[1] * ratio, ms.shape[2] * ratio):
        raise InputError(f"Fused {fused.shape[1:]} is not {ratio} times MS {ms.shape[1:]}.")


def d_lambda_khan(
    fused: np.ndarray,
    ms: np.ndarray,
    ratio: int,
    gains: float | Sequence[float] | np.ndarray,
    block: int = 32,
) -> float:
    """Khan's spectral distortion index; 0 is ideal.

    Args:
        fused: Fused image (C, H, W).
        ms: Original MS (C, H/ratio, W/ratio).
        ratio: Resolution ratio.
        gains: MS MTF gains at Nyquist, one or (C,).
        block: Q2n block size.
    """
    _check(fused, ms, ratio)
    ms_up = interp23(ms.astype(np.float64), ratio)
    fused_lp = mtf_filter(fused.astype(np.float64), gains, ratio)
    return 1.0 - q2n(ms_up, fused_lp, block)


def d_s(
    fused: np.ndarray,
    ms: np.ndarray,
    pan: np.ndarray,
    ratio: int,
    pan_gain: float,
    block: int = 32,
    exponent: float = 1.0,
) -> float:
    """Spatial distortion index; 0 is ideal.

    Args:
        fused: Fused image (C, H, W).
        ms: Original MS (C, H/ratio, W/ratio).
        pan: PAN band (H, W).
        ratio: Resolution ratio; must divide `block`.
        pan_gain: PAN MTF gain at Nyquist, for the degraded PAN.
        block: Block size at full resolution (32/ratio at MS resolution).
        exponent: The q exponent of the definition (1 in the toolboxes).
    """
    _check(fused, ms, ratio)
    if pan.shape != fused.shape[1:]:
        raise InputError(f"PAN {pan.shape} and fused {fused.shape[1:]} differ in size.")
    if block % ratio:
        raise InputError(f"D_s needs a block size divisible by the ratio, got {block} and {ratio}.")
    pan64 = pan.astype(np.float64)
    pan_lr = decimate(mtf_filter(pan64, pan_gain, ratio), ratio)
    diffs = []
    for b in range(fused.shape[0]):
        q_high = uiqi(fused[b], pan64, block)
        q_low = uiqi(ms[b], pan_lr, block // ratio)
        diffs.append(abs(q_high - q_low) ** exponent)
    return float(np.mean(diffs) ** (1.0 / exponent))


def hqnr(d_lambda: float, d_spatial: float) -> float:
    """Hybrid quality with no reference `(1 - D_lambda)(1 - D_s)`; 1 is ideal."""
    return float((1.0 - d_lambda) * (1.0 - d_spatial))

"""Full-resolution (no reference) quality: D_lambda (Khan), D_s and HQNR, as in the toolboxes.

D_lambda (Khan): spectral distortion, `1 - Q2n(MS_exp, MTF(fused))` on S x S blocks, where
MS_exp is the MS interpolated to the PAN grid (23-tap) and MTF(fused) the fused image low-passed
with the sensor's MS MTF filters (not decimated).
D_s: spatial distortion, `(mean_b |Q(fused_b, PAN) - Q(MS_exp_b, PAN_low)|^q)^(1/q)` with q = 1,
where Q is the UIQI of distinct S x S blocks (S = 32) averaged over the blocks, and
`PAN_low = interp23(imresize(PAN, 1/ratio))`: PAN shrunk by MATLAB's bicubic `imresize` and
interpolated back with the same 23-tap filter as MS_exp, so that both terms of the low-resolution
Q live on the same grid (the toolboxes' default, "toolbox 1.0" option of their D_s).
HQNR: `(1 - D_lambda)(1 - D_s)`, 1 is ideal.

D_s is two-sided: it grows when a fused band is less PAN-like than the MS is like the degraded
PAN (too little detail, e.g. EXP) and also when it is more PAN-like (too much detail injected).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..degrade import interp23, mtf_filter
from ..errors import InputError
from .bicubic_resize import bicubic_downsample
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
    block: int = 32,
    exponent: float = 1.0,
) -> float:
    """Spatial distortion index of the toolboxes' QNR and HQNR; 0 is ideal.

    Args:
        fused: Fused image (C, H, W).
        ms: Original MS (C, H/ratio, W/ratio).
        pan: PAN band (H, W).
        ratio: Resolution ratio.
        block: Block size S of the UIQI, in PAN pixels.
        exponent: The q exponent of the definition (1 in the toolboxes).
    """
    _check(fused, ms, ratio)
    if pan.shape != fused.shape[1:]:
        raise InputError(f"PAN {pan.shape} and fused {fused.shape[1:]} differ in size.")
    if isinstance(block, float) and not block.is_integer():
        raise InputError(
            f"D_s takes a block size in pixels, got {block} (it no longer takes a PAN MTF gain)."
        )
    if int(block) < 1:
        raise InputError(f"D_s needs a positive block size, got {block}.")
    block = int(block)
    pan64 = pan.astype(np.float64)
    ms_exp = interp23(ms.astype(np.float64), ratio)
    pan_low = interp23(bicubic_downsample(pan64, ratio), ratio)
    diffs = []
    for b in range(fused.shape[0]):
        q_high = uiqi(fused[b], pan64, block)
        q_low = uiqi(ms_exp[b], pan_low, block)
        diffs.append(abs(q_high - q_low) ** exponent)
    return float(np.mean(diffs) ** (1.0 / exponent))


def hqnr(d_lambda: float, d_spatial: float) -> float:
    """Hybrid quality with no reference `(1 - D_lambda)(1 - D_s)`; 1 is ideal."""
    return float((1.0 - d_lambda) * (1.0 - d_spatial))

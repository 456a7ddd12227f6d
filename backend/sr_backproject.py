"""Back-projection: make a super-resolved image consistent with its low-resolution input.

Internal learning assumes one degradation from the output grid to the input grid (the MTF blur of
`backend.sr_adapt.centred_degrade`, then centred decimation by the scale). Iterative
back-projection enforces it on the result: the output is degraded, its difference with the input
is interpolated back (bicubic, as the network's own upsampling) and added, a few times. Detail
the network added that the degradation removes is kept; what contradicts the input is corrected.
It costs a few convolutions per tile and runs inside the tiled engine (the tile overlap hides its
border effects).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .degrade import mtf_kernel
from .model.upsample import upsample_ms


def _separable(kernel: np.ndarray) -> np.ndarray:
    """The 1-D factor of a separable (Gaussian) 2-D kernel that sums to 1."""
    row = kernel.sum(axis=0)
    return row / row.sum()


def degrade(x: torch.Tensor, scale: int, gains: Sequence[float]) -> torch.Tensor:
    """`backend.sr_adapt.centred_degrade` in torch: `(B, C, H, W) -> (B, C, H/s, W/s)`.

    MTF blur (edge replication), then for even scales the 2-tap average that moves values to
    block centres, then decimation at the block centres.
    """
    b, c, h, w = x.shape
    taps = []
    for g in gains:
        taps.append(_separable(np.asarray(mtf_kernel(float(g), scale))))
    k = torch.as_tensor(np.stack(taps), dtype=x.dtype, device=x.device)  # (C, T)
    half = k.shape[1] // 2
    y = F.pad(x, (half, half, half, half), mode="replicate")
    y = F.conv2d(y, k[:, None, None, :], groups=c)
    y = F.conv2d(y, k[:, None, :, None], groups=c)
    if scale % 2 == 0:
        y = 0.5 * (y[..., :-1, :] + y[..., 1:, :])
        y = 0.5 * (y[..., :, :-1] + y[..., :, 1:])
        o = scale // 2 - 1
    else:
        o = scale // 2
    return y[..., o : o + scale * (h // scale) : scale, o : o + scale * (w // scale) : scale]


def back_project(
    sr: torch.Tensor, lr: torch.Tensor, scale: int, gains: Sequence[float], iterations: int
) -> torch.Tensor:
    """Iterative back-projection of `sr` `(B, C, H, W)` onto `lr` `(B, C, H/s, W/s)`."""
    for _ in range(iterations):
        sr = sr + upsample_ms(lr - degrade(sr, scale, gains), scale)
    return sr

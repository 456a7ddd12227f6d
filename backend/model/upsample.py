"""Bringing MS to the PAN grid inside the network (any integer ratio)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def upsample_ms(ms: torch.Tensor, ratio: int, mode: str = "bicubic") -> torch.Tensor:
    """Interpolate MS by an integer ratio, pixel centres aligned (MS pixel i covers PAN pixels
    i*r .. i*r + r - 1).

    Args:
        ms: (B, C, h, w).
        ratio: Integer factor r.
        mode: "bicubic", "bilinear" or "nearest".

    Returns:
        (B, C, h*r, w*r).
    """
    size = (ms.shape[-2] * ratio, ms.shape[-1] * ratio)
    if ratio == 1:
        return ms
    if mode == "nearest":
        return F.interpolate(ms, size=size, mode="nearest")
    return F.interpolate(ms, size=size, mode=mode, align_corners=False)

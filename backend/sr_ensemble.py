"""Geometric self-ensemble for super-resolution: average a network over the 8 dihedral views.

The selective scans of MMMamba run along fixed directions, so the network is not equivariant to
flips and quarter turns: each view of an image gives a slightly different answer, with errors that
are partly independent. Transforming the inputs, running the network and transforming the output
back, then averaging the views, removes part of that error at the cost of one network run per
view. The bicubic upsampling inside the network commutes with every dihedral transform (symmetric
kernel, pixel centres aligned), so the views differ only by what the network does.

View `k` (0..7) is `rot90(flip(x) if k >= 4 else x, k % 4)` over the last two axes; the first
`n` views of an `n`-view ensemble (1, 2, 4 or 8) are used, so 2 views are the identity and a half
turn (which reverses every scan direction) and 4 are the four quarter turns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .errors import InputError

ENSEMBLE_SIZES = (1, 2, 4, 8)
_ORDER = (0, 2, 1, 3, 4, 6, 5, 7)
"""View numbers in the order an ensemble takes them (the half turn first: it reverses every scan
direction, the largest change of view)."""


def ensemble_views(n: int) -> tuple[int, ...]:
    """The view numbers of an `n`-view ensemble (also the views adaptation trains on)."""
    return _ORDER[: check_ensemble(n)]


def dihedral_np(a: np.ndarray, k: int) -> np.ndarray:
    """View `k` of an array over its last two axes (a view, not a copy)."""
    if k >= 4:
        a = a[..., ::-1]
    return np.rot90(a, k % 4, axes=(-2, -1))


def dihedral(t: torch.Tensor, k: int) -> torch.Tensor:
    """View `k` of a tensor `(..., H, W)` over its last two axes."""
    if k >= 4:
        t = torch.flip(t, dims=(-1,))
    return torch.rot90(t, k % 4, dims=(-2, -1))


def dihedral_inverse(t: torch.Tensor, k: int) -> torch.Tensor:
    """Undo `dihedral(., k)`."""
    t = torch.rot90(t, -(k % 4), dims=(-2, -1))
    if k >= 4:
        t = torch.flip(t, dims=(-1,))
    return t


def check_ensemble(n: int) -> int:
    """Validate an ensemble size (1, 2, 4 or 8)."""
    if isinstance(n, bool) or n not in ENSEMBLE_SIZES:
        raise InputError(
            f"The ensemble size must be one of {', '.join(map(str, ENSEMBLE_SIZES))}, got {n!r}."
        )
    return int(n)


def ensemble_forward(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    pan: torch.Tensor,
    ms: torch.Tensor,
    n: int,
) -> torch.Tensor:
    """Mean of `fn` over the first `n` dihedral views.

    Args:
        fn: the network, `(B, 1, H, W), (B, C, h, w) -> (B, C, H, W)`.
        pan: `(B, 1, H, W)`.
        ms: `(B, C, h, w)`.
        n: number of views (1, 2, 4 or 8).

    Returns:
        `(B, C, H, W)`.
    """
    n = check_ensemble(n)
    if n == 1:
        return fn(pan, ms)
    acc = None
    for k in ensemble_views(n):
        out = dihedral_inverse(fn(dihedral(pan, k), dihedral(ms, k)), k)
        acc = out if acc is None else acc.add_(out)
    assert acc is not None
    return acc.div_(n)

"""Multimodal interleaved (MI) scan orders: per window, the MS tokens then the PAN tokens.

Tokens are numbered in a *source* layout: MS pixel p (row-major over H x W) is token p and PAN
pixel p is token H*W + p. A scan order is a permutation `order` of the 2*H*W source tokens:
`seq = src[..., order]` builds the sequence and `src = seq[..., inverse]` undoes it, with
`inverse = argsort(order)`; both are exact for any H x W that the window divides (square or not).
"""

from __future__ import annotations

import torch

N_DIRECTIONS = 4


def window_pixel_order(h: int, w: int, window: int, direction: int) -> torch.Tensor:
    """Pixel indices of one modality in the order a direction visits them.

    Args:
        h, w: Feature map size (multiples of `window`).
        window: Window side.
        direction: 0 row-major windows and pixels; 1 its per-modality reverse; 2 column-major
            windows and pixels; 3 its reverse.

    Returns:
        (n_windows, window*window) int64: row i lists the pixels of the i-th visited window.
    """
    if h % window or w % window:
        raise ValueError(f"feature map {h}x{w} is not a multiple of the window {window}")
    grid = torch.arange(h * w).view(h // window, window, w // window, window)  # [i, a, j, b]
    if direction in (0, 1):
        win = grid.permute(0, 2, 1, 3)  # windows row-major (i, j), pixels row-major (a, b)
    elif direction in (2, 3):
        win = grid.permute(2, 0, 3, 1)  # windows column-major (j, i), pixels column-major (b, a)
    else:
        raise ValueError(f"direction must be 0..3, got {direction}")
    win = win.reshape(-1, window * window)
    if direction in (1, 3):
        win = win.flip(0).flip(1)  # reverse windows and pixels; modality order stays MS, PAN
    return win


def mi_order(h: int, w: int, window: int, direction: int) -> torch.Tensor:
    """Source-token index of every position of the MI sequence of one direction.

    Returns:
        (2*h*w,) int64 permutation: per window, its MS tokens then its PAN tokens.
    """
    win = window_pixel_order(h, w, window, direction)
    return torch.cat([win, win + h * w], dim=1).reshape(-1)


def mi_orders(h: int, w: int, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Orders of the four directions and their inverses.

    Returns:
        order (4, 2*h*w) and inverse (4, 2*h*w), int64, with `order[k][inverse[k]] == arange`.
    """
    order = torch.stack([mi_order(h, w, window, k) for k in range(N_DIRECTIONS)])
    return order, torch.argsort(order, dim=1)


def build_sequences(src: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Gather the MI sequences of every direction.

    Args:
        src: (B, D, 2*H*W) tokens in source layout (MS pixels then PAN pixels).
        order: (K, 2*H*W) from `mi_orders`.

    Returns:
        (B, K, D, 2*H*W).
    """
    b, d, n = src.shape
    k = order.shape[0]
    return src.index_select(2, order.reshape(-1)).view(b, d, k, n).transpose(1, 2)


def undo_sequences(seq: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """Bring each direction's sequence back to source layout (no sum over directions).

    Args:
        seq: (B, K, D, 2*H*W).
        inverse: (K, 2*H*W) from `mi_orders`.

    Returns:
        (B, K, D, 2*H*W) in source layout.
    """
    idx = inverse.view(1, inverse.shape[0], 1, inverse.shape[1]).expand_as(seq)
    return seq.gather(3, idx)

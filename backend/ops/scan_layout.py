"""Channel-major scan arguments as the token-major, grouped views the CPU engines work on."""

from __future__ import annotations

from typing import NamedTuple

import torch


class GroupedArgs(NamedTuple):
    """Grouped token-major views (no copies) and the channel-major sizes to go back to."""

    u: torch.Tensor  # (B, G, L, dg)
    delta: torch.Tensor  # (B, G, L, dg)
    A: torch.Tensor  # (G, dg, N)
    B: torch.Tensor  # (B, G, L, N)
    C: torch.Tensor  # (B, G, L, N)
    D: torch.Tensor | None  # (G, dg)
    delta_bias: torch.Tensor | None  # (G, dg)
    initial_state: torch.Tensor | None  # (B, G, dg, N)
    sizes: tuple[int, int, int, int]  # batch, channels, tokens, states


def grouped_args(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None,
    delta_bias: torch.Tensor | None,
    initial_state: torch.Tensor | None,
) -> GroupedArgs:
    """Views of channel-major scan arguments grouped by the G groups of B and C.

    Args:
        u, delta: (B, D, L); A: (D, N); B, C: (B, G, N, L) or (B, N, L); D, delta_bias: (D,)
        or None; initial_state: (B, D, N) or None.

    Raises:
        ValueError: If the channels are not a multiple of the groups.
    """
    if B.dim() == 3:
        B = B.unsqueeze(1)
    if C.dim() == 3:
        C = C.unsqueeze(1)
    nb, nd, L = u.shape
    n = A.shape[1]
    G = B.shape[1]
    if nd % G:
        raise ValueError(f"channels ({nd}) must be a multiple of the groups of B/C ({G})")
    dg = nd // G
    return GroupedArgs(
        u.reshape(nb, G, dg, L).transpose(2, 3),
        delta.reshape(nb, G, dg, L).transpose(2, 3),
        A.reshape(G, dg, n),
        B.transpose(2, 3),
        C.transpose(2, 3),
        None if D is None else D.reshape(G, dg),
        None if delta_bias is None else delta_bias.reshape(G, dg),
        None if initial_state is None else initial_state.reshape(nb, G, dg, n),
        (nb, nd, L, n),
    )


def channel_major(
    y: torch.Tensor, h_last: torch.Tensor, sizes: tuple[int, int, int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, G, L, dg) outputs and (B, G, dg, N) state back to (B, D, L) and (B, D, N)."""
    nb, nd, L, n = sizes
    return y.transpose(2, 3).reshape(nb, nd, L), h_last.reshape(nb, nd, n)

"""Float64 sequential selective scan: slow, obviously correct, the reference of the tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def expand_groups(M: torch.Tensor, channels: int) -> torch.Tensor:
    """Broadcast grouped B or C to one row per channel.

    Args:
        M: (B, G, N, L) grouped input-dependent matrix, or (B, N, L) for one group.
        channels: Number of scan channels D (a multiple of G).

    Returns:
        (B, D, N, L), a view-free copy when G < D.
    """
    if M.dim() == 3:
        M = M.unsqueeze(1)
    groups = M.shape[1]
    if channels % groups:
        raise ValueError(f"channels ({channels}) must be a multiple of the groups ({groups})")
    return M.repeat_interleave(channels // groups, dim=1)


def prepare_delta(
    delta: torch.Tensor, delta_bias: torch.Tensor | None, delta_softplus: bool
) -> torch.Tensor:
    """Step sizes as the scan uses them: `softplus(delta + bias)` (or without softplus)."""
    if delta_bias is not None:
        delta = delta + delta_bias[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    return delta


def selective_scan_oracle(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = True,
    initial_state: torch.Tensor | None = None,
    return_last_state: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Sequential S6 scan in float64, one Python step per token (tests only).

    `h_t = exp(delta_t * A) * h_{t-1} + delta_t * B_t * u_t`, `y_t = C_t . h_t + D * u_t`.

    Args:
        u: (B, D, L) input.
        delta: (B, D, L) raw step sizes.
        A: (D, N) state matrix (negative real).
        B: (B, G, N, L) input matrices, G groups of D/G channels.
        C: (B, G, N, L) output matrices.
        D: (D,) skip weights or None.
        delta_bias: (D,) bias added to delta before softplus, or None.
        delta_softplus: Apply softplus to the step sizes.
        initial_state: (B, D, N) state before the first token, or None for zeros.
        return_last_state: Also return the state after the last token.

    Returns:
        y (B, D, L) in float64, and the last state (B, D, N) if asked.
    """
    dt = torch.float64
    u, delta, A = u.to(dt), delta.to(dt), A.to(dt)
    delta = prepare_delta(delta, None if delta_bias is None else delta_bias.to(dt), delta_softplus)
    channels = u.shape[1]
    Bx = expand_groups(B.to(dt), channels)
    Cx = expand_groups(C.to(dt), channels)
    h = (
        torch.zeros(u.shape[0], channels, A.shape[1], dtype=dt, device=u.device)
        if initial_state is None
        else initial_state.to(dt)
    )
    ys = []
    for t in range(u.shape[2]):
        d_t = delta[:, :, t, None]
        h = torch.exp(d_t * A) * h + d_t * Bx[:, :, :, t] * u[:, :, t, None]
        ys.append((h * Cx[:, :, :, t]).sum(-1))
    y = torch.stack(ys, dim=-1) if ys else u.new_zeros(u.shape)
    if D is not None:
        y = y + D.to(dt)[:, None] * u
    return (y, h) if return_last_state else y

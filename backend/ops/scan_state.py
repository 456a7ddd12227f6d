"""Carry the scan state between calls of a scan that always starts from zero (mamba-ssm's kernel).

The CUDA kernel has no initial-state input, yet the inference path scans a long sequence in
segments so that its work tensors stay small. The state is carried by a *prefix* of `2N` tokens
put in front of each segment:

- their step size is tiny (`softplus(-30)` ~ 1e-13), so every decay `exp(delta * A)` rounds to
  exactly 1 in float32 and they neither erase nor scale the state;
- prefix tokens `2n` and `2n + 1` have `B = e_n` (one-hot on state n) and C = 0, so each one adds
  `delta * u` to state n only;
- their inputs are `u = h0[n] / delta` split in two (a rounded "high" part and the rounding
  rest), so that `delta * (u_hi + u_lo)` restores `h0` to float32 precision even when the scan's
  inputs are stored in bfloat16.

After the prefix the state equals `h0` and the segment's real tokens scan on from it; the outputs
of the prefix tokens are discarded. The prefix's step size is derived from the raw value actually
stored (after any rounding to the storage type), with the same softplus the kernel applies.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Raw step size of the prefix tokens before the bias: softplus(-30) ~ 9.4e-14, so that
# delta * |A| < 1e-11 for any |A| < 100 and exp(delta * A) is exactly 1.0 in float32.
PREFIX_RAW_DELTA = -30.0


def prefix_len(d_state: int) -> int:
    """Tokens of the state prefix: two per state (high and low part of the injected value)."""
    return 2 * d_state


def fill_state_prefix(
    u: torch.Tensor,
    delta: torch.Tensor,
    bc: torch.Tensor,
    h0: torch.Tensor | None,
    delta_bias: torch.Tensor,
    dt_rank: int,
) -> None:
    """Write the state prefix into the first `2N` tokens of a segment's buffers, in place.

    Args:
        u: (B, G, dg, P + l) scan inputs; the first P = 2N tokens are overwritten.
        delta: (B, G, dg, P + l) raw step sizes (bias not added); first P tokens overwritten.
        bc: (B, G, R + 2N, P + l) rows dt (R), B (N), C (N) per token; the B and C rows of the
            first P tokens are overwritten.
        h0: (B, G*dg, N) state to start the segment from, or None for zeros.
        delta_bias: (G*dg,) step-size bias the scan adds before softplus.
        dt_rank: R, rows of `bc` before B.
    """
    nb, G, dg, _ = u.shape
    n = (bc.shape[2] - dt_rank) // 2
    P = prefix_len(n)
    bias = delta_bias.float().view(G, dg, 1)
    delta[..., :P] = (PREFIX_RAW_DELTA - bias).to(delta.dtype)
    onehot = torch.zeros(n, P, dtype=bc.dtype, device=bc.device)
    onehot[torch.arange(P, device=bc.device) // 2, torch.arange(P, device=bc.device)] = 1
    bc[:, :, dt_rank : dt_rank + n, :P] = onehot
    bc[:, :, dt_rank + n :, :P] = 0
    if h0 is None:
        u[..., :P] = 0
        return
    # the step the scan will apply to the prefix, from the stored (possibly rounded) raw value
    step = F.softplus(delta[..., :P:2].float() + bias)  # (B|1, G, dg, N)
    value = h0.float().reshape(nb, G, dg, n) / step
    hi = value.to(u.dtype)
    u[..., 0:P:2] = hi
    u[..., 1:P:2] = (value - hi.float()).to(u.dtype)

"""Gradient of the chunked selective scan, computed stretch by stretch instead of recorded.

Autograd through `scan_chunked` would keep every step of every chunk loop: about 12 GiB for one
128^2 training crop of the default network. This function keeps only its inputs and the state
entering each stretch of L; the backward pass walks the stretches from the last to the first,
recomputes their states, and runs the adjoint recurrence backwards:

    lambda_t = C_t gy_t + exp(delta_{t+1} A) lambda_{t+1}      (dLoss/dh_t)

from which every input gradient is a sum of products (`delta` is the step size after softplus):

    g_u = delta * sum_n lambda B,   g_B = sum_d lambda delta u,   g_C = sum_d gy h,
    g_delta = sum_n (lambda h_{t-1} a A) + u sum_n lambda B,   g_A = sum_t lambda h_{t-1} a delta,

with `a = exp(delta A)`. Memory beyond the inputs: one (B, G, dg, N) state per stretch and a few
work tensors of one stretch (`scan_chunked.DEFAULT_BLOCK_ELEMENTS` each), whatever L is. The
backward pass works in the chunk layout of `scan_chunked.scan_block`, with in-place recurrences.
"""

from __future__ import annotations

import torch

from .scan_chunked import (
    LOG2E,
    chunk_states_,
    from_chunks,
    linear_scan,
    scan_stretches,
    to_chunks,
)


class ChunkedScan(torch.autograd.Function):
    """`(y, h_last)` of the scan without the skip term; differentiable in every input."""

    @staticmethod
    def forward(
        ctx,
        u: torch.Tensor,
        dt: torch.Tensor,
        A: torch.Tensor,
        B: torch.Tensor,
        C: torch.Tensor,
        h0: torch.Tensor,
        chunk: int,
        block: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """u, dt: (B, G, L, dg) float32 (dt after softplus); A: (G, dg, N); B, C: (B, G, L, N);
        h0: (B, G, dg, N); chunk: tokens per chunk; block: tokens per stretch.

        Returns y (B, G, L, dg) and the state after the last token (B, G, dg, N)."""
        y, h, states = scan_stretches(u, dt, A, B, C, h0, chunk, block)
        ctx.save_for_backward(u, dt, A, B, C, *states)
        ctx.chunk, ctx.block = chunk, block
        return y, h

    @staticmethod
    def backward(ctx, gy: torch.Tensor | None, gh_last: torch.Tensor | None):
        u, dt, A, B, C, *states = ctx.saved_tensors
        T, block = ctx.chunk, ctx.block
        nb, G, L, dg = u.shape
        n = A.shape[-1]
        gu, gdt = torch.empty_like(u), torch.empty_like(dt)
        gB, gC = torch.empty_like(B), torch.empty_like(C)
        gA = torch.zeros_like(A)
        # dLoss/dh entering the stretch after this one, through its first decay
        mu = gh_last if gh_last is not None else u.new_zeros(nb, G, dg, n)
        if gy is None:
            gy = torch.zeros_like(u)
        a2 = (A * LOG2E).unsqueeze(-1)  # (G, dg, N, 1)
        for i in reversed(range(len(states))):
            s = i * block
            e = min(L, s + block)
            grads, mu = _stretch_backward(
                u[:, :, s:e], dt[:, :, s:e], A, a2, B[:, :, s:e], C[:, :, s:e],
                gy[:, :, s:e], states[i], mu, T,
            )  # fmt: skip
            gu[:, :, s:e], gdt[:, :, s:e], gB[:, :, s:e], gC[:, :, s:e], ga = grads
            gA += ga
        return gu, gdt, gA, gB, gC, mu, None, None


def _stretch_backward(
    u: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    a2: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    gy: torch.Tensor,
    h_in: torch.Tensor,
    mu: torch.Tensor,
    chunk: int,
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """Gradients of one stretch, in the chunk layout (T, B, G, dg, N, nc) of the forward pass
    (`scan_chunked.scan_block`).

    Args:
        u, dt, gy: (B, G, Lb, dg); A: (G, dg, N), a2 = A log2(e) as (G, dg, N, 1);
        B, C: (B, G, Lb, N); h_in: (B, G, dg, N) state entering the stretch;
        mu: (B, G, dg, N) dLoss/dh_last of the stretch from the tokens after it.

    Returns:
        (g_u, g_dt, g_B, g_C, g_A of this stretch) and mu for the stretch before.
    """
    Lb = u.shape[2]
    T = max(1, min(chunk, Lb))
    nc = -(-Lb // T)
    # padded tokens: step 0, so decay 1 and no input: states and adjoints pass unchanged
    dt_c = to_chunks(dt, T, nc).unsqueeze(-2)  # (T, B, G, dg, 1, nc)
    u_c = to_chunks(u, T, nc).unsqueeze(-2)
    gy_c = to_chunks(gy, T, nc).unsqueeze(-2)
    B_c = to_chunks(B, T, nc).unsqueeze(3)  # (T, B, G, 1, N, nc)
    C_c = to_chunks(C, T, nc).unsqueeze(3)
    a = torch.exp2(dt_c * a2)  # (T, B, G, dg, N, nc)
    dtu = dt_c * u_c
    h = chunk_states_(a.clone(), dtu * B_c, h_in, chunk)  # the states h_t
    # adjoint lam_t = C_t gy_t + a_{t+1} lam_{t+1}, backwards inside each chunk from zero, with
    # `rest` = the product of the chunk's decays after t
    lam = gy_c * C_c
    rest = torch.empty_like(a)
    rest[T - 1] = 1.0
    for t in range(T - 2, -1, -1):
        torch.mul(rest[t + 1], a[t + 1], out=rest[t])
        lam[t].addcmul_(a[t + 1], lam[t + 1])
    # what enters each chunk from the next: m_c = a_first(c+1) lam_first(c+1), mu at the end
    if nc > 1:
        first = a[0, ..., 1:]
        m = linear_scan(
            (first * rest[0, ..., 1:]).flip(-1), (first * lam[0, ..., 1:]).flip(-1), mu, chunk
        ).flip(-1)
        m = torch.cat([m, mu.unsqueeze(-1)], dim=-1)
    else:
        m = mu.unsqueeze(-1)
    lam.addcmul_(rest, m.unsqueeze(0))
    del rest, m
    mu_before = a[0, ..., 0] * lam[0, ..., 0]
    # dLoss/da * a = lam_t h_{t-1} a_t, in place of a
    ga = a.mul_(lam)
    ga[1:].mul_(h[:-1])
    ga[0, ..., 1:].mul_(h[T - 1, ..., :-1])
    ga[0, ..., 0].mul_(h_in)
    g_A = (ga * dt_c).sum(dim=(0, 1, 5))
    lam_b = (lam * B_c).sum(dim=4)  # (T, B, G, dg, nc)
    g_dt = (ga * A.unsqueeze(-1)).sum(dim=4) + lam_b * u_c.squeeze(-2)
    g_u = lam_b * dt_c.squeeze(-2)
    g_B = (lam * dtu).sum(dim=3)  # (T, B, G, N, nc)
    g_C = (gy_c * h).sum(dim=3)
    grads = tuple(from_chunks(g, Lb) for g in (g_u, g_dt, g_B, g_C))
    return (*grads, g_A), mu_before

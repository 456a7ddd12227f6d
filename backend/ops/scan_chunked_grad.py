"""Gradient of the chunked selective scan, computed stretch by stretch instead of recorded.

Autograd through `scan_chunked` would keep every step of every chunk loop: about 12 GiB for one
128^2 training crop of the default network. This function keeps only its inputs and the state
entering each stretch of L; the backward pass walks the stretches from the last to the first,
recomputes their states, and runs the adjoint recurrence backwards:

    lambda_t = C_t gy_t + exp(delta_{t+1} A) lambda_{t+1}      (dLoss/dh_t)

from which every input gradient is a sum of products (`delta` is the step size after softplus):

    g_u = delta * sum_n lambda B,   g_B = sum_d lambda delta u,   g_C = sum_d gy h,
    g_delta = sum_n (lambda h_{t-1} a A) + u sum_n lambda B,   g_A = sum_t lambda h_{t-1} a delta,

with `a = exp(delta A)`. Memory is a few stretches of (B, G, dg, N) states, whatever L is.
"""

from __future__ import annotations

import torch

from .scan_chunked import LOG2E, linear_scan, scan_block


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
        L = u.shape[2]
        states, ys, h = [], [], h0
        for s in range(0, L, block):
            e = min(L, s + block)
            states.append(h)
            y_b, h = scan_block(
                u[:, :, s:e], dt[:, :, s:e], A, B[:, :, s:e], C[:, :, s:e], h, chunk
            )
            ys.append(y_b)
        y = ys[0] if len(ys) == 1 else torch.cat(ys, dim=2)
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
            # (B, G, dg, N, Lb): tokens last, the axis the linear scans run along
            dt_b = dt[:, :, s:e].transpose(2, 3).unsqueeze(3)
            dtu = dt_b * u[:, :, s:e].transpose(2, 3).unsqueeze(3)
            B_b = B[:, :, s:e].transpose(2, 3).unsqueeze(2)
            C_b = C[:, :, s:e].transpose(2, 3).unsqueeze(2)
            gy_b = gy[:, :, s:e].transpose(2, 3).unsqueeze(3)
            a = torch.exp2(dt_b * a2)
            h = linear_scan(a, dtu * B_b, states[i], T)
            gC[:, :, s:e] = (gy_b * h).sum(dim=2).transpose(2, 3)
            # lambda_t = C_t gy_t + a_{t+1} lambda_{t+1}: a forward scan on the reversed stretch
            a_next = torch.cat([a[..., 1:], torch.ones_like(a[..., :1])], dim=-1)
            lam = linear_scan(a_next.flip(-1), (gy_b * C_b).flip(-1), mu, T).flip(-1)
            mu = a[..., 0] * lam[..., 0]
            h_prev = torch.cat([states[i].unsqueeze(-1), h[..., :-1]], dim=-1)
            del h
            ga = lam * h_prev * a  # dLoss/da * a: (B, G, dg, N, Lb)
            del h_prev, a
            gA += (ga * dt_b).sum(dim=(0, 4))
            lam_b = (lam * B_b).sum(dim=3)  # (B, G, dg, Lb)
            gdt[:, :, s:e] = (
                (ga * A.unsqueeze(-1)).sum(dim=3) + lam_b * u[:, :, s:e].transpose(2, 3)
            ).transpose(2, 3)
            gu[:, :, s:e] = (lam_b * dt_b.squeeze(3)).transpose(2, 3)
            gB[:, :, s:e] = (lam * dtu).sum(dim=2).transpose(2, 3)
        return gu, gdt, gA, gB, gC, mu, None, None

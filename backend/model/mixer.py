"""The MMMamba mixer: one selective scan over interleaved MS and PAN tokens, four directions."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..device import scan_engine
from ..ops.scan_chunked import selective_scan_chunked
from ..ops.selective_scan import selective_scan
from .layers import apply_in_strips
from .mi_scan import N_DIRECTIONS, build_sequences, mi_orders, undo_sequences

# Tokens per pass of the memory-lean inference path (state carried between passes).
STREAM_TOKENS = 1 << 15


def _pointwise(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Linear layer over the channels of (B, Cin, H, W) with weight (Cout, Cin)."""
    return F.conv2d(x, weight[:, :, None, None])


class MIMixer(nn.Module):
    """Cross-modal token mixer of one MMMamba block.

    Each modality gets its own input projection (x and gate z), depth-wise 3x3 conv and output
    projection; the four scan directions have their own x/dt projections, A, D and dt bias,
    shared by both modalities because they scan one interleaved sequence.
    """

    def __init__(self, width: int, d_inner: int, d_state: int, dt_rank: int, window: int) -> None:
        super().__init__()
        self.width, self.d_inner, self.d_state, self.dt_rank = width, d_inner, d_state, dt_rank
        self.window = window
        K = N_DIRECTIONS
        self.in_proj_ms = nn.Linear(width, 2 * d_inner, bias=False)
        self.in_proj_pan = nn.Linear(width, 2 * d_inner, bias=False)
        self.conv_ms = nn.Conv2d(d_inner, d_inner, 3, padding=1, groups=d_inner)
        self.conv_pan = nn.Conv2d(d_inner, d_inner, 3, padding=1, groups=d_inner)
        bound = d_inner**-0.5
        self.x_proj_weight = nn.Parameter(
            torch.empty(K, dt_rank + 2 * d_state, d_inner).uniform_(-bound, bound)
        )
        self.dt_proj_weight = nn.Parameter(
            torch.empty(K, d_inner, dt_rank).uniform_(-(dt_rank**-0.5), dt_rank**-0.5)
        )
        # softplus(dt_bias) log-uniform in [1e-3, 1e-1], floored at 1e-4 (Mamba's init)
        dt = torch.exp(torch.rand(K * d_inner) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
        dt = dt.clamp(min=1e-4)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        # S4D-real: A[d, n] = -(n + 1)
        a = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(K * d_inner, 1)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(K * d_inner))
        self.out_norm_ms = nn.LayerNorm(d_inner)
        self.out_norm_pan = nn.LayerNorm(d_inner)
        self.out_proj_ms = nn.Linear(d_inner, width, bias=False)
        self.out_proj_pan = nn.Linear(d_inner, width, bias=False)
        self.engine = "auto"
        self.chunk: int | None = None
        self._orders: dict[tuple[int, int, str], tuple[torch.Tensor, torch.Tensor]] = {}

    def orders(self, h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Cached (order, inverse) index tensors (4, 2*h*w) for a feature map size."""
        key = (h, w, str(device))
        if key not in self._orders:
            if len(self._orders) > 8:
                self._orders.clear()
            order, inverse = mi_orders(h, w, self.window)
            self._orders[key] = (order.to(device), inverse.to(device))
        return self._orders[key]

    def _inner(self, x: torch.Tensor, proj: nn.Linear, conv: nn.Conv2d) -> torch.Tensor:
        """(B, F, H, W) -> SiLU(dwconv(x-part of the projection)) (B, d_inner, H, W)."""
        return F.silu(conv(_pointwise(x, proj.weight[: self.d_inner])))

    def _output(
        self,
        y: torch.Tensor,
        x: torch.Tensor,
        proj_in: nn.Linear,
        norm: nn.LayerNorm,
        out: nn.Linear,
    ) -> torch.Tensor:
        """LayerNorm(y) * SiLU(z) -> Linear; y (B, d_inner, H, W), x block input (B, F, H, W)."""
        z = _pointwise(x, proj_in.weight[self.d_inner :])
        yn = F.layer_norm(y.permute(0, 2, 3, 1), (self.d_inner,), norm.weight, norm.bias)
        g = yn * F.silu(z.permute(0, 2, 3, 1))
        return F.linear(g, out.weight).permute(0, 3, 1, 2)

    def forward(self, m: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mix normalised MS and PAN features.

        Args:
            m: (B, F, H, W) MS features; p: (B, F, H, W) PAN features; H, W multiples of window.

        Returns:
            The updates (m', p'), each (B, F, H, W).
        """
        engine = scan_engine(m.device, self.engine)
        if engine == "chunked" and not torch.is_grad_enabled():
            return self._forward_streamed(m, p)
        return self._forward_full(m, p, engine)

    def _scan_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        return -torch.exp(self.A_log.float()), self.D.float()

    def _forward_full(
        self, m: torch.Tensor, p: torch.Tensor, engine: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """All directions in one scan of 4*d_inner channels (training, CUDA, oracle)."""
        b, _, h, w = m.shape
        hw = h * w
        order, inverse = self.orders(h, w, m.device)
        x_m = self._inner(m, self.in_proj_ms, self.conv_ms)
        x_p = self._inner(p, self.in_proj_pan, self.conv_pan)
        src = torch.cat([x_m.flatten(2), x_p.flatten(2)], dim=2)  # (B, d, 2HW)
        seq = build_sequences(src, order)  # (B, K, d, L)
        x_dbl = torch.einsum("bkdl,kcd->bkcl", seq, self.x_proj_weight)
        dt_raw, B_, C_ = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=2)
        delta = torch.einsum("bkrl,kdr->bkdl", dt_raw, self.dt_proj_weight)
        K, L = N_DIRECTIONS, 2 * hw
        A, D = self._scan_params()
        y = selective_scan(
            seq.reshape(b, K * self.d_inner, L),
            delta.reshape(b, K * self.d_inner, L),
            A,
            B_.contiguous(),
            C_.contiguous(),
            D,
            self.dt_bias.float(),
            delta_softplus=True,
            engine=engine,
            chunk=self.chunk,
        ).to(m.dtype)
        y = undo_sequences(y.view(b, K, self.d_inner, L), inverse).sum(dim=1)
        y_m = y[..., :hw].reshape(b, self.d_inner, h, w)
        y_p = y[..., hw:].reshape(b, self.d_inner, h, w)
        out_m = self._output(y_m, m, self.in_proj_ms, self.out_norm_ms, self.out_proj_ms)
        out_p = self._output(y_p, p, self.in_proj_pan, self.out_norm_pan, self.out_proj_pan)
        return out_m, out_p

    def _forward_streamed(
        self, m: torch.Tensor, p: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Same result as `_forward_full` without autograd, one direction and a stretch of
        `STREAM_TOKENS` tokens at a time: no (B, 4*d_inner, L) tensor is ever built."""
        b, _, h, w = m.shape
        hw, d, K = h * w, self.d_inner, N_DIRECTIONS
        order, _ = self.orders(h, w, m.device)
        src = m.new_empty(b, d, 2 * hw)
        apply_in_strips(
            lambda t: self._inner(t, self.in_proj_ms, self.conv_ms),
            m,
            halo=1,
            out=src[..., :hw].view(b, d, h, w),
        )
        apply_in_strips(
            lambda t: self._inner(t, self.in_proj_pan, self.conv_pan),
            p,
            halo=1,
            out=src[..., hw:].view(b, d, h, w),
        )
        acc = torch.zeros_like(src)
        A, D = self._scan_params()
        bias = self.dt_bias.float()
        for k in range(K):
            chan = slice(k * d, (k + 1) * d)
            state = None
            for s in range(0, 2 * hw, STREAM_TOKENS):
                idx = order[k, s : s + STREAM_TOKENS]
                u = src.index_select(2, idx)  # (B, d, l)
                x_dbl = torch.einsum("bdl,cd->bcl", u, self.x_proj_weight[k])
                dt_raw, B_, C_ = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], 1)
                delta = torch.einsum("brl,dr->bdl", dt_raw, self.dt_proj_weight[k])
                y, state = selective_scan_chunked(
                    u,
                    delta,
                    A[chan],
                    B_.contiguous(),
                    C_.contiguous(),
                    D[chan],
                    bias[chan],
                    delta_softplus=True,
                    chunk=self.chunk,
                    initial_state=state,
                    return_last_state=True,
                )
                acc.index_add_(2, idx, y.to(acc.dtype))
        del src
        y_m = acc[..., :hw].view(b, d, h, w)
        y_p = acc[..., hw:].view(b, d, h, w)
        out_m = apply_in_strips(
            lambda y_, x_: self._output(
                y_, x_, self.in_proj_ms, self.out_norm_ms, self.out_proj_ms
            ),
            y_m,
            m,
            halo=0,
        )
        out_p = apply_in_strips(
            lambda y_, x_: self._output(
                y_, x_, self.in_proj_pan, self.out_norm_pan, self.out_proj_pan
            ),
            y_p,
            p,
            halo=0,
        )
        return out_m, out_p

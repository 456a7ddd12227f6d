"""The MMMamba mixer: one selective scan over interleaved MS and PAN tokens, four directions."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..device import scan_engine
from ..ops.scan_chunked import reuse_workspace, selective_scan_grouped, work_tensor
from ..ops.scan_native import native_scan_grouped
from ..ops.scan_state import fill_state_prefix, prefix_len
from ..ops.scan_triton import (
    mi_scan,
    norm_gate,
    to_window_major,
    window_major_buffer,
    window_major_shape,
)
from ..ops.selective_scan import selective_scan, selective_scan_from_zero
from .layers import apply_in_strips, layer_norm_channels, strip_rows
from .mi_scan import N_DIRECTIONS, build_sequences, mi_order, mi_orders, undo_sequences

# Positions per pass of the memory-lean inference path (state carried between passes): small on
# a CPU so that the scan's work tensors stay cache-sized, large on a GPU to launch fewer kernels.
STREAM_TOKENS = 2048
# Positions per pass with the native CPU scan. Measured (bench/cpu_infer.py-like, 512^2, one
# thread): 1024 to 4096 within noise, 16384 12 % and 65536 40 % slower (the gathered stretch
# falls out of the caches).
STREAM_TOKENS_NATIVE = 4096
STREAM_TOKENS_GPU = 1 << 16
# Tokens per direction and per call of the segmented inference path (state prefix included),
# for float32 scan inputs; twice as many when they are stored in bfloat16 (same bytes). The
# scan's inputs and output for one call are 3 x (B, 4*d_inner, tokens) tensors, ~270 MB at batch
# 1 whatever the tile size. Measured on an H200 (bench/gpu_infer.py, 1024^2 tile, bf16 storage):
# 2^15 / 2^16 / 2^17 tokens took 343 / 316 / 290 ms with 1.13 / 1.20 / 1.34 GiB peak: fewer,
# longer calls pay; float32 at 2^16 already peaks at 1.99 GiB per 1024^2 tile.
SEGMENT_TOKENS = 1 << 16
PATHS = ("auto", "full", "streamed", "segmented", "windowed")

_segment_orders: dict[tuple[int, int, int, str], torch.Tensor] = {}


def segment_orders(h: int, w: int, window: int, device: torch.device) -> torch.Tensor:
    """MI orders of the four directions as int32 (4, 2*h*w), shared by every mixer.

    One cache for the whole process (not one per block) and int32 instead of int64: at
    2048 x 2048 that is 134 MB once instead of 5 x 537 MB of orders and inverses.
    """
    key = (h, w, window, str(device))
    if key not in _segment_orders:
        if len(_segment_orders) >= 2:
            _segment_orders.clear()
        order = torch.stack([mi_order(h, w, window, k) for k in range(N_DIRECTIONS)])
        _segment_orders[key] = order.to(device=device, dtype=torch.int32)
    return _segment_orders[key]


def _store_updates(
    x: torch.Tensor,
    in_place: bool,
    rows: int,
    update: Callable[[int, int], torch.Tensor],
) -> torch.Tensor:
    """Updates `update(r0, r1)` (B, F, r1 - r0, W) of each band of `rows` rows, added to `x`
    in place (`in_place`) or written into a new tensor shaped like `x`."""
    target = x if in_place else torch.empty_like(x)
    h = x.shape[-2]
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        upd = update(r0, r1)
        if in_place:
            target[..., r0:r1, :].add_(upd)
        else:
            target[..., r0:r1, :] = upd
    return target


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
        # inference path ("auto": segmented on CUDA, streamed on the chunked engine) and the
        # storage type of the segmented path's scan inputs and outputs (the recurrence itself
        # is float32 in every engine)
        self.path = "auto"
        self.scan_dtype = torch.float32
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
        if y.device.type != "cpu":
            # channel-major all the way: a layer norm over the channels of a permuted view
            # is a slow strided reduction on a GPU (about a fifth of a 1024^2 tile's time)
            g = layer_norm_channels(y, norm.weight, norm.bias, norm.eps).to(z.dtype) * F.silu(z)
            return _pointwise(g, out.weight)
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
        path = self._inference_path(engine)
        if path == "windowed":
            return self._forward_windowed(m, p)
        if path == "segmented":
            return self._forward_segmented(m, p, engine)
        if path == "streamed":
            return self._forward_streamed(m, p, engine=engine)
        return self._forward_full(m, p, engine)

    def _inference_path(self, engine: str) -> str:
        """The inference path for this engine (always "full" with autograd): "windowed" with
        the Triton engine, "segmented" with mamba-ssm's, "streamed" with the CPU engines."""
        if torch.is_grad_enabled() or engine == "oracle":
            return "full"
        if self.path == "auto" or (self.path == "windowed" and engine != "triton"):
            if engine == "triton":
                return "windowed"
            return "segmented" if engine == "cuda" else "streamed"
        if self.path == "streamed" and engine not in ("chunked", "native"):
            return "segmented"  # the streamed path scans with the CPU engines only
        return self.path

    def residual(
        self, m: torch.Tensor, p: torch.Tensor, norm_m: nn.Module, norm_p: nn.Module
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`m + m'`, `p + p'` with `m', p' = forward(norm_m(m), norm_p(p))`.

        Without autograd on the chunked engine, the norms are applied strip by strip and the
        updates are added in place: no full-size normalised copy or update is allocated.

        Args:
            m, p: (B, F, H, W) block inputs (updated in place when no gradient is recorded).
            norm_m, norm_p: Per-pixel norms applied before mixing.

        Returns:
            The updated (m, p).
        """
        engine = scan_engine(m.device, self.engine)
        path = self._inference_path(engine)
        if path == "windowed":
            self._forward_windowed(m, p, (norm_m, norm_p))
            return m, p
        if path == "segmented":
            self._forward_segmented(m, p, engine, (norm_m, norm_p))
            return m, p
        if path == "streamed":
            self._forward_streamed(m, p, (norm_m, norm_p), engine)
            return m, p
        dm, dp = self._forward_full(norm_m(m), norm_p(p), engine)
        if torch.is_grad_enabled():
            return m + dm, p + dp
        return m.add_(dm), p.add_(dp)

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
        self,
        m: torch.Tensor,
        p: torch.Tensor,
        norms: tuple[nn.Module, nn.Module] | None = None,
        engine: str = "chunked",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Same result as `_forward_full` without autograd, `STREAM_TOKENS` positions of the four
        sequences at a time (state carried): no (B, 4*d_inner, L) tensor is ever built.

        Tokens are kept token-major, (B, 2*H*W, d_inner), so that gathering a stretch of a scan
        order and adding its output back move whole rows of channels. With `norms`, `m` and `p`
        are the raw block inputs: they are normalised strip by strip and the updates are added
        to them in place (each output strip reads only its own rows, so this is safe).
        """
        norm_m, norm_p = norms if norms is not None else (nn.Identity(), nn.Identity())
        b, _, h, w = m.shape
        hw, d, K = h * w, self.d_inner, N_DIRECTIONS
        # the orders only (no inverse), one int32 copy shared by every block
        order = segment_orders(h, w, self.window, m.device)
        src = work_tensor("mixer_src", (b, 2 * hw, d), m)
        for x, norm, proj, conv, rows in (
            (m, norm_m, self.in_proj_ms, self.conv_ms, slice(0, hw)),
            (p, norm_p, self.in_proj_pan, self.conv_pan, slice(hw, 2 * hw)),
        ):
            apply_in_strips(
                lambda t, norm=norm, proj=proj, conv=conv: self._inner(norm(t), proj, conv),
                x,
                halo=1,
                out=src[:, rows].view(b, h, w, d).permute(0, 3, 1, 2),
            )
        acc = work_tensor("mixer_acc", (b, 2 * hw, d), m).zero_()
        A, D = self._scan_params()
        A, D = A.view(K, d, self.d_state), D.view(K, d)
        bias = self.dt_bias.float().view(K, d)
        w_x = self.x_proj_weight.transpose(1, 2)  # (K, d, R + 2N)
        w_dt = self.dt_proj_weight.transpose(1, 2)  # (K, R, d)
        r, n = self.dt_rank, self.d_state
        state = None
        native = engine == "native"
        if native:
            stretch = STREAM_TOKENS_NATIVE
        else:
            stretch = STREAM_TOKENS if m.device.type == "cpu" else STREAM_TOKENS_GPU
        with reuse_workspace():  # also when called alone: reuse between stretches
            for s in range(0, 2 * hw, stretch):
                idx = order[:, s : s + stretch].reshape(-1)  # (K * l,)
                n_tok = idx.numel() // K
                # positions s..s+l of the four sequences, scanned together as 4 groups
                u = src.index_select(1, idx).view(b, K, n_tok, d)
                x_dbl = torch.matmul(u, w_x)  # (B, K, l, R + 2N)
                delta = torch.matmul(x_dbl[..., :r], w_dt)  # (B, K, l, d)
                if native:
                    # outputs added straight into `acc` at their source rows
                    _, state = native_scan_grouped(
                        u, delta, A, x_dbl[..., r : r + n], x_dbl[..., r + n :], D, bias,
                        delta_softplus=True, initial_state=state,
                        add_into=(acc, order[:, s : s + stretch]),
                    )  # fmt: skip
                else:
                    y, state = selective_scan_grouped(
                        u,
                        delta,
                        A,
                        x_dbl[..., r : r + n],
                        x_dbl[..., r + n :],
                        D,
                        bias,
                        delta_softplus=True,
                        chunk=self.chunk,
                        initial_state=state,
                        block=stretch,
                    )
                    acc.index_add_(1, idx, y.reshape(b, K * n_tok, d).to(acc.dtype))
        del src
        outs = []
        rows = strip_rows(w)
        for y_rows, x, norm_x, proj, norm, out in (
            (slice(0, hw), m, norm_m, self.in_proj_ms, self.out_norm_ms, self.out_proj_ms),
            (slice(hw, 2 * hw), p, norm_p, self.in_proj_pan, self.out_norm_pan, self.out_proj_pan),
        ):
            y_view = acc[:, y_rows].view(b, h, w, d).permute(0, 3, 1, 2)  # (B, d, H, W) view

            def update(r0, r1, y_view=y_view, x=x, norm_x=norm_x, proj=proj, norm=norm, out=out):
                x_band = norm_x(x[..., r0:r1, :])
                return self._output(y_view[..., r0:r1, :], x_band, proj, norm, out)

            outs.append(_store_updates(x, norms is not None, rows, update))
        return outs[0], outs[1]

    def _forward_segmented(
        self,
        m: torch.Tensor,
        p: torch.Tensor,
        engine: str,
        norms: tuple[nn.Module, nn.Module] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Same result as `_forward_full` without autograd, for the CUDA kernel: the four
        sequences are scanned together, `SEGMENT_TOKENS` positions of each per call, the state
        carried from call to call by a prefix of tokens (`backend.ops.scan_state`).

        Memory: the gathered inputs, step sizes and outputs exist for one segment only; the
        sequences are gathered straight into the scan's input buffer (no copy of the four scan
        orders), B and C are read in place from the projection output, and each segment's
        output is added back to source layout at once (no un-permuted copy, no sum over a
        direction axis). With `norms`, `m` and `p` are the raw block inputs, updated in place.
        """
        norm_m, norm_p = norms if norms is not None else (nn.Identity(), nn.Identity())
        b, _, h, w = m.shape
        hw, d, K = h * w, self.d_inner, N_DIRECTIONS
        n, r = self.d_state, self.dt_rank
        L = 2 * hw
        io = self.scan_dtype
        dev = m.device
        order = segment_orders(h, w, self.window, dev)
        # source layout, channel-major (B, d, MS tokens then PAN tokens): what the gathers read
        src = torch.empty(b, d, L, dtype=io, device=dev)
        for x, norm, proj, conv, cols in (
            (m, norm_m, self.in_proj_ms, self.conv_ms, slice(0, hw)),
            (p, norm_p, self.in_proj_pan, self.conv_pan, slice(hw, L)),
        ):
            apply_in_strips(
                lambda t, norm=norm, proj=proj, conv=conv: self._inner(norm(t), proj, conv),
                x,
                halo=1,
                out=src[:, :, cols].view(b, d, h, w),
            )
        acc = torch.zeros(b, d, L, dtype=io, device=dev)
        P = prefix_len(n)
        tokens = SEGMENT_TOKENS * max(1, 4 // io.itemsize)  # same bytes for bf16 storage
        span = max(1, min(L, tokens - P))
        u_buf = torch.empty(b, K, d, P + span, dtype=io, device=dev)
        u_buf[..., :P] = 0
        A, D = self._scan_params()
        bias = self.dt_bias.float()
        w_x = self.x_proj_weight.to(io)  # (K, R + 2N, d)
        w_dt = self.dt_proj_weight.to(io)  # (K, d, R)
        src_k = src.unsqueeze(1).expand(b, K, d, L)
        state = None
        # the scan's inputs stay in their storage type even under autocast
        with torch.autocast(device_type=dev.type, enabled=False):
            for s in range(0, L, span):
                ln = min(span, L - s)
                idx = order[:, s : s + ln].long()  # (K, l)
                u = u_buf[..., : P + ln]
                torch.gather(src_k, 3, idx.view(1, K, 1, ln).expand(b, K, d, ln), out=u[..., P:])
                bc = torch.matmul(w_x, u)  # (B, K, R + 2N, P + l): rows dt, B, C
                delta = torch.matmul(w_dt, bc[:, :, :r])  # (B, K, d, P + l)
                fill_state_prefix(u, delta, bc, state, bias, r)
                y, state = selective_scan_from_zero(
                    u.view(b, K * d, P + ln),
                    delta.view(b, K * d, P + ln),
                    A,
                    bc[:, :, r : r + n],
                    bc[:, :, r + n :],
                    D,
                    bias,
                    engine,
                )
                y = y.view(b, K, d, P + ln)
                for k in range(K):
                    acc.index_add_(2, idx[k], y[:, k, :, P:].to(io))
                del u, bc, delta, y
        del src, src_k, u_buf
        outs = []
        rows = strip_rows(w, dev.type)
        for cols, x, norm_x, proj, norm, out in (
            (slice(0, hw), m, norm_m, self.in_proj_ms, self.out_norm_ms, self.out_proj_ms),
            (slice(hw, L), p, norm_p, self.in_proj_pan, self.out_norm_pan, self.out_proj_pan),
        ):
            y_view = acc[:, :, cols].view(b, d, h, w)

            def update(r0, r1, y_view=y_view, x=x, norm_x=norm_x, proj=proj, norm=norm, out=out):
                y_band = y_view[..., r0:r1, :].to(x.dtype)
                return self._output(y_band, norm_x(x[..., r0:r1, :]), proj, norm, out)

            outs.append(_store_updates(x, norms is not None, rows, update))
        return outs[0], outs[1]

    def _forward_windowed(
        self,
        m: torch.Tensor,
        p: torch.Tensor,
        norms: tuple[nn.Module, nn.Module] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Same result as `_forward_full` without autograd, with the Triton MI scan.

        The scan inputs of both modalities are written once into a window-major buffer
        (B, H/ws, W/ws, 2, ws, ws, d_inner): for every window its MS then its PAN pixels, the
        sequence of direction 0. The kernels read all four directions from it in place and sum
        their outputs in a float32 buffer of the same layout; the output projections then read
        it back strip by strip. With `norms`, `m` and `p` are the raw block inputs, updated in
        place.
        """
        norm_m, norm_p = norms if norms is not None else (nn.Identity(), nn.Identity())
        b, _, h, w = m.shape
        d, ws, dev = self.d_inner, self.window, m.device
        shape = window_major_shape(b, h, w, ws, d)
        rows = max(ws, strip_rows(w, dev.type) // ws * ws)
        buf = window_major_buffer(b, h, w, ws, d, self.scan_dtype, dev)
        inputs = (
            (m, norm_m, self.in_proj_ms, self.conv_ms),
            (p, norm_p, self.in_proj_pan, self.conv_pan),
        )
        for i, (x, norm, proj, conv) in enumerate(inputs):
            for r0 in range(0, h, rows):
                r1 = min(h, r0 + rows)
                a, c = max(0, r0 - 1), min(h, r1 + 1)
                part = self._inner(norm(x[..., a:c, :]), proj, conv)
                to_window_major(part[..., r0 - a : r1 - a, :], buf, i, r0)
                del part  # not alive during the scan (peak memory)
        A, D = self._scan_params()
        # the scan's inputs stay in their storage type even under autocast
        with torch.autocast(device_type=dev.type, enabled=False):
            y = mi_scan(
                buf.view(b, 2 * h * w, d),
                self.x_proj_weight,
                self.dt_proj_weight,
                self.dt_bias,
                A,
                D,
                h // ws,
                w // ws,
                ws,
                out_dtype=self.scan_dtype,
            ).view(shape)
        del buf
        outs = []
        for i, (x, norm_x, proj, norm, out) in enumerate(
            (
                (m, norm_m, self.in_proj_ms, self.out_norm_ms, self.out_proj_ms),
                (p, norm_p, self.in_proj_pan, self.out_norm_pan, self.out_proj_pan),
            )
        ):

            def update(r0, r1, i=i, x=x, norm_x=norm_x, proj=proj, norm=norm, out=out):
                x_rows = norm_x(x[..., r0:r1, :]).permute(0, 2, 3, 1)  # (B, r, W, F)
                z = F.linear(x_rows, proj.weight[d:]).contiguous()  # (B, r, W, d)
                g = norm_gate(y, z, norm.weight, norm.bias, norm.eps, i, r0, ws)
                return F.linear(g, out.weight).permute(0, 3, 1, 2)

            outs.append(_store_updates(x, norms is not None, rows, update))
        return outs[0], outs[1]

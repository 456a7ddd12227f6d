"""Fused Triton layers of the CUDA inference path: convolutions with their epilogues, the gated
FFN, and the mixer's input and output stages (kernels in `fused_triton_kernels`).

A convolution carries its input affine, bias, activation and residual. The FFN and the mixer's
input are two kernels each: norm and projection per pixel into a channels-last map, then the
depth-wise 3x3 conv with everything after it. Dots run on TF32 tensor cores; the wide
intermediate maps are stored in `store` (bfloat16 in the mixed precisions). Weights are packed
(transposed, zero-padded to powers of two) once and cached until the parameter changes. Triton
is imported on first use only; `TRITON_INTERPRET=1` runs the same kernels on a CPU (tests).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .scan_triton import _on, token_rows

ACTIVATIONS = {"none": 0, "leaky": 1, "relu": 2}


@dataclass(frozen=True)
class FusedLaunch:
    """Pixels per program, warps per program and, for the depth-wise kernels, channels per
    step of the fused kernels (measured: bench/fused_triton.py)."""

    block: int = 64
    num_warps: int = 4
    channels: int = 16


# launch shape per kernel, read at call time (benchmarks may replace entries); the fastest
# measured on an H200 at 1024^2 (bench/fused_triton.py)
LAUNCH: dict[str, FusedLaunch] = {
    "conv": FusedLaunch(64, 2),
    "pointwise": FusedLaunch(64, 4),
    "ffn_out": FusedLaunch(64, 4, 32),
    "mixer_dw": FusedLaunch(32, 4, 32),
    "mixer_out": FusedLaunch(64, 2, 32),
}

# packed weights: key -> (weak references to the sources, packed tensor)
_packed: dict[tuple, tuple[tuple[weakref.ref, ...], torch.Tensor]] = {}


def pad_width(n: int) -> int:
    """Padded channel count of a dot operand: a power of two, at least 16."""
    return max(16, 1 << max(0, int(n) - 1).bit_length())


def _pack(
    key: str, sources: tuple[torch.Tensor, ...], dtype: torch.dtype, build: Callable
) -> torch.Tensor:
    """`build()` cast to `dtype`, cached while none of `sources` changes (version counter).

    An entry also holds weak references to its sources: a tensor allocated later at the same
    address (another model's weights) never gets the packed copy of a freed one.
    """
    bases = tuple(_base(s) for s in sources)
    k = (key, dtype, *(_identity(s) for s in sources))
    hit = _packed.get(k)
    if hit is not None and all(ref() is b for ref, b in zip(hit[0], bases, strict=True)):
        return hit[1]
    if len(_packed) > 512:
        _packed.clear()
    with torch.no_grad():
        packed = build().to(dtype).contiguous()
    _packed[k] = (tuple(weakref.ref(b) for b in bases), packed)
    return packed


def _base(t: torch.Tensor) -> torch.Tensor:
    """The tensor owning `t`'s storage (`t` itself unless it is a view)."""
    return t._base if t._base is not None else t


def _identity(t: torch.Tensor) -> tuple:
    """What a packed weight depends on: the storage's owner and version, and the view."""
    base = _base(t)
    return (id(base), base._version, t.data_ptr(), tuple(t.shape), tuple(t.stride()), str(t.device))


def _padded(t: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """`t` (float32) zero-padded at the end of each dimension to `shape`."""
    out = torch.zeros(shape, dtype=torch.float32, device=t.device)
    out[tuple(slice(0, s) for s in t.shape)] = t.float()
    return out


def _kernels():
    from . import fused_triton_kernels

    return fused_triton_kernels


def _launch(kernel: str, x: torch.Tensor) -> tuple[tuple[int, int], int, int, int]:
    """(grid, pixels per program, warps, channels per step) of a fused kernel over the pixels
    of (B, C, H, W)."""
    cfg = LAUNCH[kernel]
    grid = (-(-(x.shape[-2] * x.shape[-1]) // cfg.block), x.shape[0])
    return grid, cfg.block, cfg.num_warps, cfg.channels


def _check_store(store: torch.dtype) -> None:
    if store not in (torch.float32, torch.bfloat16):
        raise ValueError(f"intermediate maps are float32 or bfloat16, got {store}")


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    act: str = "none",
    affine: tuple[torch.Tensor, torch.Tensor] | None = None,
    residual: torch.Tensor | None = None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """`act(conv(scale * x + shift) + bias) + residual`, stride 1, zero padding k // 2.

    Args:
        x: (B, Cin, H, W) contiguous.
        weight: (Cout, Cin, k, k), k odd; bias: (Cout,) or None.
        act: "none", "leaky" (slope 0.2) or "relu".
        affine: per-image (scale, shift), each (B, Cin), applied to x before the conv.
        residual: (B, Cout, H, W) added after the activation.
        out: (B, Cout, H, W) to write into (may be `residual`: each pixel reads only itself).

    Returns:
        (B, Cout, H, W) float32 (or `out`).
    """
    b, cin, h, w = x.shape
    cout, _, ks, _ = weight.shape
    cip, cop = pad_width(cin), pad_width(cout)
    taps = ks * ks
    wp = _pack(
        "conv", (weight,), torch.float32,
        lambda: _padded(weight.permute(2, 3, 1, 0).reshape(taps, cin, cout), (taps, cip, cop)),
    )  # fmt: skip
    bp = _pack(
        "bias", (weight,) if bias is None else (bias,), torch.float32,
        lambda: _padded(bias if bias is not None else weight.new_zeros(cout), (cop,)),
    )  # fmt: skip
    if affine is not None:
        scale = _padded(affine[0].reshape(b, cin), (b, cip))
        shift = _padded(affine[1].reshape(b, cin), (b, cip))
    else:
        scale = shift = bp
    if out is None:
        out = torch.empty(b, cout, h, w, device=x.device, dtype=torch.float32)
    res = residual if residual is not None else out
    grid, block, warps, cb = _launch("conv", x)
    with _on(x.device):
        _kernels()._conv_kernel[grid](
            x.contiguous(), wp, bp, scale, shift, res, out, h, w,
            CIN=cin, CIP=cip, COUT=cout, COP=cop, KS=ks, HAS_AFF=affine is not None,
            HAS_RES=residual is not None, ACT=ACTIVATIONS[act], BLOCK=block,
            num_warps=warps,
        )  # fmt: skip
    return out


def _pointwise(
    x: torch.Tensor, lnw: torch.Tensor, wt: torch.Tensor, eps: float, cs: int, store: torch.dtype
) -> torch.Tensor:
    """Channels-last (B, H*W, cs) `store` map of `wt^T LN(x)`; lnw (FP,), wt (FP, CP) packed
    with zero columns beyond the projection's width; cs a multiple of 8, at most CP."""
    b, f, h, w = x.shape
    out = torch.empty(b, h * w, cs, device=x.device, dtype=store)
    grid, block, warps, cb = _launch("pointwise", x)
    with _on(x.device):
        _kernels()._pointwise_kernel[grid](
            x, lnw, wt, out, h * w, eps,
            F=f, FP=lnw.shape[0], CS=cs, CP=wt.shape[1], BLOCK=block, num_warps=warps,
        )  # fmt: skip
    return out


def ffn_residual_(
    x: torch.Tensor,
    ln_weight: torch.Tensor,
    eps: float,
    w_in: torch.Tensor,
    w_dw: torch.Tensor,
    w_out: torch.Tensor,
    store: torch.dtype,
) -> None:
    """`x += FFN(LN(x))` of the gated depth-wise conv FFN, in place.

    Args:
        x: (B, F, H, W) float32 contiguous.
        ln_weight: (F,) bias-free LayerNorm weight; eps its epsilon.
        w_in: (4F', F, 1, 1); w_dw: (4F', 1, 3, 3); w_out: (F, 2F', 1, 1) (no biases).
        store: type of the (B, H*W, 4F') hidden map.
    """
    _check_store(store)
    b, f, h, w = x.shape
    hid = w_in.shape[0]
    half = hid // 2
    fp, hp = pad_width(f), pad_width(half)
    src = (ln_weight, w_in, w_dw, w_out)
    lnw = _pack("ln", (ln_weight,), torch.float32, lambda: _padded(ln_weight, (fp,)))
    wi = _pack(
        "ffn_in", src, torch.float32, lambda: _padded(w_in[:, :, 0, 0].t(), (fp, pad_width(hid)))
    )
    dw = w_dw.reshape(hid, 9)
    dwa = _pack("ffn_dwa", src, torch.float32, lambda: _padded(dw[:half].t(), (9, hp)))
    dwb = _pack("ffn_dwb", src, torch.float32, lambda: _padded(dw[half:].t(), (9, hp)))
    wo = _pack("ffn_o", src, torch.float32, lambda: _padded(w_out[:, :, 0, 0].t(), (hp, fp)))
    hidden = _pointwise(x, lnw, wi, eps, hid, store)  # 4F' channels: a multiple of 8
    grid, block, warps, cb = _launch("ffn_out", x)
    with _on(x.device):
        _kernels()._ffn_out_kernel[grid](
            hidden, dwa, dwb, wo, x, h, w,
            HH=half, HP=hp, F=f, FP=fp, CB=min(cb, hp), BLOCK=block, num_warps=warps,
        )  # fmt: skip


def mixer_in(
    x: torch.Tensor,
    ln_weight: torch.Tensor,
    eps: float,
    w_proj: torch.Tensor,
    w_dw: torch.Tensor,
    b_dw: torch.Tensor,
    buf: torch.Tensor,
    modality: int,
    store: torch.dtype,
) -> None:
    """Write one modality's scan input `SiLU(dwconv(W_x LN(x)) + b)` into the window-major buffer.

    Args:
        x: (B, F, H, W) float32 contiguous block input.
        ln_weight: (F,) bias-free LayerNorm weight; eps its epsilon.
        w_proj: (2D, F) input projection (its first D rows make x); w_dw: (D, 1, 3, 3); b_dw: (D,).
        buf: (B, H/ws, W/ws, 2, ws, ws, D) window-major buffer (float32 or bfloat16), rows
            packed (`scan_triton.token_rows`; `window_major_buffer` pads them to whole vectors).
        modality: 0 MS, 1 PAN.
        store: type of the (B, H*W, D) projection map.
    """
    _check_store(store)
    b, f, h, w = x.shape
    d, ws = buf.shape[-1], buf.shape[4]
    fp, dp = pad_width(f), pad_width(d)
    src = (ln_weight, w_proj, w_dw, b_dw)
    lnw = _pack("ln", (ln_weight,), torch.float32, lambda: _padded(ln_weight, (fp,)))
    wx = _pack("mix_x", src, torch.float32, lambda: _padded(w_proj[:d].t(), (fp, dp)))
    dw = _pack("mix_dw", src, torch.float32, lambda: _padded(w_dw.reshape(d, 9).t(), (9, dp)))
    dwb = _pack("mix_dwb", src, torch.float32, lambda: _padded(b_dw, (dp,)))
    ds = -(-d // 8) * 8  # row stride of 16-byte multiples: vector loads
    hidden = _pointwise(x, lnw, wx, eps, ds, store)
    grid, block, warps, cb = _launch("mixer_dw", x)
    with _on(x.device):
        _kernels()._mixer_dw_kernel[grid](
            hidden, dw, dwb, buf, h, w, h // ws, w // ws, modality,
            D=d, DS=ds, BS=token_rows(buf), DP=dp, WS=ws, CB=min(cb, dp), BLOCK=block,
            num_warps=warps,
        )  # fmt: skip


def mixer_out_(
    x: torch.Tensor,
    ln_weight: torch.Tensor,
    eps_in: float,
    w_proj: torch.Tensor,
    y: torch.Tensor,
    n_weight: torch.Tensor,
    n_bias: torch.Tensor,
    eps_out: float,
    w_out: torch.Tensor,
    modality: int,
) -> None:
    """`x += W_o (LayerNorm(y) * SiLU(W_z LN(x)))` in place for one modality.

    Args:
        x: (B, F, H, W) float32 contiguous block input, updated in place.
        ln_weight: (F,) the mixer's bias-free input norm; eps_in its epsilon.
        w_proj: (2D, F) input projection (its last D rows make the gate z).
        y: (B, H/ws, W/ws, 2, ws, ws, D) float32 or bfloat16 scan output, window-major, rows
            packed (`scan_triton.token_rows`).
        n_weight, n_bias: (D,) output LayerNorm; eps_out its epsilon.
        w_out: (F, D) output projection.
        modality: 0 MS, 1 PAN.
    """
    b, f, h, w = x.shape
    d, ws = y.shape[-1], y.shape[4]
    grid, block, warps, cb = _launch("mixer_out", x)
    fp, cb = pad_width(f), pad_width(cb)
    dc = -(-d // cb) * cb  # scan channels padded to whole chunks
    src = (ln_weight, w_proj, n_weight, n_bias, w_out)
    lnw = _pack("ln", (ln_weight,), torch.float32, lambda: _padded(ln_weight, (fp,)))
    wz = _pack(f"mix_z{dc}", src, torch.float32, lambda: _padded(w_proj[d:].t(), (fp, dc)))
    nw = _pack(f"mix_nw{dc}", src, torch.float32, lambda: _padded(n_weight, (dc,)))
    nb = _pack(f"mix_nb{dc}", src, torch.float32, lambda: _padded(n_bias, (dc,)))
    wo = _pack(f"mix_o{dc}", src, torch.float32, lambda: _padded(w_out.t(), (dc, fp)))
    with _on(x.device):
        _kernels()._mixer_out_kernel[grid](
            x, lnw, wz, y, nw, nb, wo, h, w, h // ws, w // ws, modality, eps_in, eps_out,
            F=f, FP=fp, D=d, YS=token_rows(y), DC=dc, CB=cb, WS=ws, BLOCK=block,
            num_warps=warps,
        )  # fmt: skip

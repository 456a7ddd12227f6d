"""The whole network's inference with fused Triton layers (CUDA, engine "triton").

Same result as `MMMamba.forward_aligned` without autograd, in about a tenth of the kernel
launches: every convolution carries its bias, activation, input norm and residual; a block is
two mixer input kernels, the scan (`mi_scan`), two mixer output kernels and two FFN kernels.
Residual streams stay float32 and every dot runs on TF32 tensor cores (as PyTorch's cuDNN
convolutions do by default); the mixed precisions store the wide intermediate maps (FFN hidden,
mixer projection) in bfloat16, "bf16-scan" also the scan's input and summed output.
"""

from __future__ import annotations

import torch
from torch import nn

from ..ops.fused_triton import conv2d, ffn_residual_, mixer_in, mixer_out_
from ..ops.scan_triton import mi_scan, window_major_buffer, window_major_shape
from .layers import (
    ChannelAttentionBlock,
    Encoder,
    HalfInstanceNormBlock,
    instance_norm_scale_shift,
)


def _hin_block(blk: HalfInstanceNormBlock, x: torch.Tensor) -> torch.Tensor:
    """Half instance-norm residual block, (B, F, H, W) updated in place."""
    y = conv2d(x, blk.conv1.weight, blk.conv1.bias, act="leaky")
    half = y.shape[1] // 2
    # the first half normalised, the second half as it is (identity affine)
    scale = torch.ones(y.shape[:2], device=y.device)
    shift = torch.zeros(y.shape[:2], device=y.device)
    scale[:, :half], shift[:, :half] = instance_norm_scale_shift(
        y[:, :half], blk.norm.weight, blk.norm.bias, blk.norm.eps
    )
    return conv2d(
        y, blk.conv2.weight, blk.conv2.bias, act="leaky", affine=(scale, shift),
        residual=x, out=x,
    )  # fmt: skip


def _encoder(enc: Encoder, x: torch.Tensor) -> torch.Tensor:
    """(B, in, H, W) -> (B, F, H, W) float32."""
    x = conv2d(x.float().contiguous(), enc.stem.weight, enc.stem.bias)
    for blk in enc.blocks:
        x = _hin_block(blk, x)
    return x


def _block(blk: nn.Module, m: torch.Tensor, p: torch.Tensor, store: torch.dtype) -> None:
    """One MMMamba block on the float32 (B, F, H, W) pair, in place."""
    mx = blk.mixer
    b, _, h, w = m.shape
    d, ws = mx.d_inner, mx.window
    shape = window_major_shape(b, h, w, ws, d)
    buf = window_major_buffer(b, h, w, ws, d, mx.scan_dtype, m.device)
    sides = (
        (m, blk.norm1_ms, mx.in_proj_ms, mx.conv_ms, mx.out_norm_ms, mx.out_proj_ms),
        (p, blk.norm1_pan, mx.in_proj_pan, mx.conv_pan, mx.out_norm_pan, mx.out_proj_pan),
    )
    for i, (x, norm, proj, conv, _, _) in enumerate(sides):
        mixer_in(x, norm.weight, norm.eps, proj.weight, conv.weight, conv.bias, buf, i, store)
    A, D = mx._scan_params()
    y = mi_scan(
        buf.view(b, 2 * h * w, d), mx.x_proj_weight, mx.dt_proj_weight, mx.dt_bias, A, D,
        h // ws, w // ws, ws,
        out_dtype=mx.scan_dtype,
    ).view(shape)  # fmt: skip
    del buf
    for i, (x, norm, proj, _, onorm, oproj) in enumerate(sides):
        mixer_out_(
            x, norm.weight, norm.eps, proj.weight, y, onorm.weight, onorm.bias, onorm.eps,
            oproj.weight, i,
        )  # fmt: skip
    del y
    ffn = blk.ffn
    for x, norm in ((m, blk.norm2_ms), (p, blk.norm2_pan)):
        ffn_residual_(
            x, norm.weight, norm.eps, ffn.project_in.weight, ffn.dwconv.weight,
            ffn.project_out.weight, store,
        )  # fmt: skip


def _channel_attention(ca: ChannelAttentionBlock, x: torch.Tensor) -> torch.Tensor:
    """`x + r * gate(r)`, (B, F, H, W)."""
    r = conv2d(x, ca.conv1.weight, ca.conv1.bias, act="relu")
    r = conv2d(r, ca.conv2.weight, ca.conv2.bias)
    s = torch.relu(ca.squeeze(r.mean(dim=(2, 3), keepdim=True)))
    gate = torch.sigmoid(ca.excite(s))
    return torch.addcmul(x, r, gate)


def fused_forward(net: nn.Module, pan: torch.Tensor, ms_up: torch.Tensor) -> torch.Tensor:
    """`net.forward_aligned` without autograd through the fused kernels.

    Args:
        net: an `MMMamba`; pan: (B, 1, H, W); ms_up: (B, C, H, W), H and W multiples of the
            window.

    Returns:
        (B, C, H, W) float32.
    """
    store = torch.float32 if net.precision == "fp32" else torch.bfloat16
    ms_up = ms_up.float().contiguous()
    with torch.no_grad(), torch.autocast(device_type=pan.device.type, enabled=False):
        m = _encoder(net.encoder_ms, ms_up)
        p = _encoder(net.encoder_pan, pan)
        for blk in net.blocks:
            _block(blk, m, p, store)
        F_ = net.cfg.width
        wf = net.fusion.weight
        f = conv2d(m, wf[:, :F_], net.fusion.bias)
        del m
        f = conv2d(p, wf[:, F_:], None, residual=f, out=f)
        del p
        f = conv2d(f, net.head_in.weight, net.head_in.bias)
        f = _channel_attention(net.head_ca, f)
        return conv2d(f, net.head_out.weight, net.head_out.bias, residual=ms_up)

"""MMMamba: pan-sharpening network with multimodal interleaved selective scans."""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from ..device import scan_engine
from ..errors import InputError
from ..ops.scan_chunked import reuse_workspace
from .config import MMMambaConfig
from .fused import fused_forward
from .layers import (
    BiasFreeLayerNorm2d,
    ChannelAttentionBlock,
    Encoder,
    GatedDWConvFFN,
    add_in_strips_,
)
from .mixer import PATHS, MIMixer
from .upsample import upsample_ms

# "fp32"; "bf16": convolutions and linear layers in bfloat16 autocast on CUDA, the scan's inputs
# and the residual streams in float32; "bf16-scan": also the scan's inputs and outputs stored in
# bfloat16 (the recurrence itself stays float32 inside the kernel). CPU runs ignore it.
PRECISIONS = ("fp32", "bf16", "bf16-scan")


class MMMambaBlock(nn.Module):
    """Mixer on (MS, PAN) then a gated FFN shared by both modalities, each with a residual."""

    def __init__(self, cfg: MMMambaConfig) -> None:
        super().__init__()
        F_ = cfg.width
        self.norm1_ms = BiasFreeLayerNorm2d(F_)
        self.norm1_pan = BiasFreeLayerNorm2d(F_)
        self.mixer = MIMixer(F_, cfg.d_inner, cfg.d_state, cfg.dt_rank, cfg.window)
        self.norm2_ms = BiasFreeLayerNorm2d(F_)
        self.norm2_pan = BiasFreeLayerNorm2d(F_)
        self.ffn = GatedDWConvFFN(F_)

    def forward(self, m: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, F, H, W) pair -> updated pair (updated in place when no gradient is recorded)."""
        # without autograd both residual updates happen in place, strip by strip: no fresh
        # full-size maps (each costs page faults on large images, and memory)
        m, p = self.mixer.residual(m, p, self.norm1_ms, self.norm1_pan)
        m = add_in_strips_(lambda t: self.ffn(self.norm2_ms(t)), m, halo=1)
        p = add_in_strips_(lambda t: self.ffn(self.norm2_pan(t)), p, halo=1)
        return m, p


class MMMamba(nn.Module):
    """PAN (B, 1, H, W) + MS (B, C, H/r, W/r) -> pan-sharpened MS (B, C, H, W).

    Inputs are normalised reflectances (about [0, 1]); the output is `head + upsampled MS`,
    not clamped. Any H x W divisible by the ratio: the network pads to a multiple of the
    window by reflection and crops back.
    """

    def __init__(self, cfg: MMMambaConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or MMMambaConfig()
        cfg.validate()
        self.cfg = cfg
        F_ = cfg.width
        self.encoder_ms = Encoder(cfg.ms_bands, F_, cfg.n_hin)
        self.encoder_pan = Encoder(1, F_, cfg.n_hin)
        self.blocks = nn.ModuleList(MMMambaBlock(cfg) for _ in range(cfg.n_blocks))
        self.fusion = nn.Conv2d(2 * F_, F_, 1)
        self.head_in = nn.Conv2d(F_, F_, 3, padding=1)
        self.head_ca = ChannelAttentionBlock(F_)
        self.head_out = nn.Conv2d(F_, cfg.ms_bands, 3, padding=1)
        self.precision = "fp32"
        self.channels_last = False
        # inference through the fused Triton layers wherever the Triton scan runs
        self.fused = True

    def set_scan(self, engine: str = "auto", chunk: int | None = None, path: str = "auto") -> None:
        """Choose the selective-scan engine ("auto", "triton", "cuda", "native", "chunked",
        "oracle"), its chunk, and the inference path of the mixers ("auto", "full", "streamed",
        "segmented", "windowed"; the fused Triton layers need "auto" or "windowed")."""
        if path not in PATHS:
            raise InputError(f"Unknown mixer path {path!r}: use one of {', '.join(PATHS)}.")
        for blk in self.blocks:
            blk.mixer.engine = engine
            blk.mixer.chunk = chunk
            blk.mixer.path = path

    def set_fused(self, enabled: bool = True) -> None:
        """Use the fused Triton layers (`backend.model.fused`) for inference wherever the
        blocks' scan engine resolves to "triton"; off: PyTorch layers and the windowed mixer."""
        self.fused = bool(enabled)

    def uses_fused(self, device: torch.device) -> bool:
        """True if a forward without autograd on `device` runs the fused Triton layers."""
        if not self.fused or not len(self.blocks):
            return False
        # exactly where the mixers would take their windowed (Triton scan) inference path
        mixer = self.blocks[0].mixer
        return mixer._inference_path(scan_engine(device, mixer.engine)) == "windowed"

    def set_precision(self, precision: str = "fp32") -> None:
        """Arithmetic of inference on CUDA: one of `PRECISIONS` (CPU runs stay float32)."""
        if precision not in PRECISIONS:
            raise InputError(
                f"Unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}."
            )
        self.precision = precision
        scan_dtype = torch.bfloat16 if precision == "bf16-scan" else torch.float32
        for blk in self.blocks:
            blk.mixer.scan_dtype = scan_dtype

    def set_channels_last(self, enabled: bool = True) -> None:
        """Keep convolution weights and feature maps channels-last (NHWC) in memory."""
        self.channels_last = bool(enabled)
        self.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)

    def forward(self, pan: torch.Tensor, ms: torch.Tensor) -> torch.Tensor:
        """Fuse.

        Args:
            pan: (B, 1, H, W).
            ms: (B, C, H/r, W/r) with C = cfg.ms_bands and r = cfg.ratio.

        Returns:
            (B, C, H, W) float32.
        """
        r = self.cfg.ratio
        if pan.dim() != 4 or pan.shape[1] != 1:
            raise InputError(f"PAN must be (B, 1, H, W), got {tuple(pan.shape)}.")
        if ms.dim() != 4 or ms.shape[1] != self.cfg.ms_bands:
            raise InputError(
                f"MS must be (B, {self.cfg.ms_bands}, h, w) for this model, got {tuple(ms.shape)}."
            )
        if pan.shape[0] != ms.shape[0] or pan.shape[-2:] != (ms.shape[-2] * r, ms.shape[-1] * r):
            raise InputError(
                f"PAN {tuple(pan.shape[-2:])} must be exactly {r} times MS "
                f"{tuple(ms.shape[-2:])} with the same batch size."
            )
        ms_up = upsample_ms(ms.float(), r, self.cfg.upsample)
        return self.forward_upsampled(pan.float(), ms_up)

    def forward_upsampled(self, pan: torch.Tensor, ms_up: torch.Tensor) -> torch.Tensor:
        """Fuse with MS already on the PAN grid.

        Args:
            pan: (B, 1, H, W); ms_up: (B, C, H, W), any H, W.

        Returns:
            (B, C, H, W).
        """
        if torch.is_grad_enabled() and not (
            pan.requires_grad
            or ms_up.requires_grad
            or any(q.requires_grad for q in self.parameters())
        ):
            # nothing to differentiate: take the memory-lean inference path
            with torch.no_grad():
                return self.forward_upsampled(pan, ms_up)
        h, w = pan.shape[-2:]
        win = self.cfg.window
        ph, pw = (-h) % win, (-w) % win
        if ph or pw:
            # reflection needs more pixels than the pad; tiny maps fall back to replication
            mode = "reflect" if h > ph and w > pw else "replicate"
            pan = F.pad(pan, (0, pw, 0, ph), mode=mode)
            ms_up = F.pad(ms_up, (0, pw, 0, ph), mode=mode)
        out = self.forward_aligned(pan, ms_up)
        return out[..., :h, :w]

    def forward_aligned(self, pan: torch.Tensor, ms_up: torch.Tensor) -> torch.Tensor:
        """Fuse maps whose H and W are multiples of the window (no padding).

        Args:
            pan: (B, 1, H, W); ms_up: (B, C, H, W).

        Returns:
            (B, C, H, W) = head(features) + ms_up.
        """
        if self.uses_fused(pan.device):
            return fused_forward(self, pan.contiguous(), ms_up)
        if self.channels_last:
            pan = pan.contiguous(memory_format=torch.channels_last)
            ms_up = ms_up.contiguous(memory_format=torch.channels_last)
        amp = self.precision != "fp32" and pan.device.type == "cuda"
        # only ever *enter* autocast: a caller's own autocast (training) must stay in force
        ctx = torch.autocast("cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()
        with ctx:
            # residual streams in float32 whatever the arithmetic of the layers
            m = self.encoder_ms(ms_up).float()
            p = self.encoder_pan(pan).float()
            # the blocks' large work tensors are reused from one block to the next
            with reuse_workspace():
                for blk in self.blocks:
                    m, p = blk(m, p)
            wf = self.fusion.weight[:, :, 0, 0]
            F_ = self.cfg.width
            # fusion conv on the concatenation without building it: W[:, :F] m + W[:, F:] p + b
            f = F.conv2d(m, wf[:, :F_, None, None], self.fusion.bias)
            del m
            f = f + F.conv2d(p, wf[:, F_:, None, None])
            del p
            f = self.head_out(self.head_ca(self.head_in(f)))
        return f.float() + ms_up

"""The CUDA inference path (segmented scan with a state prefix), run here with the chunked engine.

On a GPU the mixer scans the four MI sequences in segments with mamba-ssm's kernel, which always
starts from a zero state; the state is carried by prefix tokens (`backend.ops.scan_state`). The
same code runs here with the chunked scan in place of the kernel, so the bookkeeping (gathers,
prefix, scatter-add back to source layout, output strips) is checked on a CPU.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from backend.errors import InputError
from backend.model import layers, mixer
from backend.model.config import MMMambaConfig
from backend.model.layers import layer_norm_channels
from backend.model.network import MMMamba
from backend.ops.scan_chunked import selective_scan_chunked
from backend.ops.scan_state import fill_state_prefix, prefix_len
from backend.ops.selective_scan import selective_scan_from_zero


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("io", [torch.float32, torch.bfloat16])
def test_state_prefix_restores_any_state(io: torch.dtype) -> None:
    """A zero-state scan of [prefix(h0), tokens] equals a scan of the tokens from h0, even for
    strong decays (|A| up to 60) and with inputs stored in bfloat16 (high + low parts)."""
    g = torch.Generator().manual_seed(0)
    nb, G, dg, n, R, L = 2, 3, 5, 4, 2, 37
    P = prefix_len(n)
    A = -torch.rand(G * dg, n, generator=g) * 60 - 0.5
    D = torch.randn(G * dg, generator=g)
    bias = torch.randn(G * dg, generator=g)
    h0 = torch.randn(nb, G * dg, n, generator=g) * 3
    u = torch.randn(nb, G, dg, P + L, generator=g).to(io)
    delta = torch.randn(nb, G, dg, P + L, generator=g).to(io)
    bc = torch.randn(nb, G, R + 2 * n, P + L, generator=g).to(io)
    ref = selective_scan_chunked(
        u[..., P:].reshape(nb, G * dg, L).float(),
        delta[..., P:].reshape(nb, G * dg, L).float(),
        A,
        bc[:, :, R : R + n, P:].float(),
        bc[:, :, R + n :, P:].float(),
        D,
        bias,
        True,
        initial_state=h0,
        return_last_state=True,
    )
    fill_state_prefix(u, delta, bc, h0, bias, R)
    y, last = selective_scan_from_zero(
        u.reshape(nb, G * dg, P + L),
        delta.reshape(nb, G * dg, P + L),
        A,
        bc[:, :, R : R + n],
        bc[:, :, R + n :],
        D,
        bias,
        "chunked",
    )
    tol = 1e-6 if io == torch.float32 else 1e-4  # bf16: hi + lo parts keep ~16 bits
    assert _rel(y[..., P:], ref[0]) < tol
    assert _rel(last, ref[1]) < tol


def test_segmented_mixer_equals_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments of a few tokens (many state hand-overs) on a non-square map, batch 2."""
    monkeypatch.setattr(layers, "STRIP_MIN_PIXELS", 16)
    monkeypatch.setattr(layers, "STRIP_PIXELS", 3 * 12)
    torch.manual_seed(3)
    mix = mixer.MIMixer(width=8, d_inner=12, d_state=4, dt_rank=1, window=4)
    with torch.no_grad():
        mix.A_log.add_(torch.randn_like(mix.A_log))
    m, p = torch.randn(2, 8, 8, 12), torch.randn(2, 8, 8, 12)
    full_m, full_p = mix(m, p)  # gradients on: whole-tensor path
    mix.engine, mix.path = "chunked", "segmented"
    norm = layers.BiasFreeLayerNorm2d(8)
    for seg in (prefix_len(4) + 5, prefix_len(4) + 64, 1 << 16):
        monkeypatch.setattr(mixer, "SEGMENT_TOKENS", seg)
        with torch.no_grad():
            seg_m, seg_p = mix(m, p)
            ref_m, ref_p = mix._forward_full(norm(m), norm(p), "chunked")
            res_m, res_p = mix.residual(m.clone(), p.clone(), norm, norm)
        assert _rel(seg_m, full_m) < 1e-6 and _rel(seg_p, full_p) < 1e-6
        assert torch.allclose(res_m, m + ref_m, atol=1e-5)
        assert torch.allclose(res_p, p + ref_p, atol=1e-5)


def test_segmented_mixer_with_bfloat16_scan_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mixer, "SEGMENT_TOKENS", prefix_len(4) + 40)
    torch.manual_seed(4)
    mix = mixer.MIMixer(width=8, d_inner=12, d_state=4, dt_rank=1, window=4)
    m, p = torch.randn(1, 8, 12, 8), torch.randn(1, 8, 12, 8)
    mix.engine, mix.path = "chunked", "segmented"
    with torch.no_grad():
        ref = mix(m, p)
        mix.scan_dtype = torch.bfloat16
        got = mix(m, p)
    assert all(g.dtype == torch.float32 for g in got)
    errs = [_rel(a, b) for a, b in zip(got, ref, strict=True)]
    assert all(1e-5 < e < 1e-2 for e in errs), errs  # rounded, but not by much


def test_network_paths_precision_and_layout_agree_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "STRIP_MIN_PIXELS", 64)
    monkeypatch.setattr(layers, "STRIP_PIXELS", 7 * 20)
    monkeypatch.setattr(mixer, "SEGMENT_TOKENS", 300)
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(4, 4)).eval()
    g = torch.Generator().manual_seed(1)
    ms = torch.rand(2, 4, 6, 5, generator=g)
    pan = torch.rand(2, 1, 24, 20, generator=g)
    with torch.no_grad():
        streamed = net(pan, ms)
        net.set_scan("chunked", path="segmented")
        segmented = net(pan, ms)
        net.set_precision("bf16")  # CUDA only: a CPU run stays float32
        cpu_bf16 = net(pan, ms)
        net.set_precision("fp32")
        net.set_channels_last(True)
        nhwc = net(pan, ms)
        net.set_channels_last(False)
    assert _rel(segmented, streamed) < 1e-6
    assert torch.equal(cpu_bf16, segmented)
    assert _rel(nhwc, segmented) < 1e-6
    with pytest.raises(InputError):
        net.set_precision("fp8")
    with pytest.raises(InputError):
        net.set_scan("chunked", path="sideways")


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_channel_major_layer_norm_equals_layer_norm(dtype: torch.dtype) -> None:
    """The GPU output path's layer norm over channels equals `F.layer_norm` channels-last."""
    g = torch.Generator().manual_seed(2)
    y = (torch.randn(2, 85, 7, 5, generator=g) * 3 + 1).to(dtype)
    w, b = torch.randn(85, generator=g), torch.randn(85, generator=g)
    got = layer_norm_channels(y, w, b, 1e-5)
    ref = F.layer_norm(y.float().permute(0, 2, 3, 1), (85,), w, b, 1e-5).permute(0, 3, 1, 2)
    assert got.dtype == torch.float32
    assert torch.allclose(got, ref, atol=1e-5, rtol=1e-5)

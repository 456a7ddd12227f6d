"""The Triton MI scan (CUDA inference engine), run here through Triton's CPU interpreter.

The same kernels that run on a GPU are executed on small inputs: the four-direction scan from
the window-major buffer against the float64 oracle on gathered sequences (several segments, a
channel block that does not divide the width, bfloat16 storage), the fused norm and gate, and
the whole network on the windowed path against the oracle path.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from backend.device import scan_engine, training_scan_engine
from backend.errors import InputError
from backend.model.config import MMMambaConfig
from backend.model.layers import instance_norm_affine
from backend.model.mi_scan import build_sequences, mi_orders, undo_sequences
from backend.model.network import MMMamba
from backend.ops import scan_triton
from backend.ops.scan_oracle import selective_scan_oracle
from backend.ops.scan_triton import (
    ScanLaunch,
    default_programs,
    from_window_major,
    mi_scan,
    norm_gate,
    programs_per_wave,
    row_stride,
    to_window_major,
    token_rows,
    window_major_buffer,
    window_major_shape,
)
from backend.ops.scan_triton_kernels import _exp2_fma


@triton.jit
def _exp2_probe(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    tl.store(out_ptr + i, _exp2_fma(tl.load(x_ptr + i, mask=m, other=0.0)), mask=m)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm())


def _problem(b: int, d: int, h: int, w: int, n: int, r: int, seed: int = 0, window: int = 4):
    """Random MS/PAN tokens in both layouts and per-direction scan weights."""
    g = torch.Generator().manual_seed(seed)
    xm, xp = torch.randn(2, b, d, h, w, generator=g)
    buf = torch.empty(window_major_shape(b, h, w, window, d))
    to_window_major(xm, buf, 0)
    to_window_major(xp, buf, 1)
    weights = dict(
        x_proj_weight=torch.randn(4, r + 2 * n, d, generator=g) * 0.4,
        dt_proj_weight=torch.randn(4, d, r, generator=g) * 0.5,
        dt_bias=torch.randn(4 * d, generator=g) - 2.5,
        A=-torch.exp(torch.randn(4 * d, n, generator=g) * 0.7),
        D=torch.randn(4 * d, generator=g),
    )
    return torch.cat([xm.flatten(2), xp.flatten(2)], 2), buf, weights


def _oracle(src: torch.Tensor, h: int, w: int, wt: dict, window: int = 4) -> torch.Tensor:
    """Sum over directions of the float64 oracle scan, back in window-major layout (B, L, d)."""
    b, d, L = src.shape
    r = wt["dt_proj_weight"].shape[-1]
    n = wt["A"].shape[-1]
    order, inverse = mi_orders(h, w, window)
    seq = build_sequences(src, order)
    x_dbl = torch.einsum("bkdl,kcd->bkcl", seq, wt["x_proj_weight"])
    dt, B, C = torch.split(x_dbl, [r, n, n], dim=2)
    delta = torch.einsum("bkrl,kdr->bkdl", dt, wt["dt_proj_weight"])
    y = selective_scan_oracle(
        seq.reshape(b, 4 * d, L).double(), delta.reshape(b, 4 * d, L).double(),
        wt["A"].double(), B.double(), C.double(), wt["D"].double(), wt["dt_bias"].double(), True,
    )  # fmt: skip
    y = undo_sequences(y.view(b, 4, d, L), inverse).sum(dim=1)
    out = torch.empty(window_major_shape(b, h, w, window, d), dtype=torch.float64)
    to_window_major(y[..., : h * w].reshape(b, d, h, w), out, 0)
    to_window_major(y[..., h * w :].reshape(b, d, h, w), out, 1)
    return out.view(b, L, d)


@pytest.mark.parametrize(
    "launch",
    [
        ScanLaunch(d_block=4, programs=2),  # one segment per batch item
        ScanLaunch(d_block=8, programs=10),  # 5 segments of 2 blocks (the last one short)
        ScanLaunch(d_block=8, programs=140),  # 12 segments of one block
        ScanLaunch(d_block=8, programs=10, poly=3, out_poly=2, carry_block=16),  # FMA decays
    ],
)
def test_mi_scan_matches_oracle(launch: ScanLaunch) -> None:
    """Four directions read in place from the window-major buffer of a non-square map, with
    channel blocks that do not divide the width and segments whose state is carried."""
    b, d, h, w, n, r = 2, 6, 4, 12, 4, 2
    src, buf, wt = _problem(b, d, h, w, n, r)
    y = mi_scan(buf.view(b, -1, d), **wt, n_wr=h // 4, n_wc=w // 4, window=4, launch=launch)
    assert y.dtype == torch.float32 and y.shape == (b, 2 * h * w, d)
    assert _rel(y, _oracle(src, h, w, wt)) < 1e-5


@pytest.mark.parametrize("window", [1, 2, 3, 8])
def test_mi_scan_other_windows(window: int) -> None:
    """Windows whose blocks are one chunk of compile-time pixel offsets (1, 2, 3) or two
    chunks walked in order and in reverse (8: chunks of 32 of its 64 tokens)."""
    b, d, n, r = 1, 3, 2, 1
    h, w = window * 2, window * 3
    src, buf, wt = _problem(b, d, h, w, n, r, seed=window, window=window)
    y = mi_scan(
        buf.view(b, -1, d), **wt, n_wr=2, n_wc=3, window=window,
        launch=ScanLaunch(d_block=4, programs=3),
    )  # fmt: skip
    assert _rel(y, _oracle(src, h, w, wt, window)) < 1e-5


def test_mi_scan_bfloat16_storage() -> None:
    """Tokens and projections stored in bfloat16 (recurrence in float32): within 1e-2."""
    b, d, h, w, n, r = 1, 5, 8, 4, 4, 2
    src, buf, wt = _problem(b, d, h, w, n, r, seed=1)
    y = mi_scan(buf.view(b, -1, d).bfloat16(), **wt, n_wr=2, n_wc=1, window=4)
    err = _rel(y, _oracle(src, h, w, wt))
    assert 1e-5 < err < 1e-2  # really rounded, still close


def test_exp2_on_the_fma_pipe() -> None:
    """The polynomial 2^x the scan may use for decays: within 4 ulp of 2^x on [-125, 0] (the
    float32 rounding of the hardware exp2 is 2 ulp), and tiny below."""
    x = torch.cat([torch.linspace(-125.0, 0.0, 40001), torch.tensor([-1e-7, -0.5, -126.0, -300.0])])
    out = torch.empty_like(x)
    _exp2_probe[(-(-x.numel() // 1024),)](x, out, x.numel(), BLOCK=1024)
    ref = torch.exp2(x.double())
    rel = ((out.double() - ref) / ref)[:-2].abs().max().item()
    assert rel < 4.8e-7, rel
    assert 0 < out[-1].item() <= 2.0**-124 and 0 < out[-2].item() <= 2.0**-124


def test_mi_scan_bfloat16_output() -> None:
    """The four directions summed into a bfloat16 buffer: each sum rounded, within 1e-2."""
    b, d, h, w, n, r = 1, 5, 8, 4, 4, 2
    src, buf, wt = _problem(b, d, h, w, n, r, seed=2)
    y = mi_scan(
        buf.view(b, -1, d), **wt, n_wr=2, n_wc=1, window=4, out_dtype=torch.bfloat16,
        launch=ScanLaunch(d_block=4, programs=3),
    )  # fmt: skip
    assert y.dtype == torch.bfloat16
    err = _rel(y, _oracle(src, h, w, wt))
    assert 1e-5 < err < 1e-2
    with pytest.raises(ValueError, match="float32 or bfloat16"):
        mi_scan(buf.view(b, -1, d), **wt, n_wr=2, n_wc=1, window=4, out_dtype=torch.float16)


def test_padded_rows_give_the_same_scan() -> None:
    """Tokens whose rows are padded to `row_stride` (NaN in the padding) scan like packed ones,
    and the output is a view with padded rows; a token tensor that is not packed rows is
    copied first."""
    b, d, h, w, n, r = 1, 5, 8, 4, 4, 2
    src, buf, wt = _problem(b, d, h, w, n, r, seed=4)
    padded = window_major_buffer(b, h, w, 4, d, torch.float32, torch.device("cpu"))
    padded.as_strided((*padded.shape[:-1], row_stride(d) - d), padded.stride(), d).fill_(
        float("nan")
    )
    padded.copy_(buf)
    kw = dict(**wt, n_wr=2, n_wc=1, window=4, launch=ScanLaunch(d_block=4, programs=3))
    y = mi_scan(padded.view(b, -1, d), **kw)
    assert token_rows(padded) == row_stride(d) == 8 and y.stride(1) == 8
    ref = mi_scan(buf.view(b, -1, d), **kw)
    assert torch.equal(y, ref) and _rel(y, _oracle(src, h, w, wt)) < 1e-5
    # channels strided (a transposed copy): rejected by token_rows, copied by mi_scan
    strided = buf.view(b, -1, d).transpose(1, 2).contiguous().transpose(1, 2)
    with pytest.raises(ValueError, match="rows must be packed"):
        token_rows(strided)
    assert torch.equal(mi_scan(strided, **kw), ref)


def test_programs_fill_one_wave() -> None:
    """The default program count is what the GPU runs at once (published limits of each card),
    capped at 4096: a few programs more would run as a second, nearly empty wave."""
    assert programs_per_wave(132, (9, 0), 65536, 2048, 1) == 4224  # H100 SXM / H200
    assert programs_per_wave(114, (9, 0), 65536, 2048, 1) == 3648  # H100 PCIe
    assert programs_per_wave(108, (8, 0), 65536, 2048, 1) == 3456  # A100
    assert programs_per_wave(128, (8, 9), 65536, 1536, 1) == 3072  # RTX 4090: 24 blocks/SM
    assert programs_per_wave(40, (7, 5), 65536, 1024, 1) == 640  # T4
    # 68 registers a thread: 2304 per warp, 28 programs per multiprocessor
    assert programs_per_wave(132, (9, 0), 65536, 2048, 1, regs_per_thread=68) == 3696
    assert programs_per_wave(132, (9, 0), 65536, 2048, 4) == 1056  # programs of 4 warps
    assert default_programs(torch.device("cpu"), 1) == 4096


def test_mi_scan_rejects_inconsistent_shapes() -> None:
    _, buf, wt = _problem(1, 4, 4, 4, 4, 2)
    with pytest.raises(ValueError, match="inconsistent"):
        mi_scan(buf.view(1, -1, 4), **wt, n_wr=2, n_wc=1, window=4)


def test_window_major_round_trip() -> None:
    """Rows written per strip come back unchanged, channels-last, for either modality."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 8, 12, generator=g)
    buf = torch.zeros(window_major_shape(2, 8, 12, 4, 3))
    to_window_major(x[..., :4, :], buf, 1, 0)
    to_window_major(x[..., 4:, :], buf, 1, 4)
    assert torch.equal(from_window_major(buf, 1, 0, 8), x.permute(0, 2, 3, 1))
    assert torch.count_nonzero(from_window_major(buf, 0, 0, 8)) == 0


def test_norm_gate_matches_layer_norm_times_silu() -> None:
    g = torch.Generator().manual_seed(3)
    b, h, w, d = 2, 8, 8, 7
    y = torch.randn(window_major_shape(b, h, w, 4, d), generator=g) * 3 + 1
    z = torch.randn(b, 4, w, d, generator=g)
    weight, bias = torch.randn(d, generator=g), torch.randn(d, generator=g)
    out = norm_gate(y, z, weight, bias, 1e-5, modality=1, row0=4, window=4)
    ref = F.layer_norm(from_window_major(y, 1, 4, 4), (d,), weight, bias) * F.silu(z)
    assert _rel(out, ref) < 1e-6
    # rows padded to 8 channels, NaN in the padding: the same
    padded = window_major_buffer(b, h, w, 4, d, torch.float32, torch.device("cpu"))
    padded.as_strided((*y.shape[:-1], 1), padded.stride(), d).fill_(float("nan"))
    padded.copy_(y)
    assert torch.equal(norm_gate(padded, z, weight, bias, 1e-5, 1, 4, 4), out)


def test_instance_norm_affine_matches_instance_norm() -> None:
    g = torch.Generator().manual_seed(4)
    y = torch.randn(2, 4, 9, 11, generator=g) * 2 + 0.5
    weight, bias = torch.randn(4, generator=g), torch.randn(4, generator=g)
    ref = F.instance_norm(y, weight=weight, bias=bias, eps=1e-5)
    assert _rel(instance_norm_affine(y, weight, bias, 1e-5), ref) < 1e-6


def test_network_windowed_path_matches_oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole network on the Triton engine (windowed path, blocks updated in place) gives
    the oracle's output, with several segments per sequence."""
    monkeypatch.setattr(scan_triton, "LAUNCH", ScanLaunch(d_block=8, programs=8))
    torch.manual_seed(0)
    cfg = MMMambaConfig(ms_bands=3, ratio=2, width=8, n_blocks=1, d_state=4, expand=2.0, n_hin=1)
    net = MMMamba(cfg).eval()
    net.set_fused(False)  # PyTorch layers around the Triton scan
    pan, ms = torch.rand(2, 1, 8, 12), torch.rand(2, 3, 4, 6)
    with torch.no_grad():
        net.set_scan("oracle")
        ref = net(pan, ms)
        net.set_scan("triton")
        assert net.blocks[0].mixer._inference_path("triton") == "windowed"
        assert not net.uses_fused(pan.device)
        out = net(pan, ms)
    up = F.interpolate(ms, scale_factor=2, mode="bicubic", align_corners=False)
    assert _rel(out - up, ref - up) < 1e-5


def test_triton_engine_trains_on_the_gradient_engine() -> None:
    """With a gradient the Triton engine hands the scan to the chunked one (mamba-ssm on CUDA)."""
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(3, 2))
    net.set_scan("triton")
    pan, ms = torch.rand(1, 1, 8, 8), torch.rand(1, 3, 4, 4)
    net(pan, ms).square().mean().backward()
    assert net.blocks[0].mixer.A_log.grad is not None
    assert training_scan_engine("cpu", "triton").startswith("chunked (training steps)")


def test_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "auto" picks Triton on CUDA when it is importable; asking for it where it cannot run is
    a clear error."""
    assert scan_engine("cuda", "auto") == "triton"
    assert scan_engine("cpu", "triton") == "triton"  # interpreter
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(InputError, match="triton"):
        scan_engine("cpu", "triton")

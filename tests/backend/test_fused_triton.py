"""The fused Triton layers of the CUDA inference path, run through Triton's CPU interpreter.

Each kernel against the PyTorch layers it replaces (non-square maps, batch of two, padded
channel counts, float32 and bfloat16 intermediates), and the whole network through the fused
layers against the float64 oracle path.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from backend.model.config import MMMambaConfig
from backend.model.layers import BiasFreeLayerNorm2d, GatedDWConvFFN
from backend.model.mixer import MIMixer
from backend.model.network import MMMamba
from backend.ops import fused_triton as ft
from backend.ops import scan_triton
from backend.ops.scan_triton import ScanLaunch, row_stride, to_window_major, window_major_shape


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm())


def _perturbed(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Weights away from their initial values (norm weights 1, biases 0 would hide errors)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=g))
    return module.eval()


@pytest.mark.parametrize(
    ("cin", "cout", "k", "act", "affine", "residual"),
    [
        (1, 8, 3, "none", False, False),  # PAN stem: one input channel padded to 16
        (8, 8, 3, "leaky", True, True),  # half instance-norm block's second conv
        (8, 4, 1, "relu", False, True),  # 1x1, output channels padded
        (32, 32, 3, "leaky", False, False),
    ],
)
def test_conv2d_matches_pytorch(
    cin: int, cout: int, k: int, act: str, affine: bool, residual: bool
) -> None:
    g = torch.Generator().manual_seed(cin + cout + k)
    x = torch.randn(2, cin, 7, 10, generator=g)
    w = torch.randn(cout, cin, k, k, generator=g) * 0.3
    b = torch.randn(cout, generator=g)
    scale, shift = torch.rand(2, cin, generator=g) + 0.5, torch.randn(2, cin, generator=g)
    res = torch.randn(2, cout, 7, 10, generator=g)
    xin = x * scale[:, :, None, None] + shift[:, :, None, None] if affine else x
    ref = F.conv2d(xin, w, b, padding=k // 2)
    ref = {"none": ref, "leaky": F.leaky_relu(ref, 0.2), "relu": F.relu(ref)}[act]
    if residual:
        ref = ref + res
    out = ft.conv2d(
        x, w, b, act=act, affine=(scale, shift) if affine else None,
        residual=res.clone() if residual else None,
    )  # fmt: skip
    assert out.shape == ref.shape
    assert _rel(out, ref) < 1e-5


def test_conv2d_into_its_residual() -> None:
    """`out=residual` (the encoder's in-place block update) gives the out-of-place result."""
    g = torch.Generator().manual_seed(1)
    x, res = torch.randn(2, 2, 8, 8, 9, generator=g)
    w, b = torch.randn(8, 8, 3, 3, generator=g) * 0.3, torch.randn(8, generator=g)
    ref = F.conv2d(x, w, b, padding=1) + res
    out = ft.conv2d(x, w, b, residual=res, out=res)
    assert out is res
    assert _rel(out, ref) < 1e-5


@pytest.mark.parametrize("width", [8, 32])
@pytest.mark.parametrize("store", [torch.float32, torch.bfloat16])
def test_ffn_matches_pytorch(width: int, store: torch.dtype) -> None:
    ffn = _perturbed(GatedDWConvFFN(width), width)
    norm = _perturbed(BiasFreeLayerNorm2d(width), width + 1)
    x = torch.randn(2, width, 6, 9, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        update = ffn(norm(x))
    out = x.clone()
    ft.ffn_residual_(
        out, norm.weight, norm.eps, ffn.project_in.weight, ffn.dwconv.weight,
        ffn.project_out.weight, store,
    )  # fmt: skip
    # bfloat16 storage of the hidden map: ~3 significant digits of the update
    assert _rel(out - x, update) < (1e-5 if store == torch.float32 else 1e-2)


def _mixer(width: int = 32) -> tuple[MIMixer, BiasFreeLayerNorm2d]:
    d = int(2.66 * width)
    return _perturbed(MIMixer(width, d, 8, 2, 4), 3), _perturbed(BiasFreeLayerNorm2d(width), 4)


def _padded_rows(shape: tuple[int, ...], dtype: torch.dtype, fill: float) -> torch.Tensor:
    """A window-major buffer as the engine allocates it (rows `row_stride(d)` apart), the
    padding holding `fill` and the data zeros."""
    full = torch.full((*shape[:-1], row_stride(shape[-1])), fill, dtype=dtype)
    view = full[..., : shape[-1]]
    view.zero_()
    return view


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("store", [torch.float32, torch.bfloat16])
def test_mixer_input_matches_pytorch(store: torch.dtype, padded: bool) -> None:
    """Projection, depth-wise conv and SiLU of one modality land in the window-major buffer
    (85 channels: a padded row stride of 88 in the intermediate map); in a buffer whose rows
    are padded to 88, the padding of the written rows becomes zeros."""
    mix, norm = _mixer()
    b, h, w, d = 2, 8, 12, mix.d_inner
    x = torch.randn(b, mix.width, h, w, generator=torch.Generator().manual_seed(5))
    ref = torch.zeros(window_major_shape(b, h, w, 4, d))
    with torch.no_grad():
        to_window_major(mix._inner(norm(x), mix.in_proj_pan, mix.conv_pan), ref, 1)
    shape = window_major_shape(b, h, w, 4, d)
    buf = _padded_rows(shape, store, float("nan")) if padded else torch.zeros(shape, dtype=store)
    if padded:
        assert buf.stride(-2) == 88 and scan_triton.token_rows(buf) == 88
    ft.mixer_in(
        x, norm.weight, norm.eps, mix.in_proj_pan.weight, mix.conv_pan.weight,
        mix.conv_pan.bias, buf, 1, store,
    )  # fmt: skip
    assert buf[:, :, :, 0].abs().max() == 0  # the other modality's rows are untouched
    tol = 1e-5 if store == torch.float32 else 1e-2
    assert _rel(buf[:, :, :, 1].float(), ref[:, :, :, 1]) < tol
    if padded:
        pad = buf.as_strided((*shape[:-1], 88 - d), buf.stride(), d)
        assert torch.count_nonzero(pad[:, :, :, 1]) == 0  # written as zeros
        assert pad[:, :, :, 0].isnan().all()  # the other modality's rows untouched


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_mixer_output_matches_pytorch(dtype: torch.dtype, padded: bool) -> None:
    """Norm, gate and projection of the scan output (a bfloat16 one read as its float32 value);
    NaN in the padding of padded rows (read with the rows) changes nothing."""
    mix, norm = _mixer()
    b, h, w, d = 2, 8, 12, mix.d_inner
    g = torch.Generator().manual_seed(6)
    x = torch.randn(b, mix.width, h, w, generator=g)
    y = torch.randn(window_major_shape(b, h, w, 4, d), generator=g).to(dtype)
    if padded:
        y = _padded_rows(y.shape, dtype, float("nan")).copy_(y)
    with torch.no_grad():
        y_map = scan_triton.from_window_major(y.float(), 0, 0, h).permute(0, 3, 1, 2)
        ref = mix._output(y_map, norm(x), mix.in_proj_ms, mix.out_norm_ms, mix.out_proj_ms)
    out = x.clone()
    ft.mixer_out_(
        out, norm.weight, norm.eps, mix.in_proj_ms.weight, y, mix.out_norm_ms.weight,
        mix.out_norm_ms.bias, mix.out_norm_ms.eps, mix.out_proj_ms.weight, 0,
    )  # fmt: skip
    assert _rel(out - x, ref) < 1e-5


def test_packed_weights_follow_in_place_updates() -> None:
    """A weight changed in place (an optimiser step) is packed again, not served stale."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn(1, 8, 5, 5, generator=g)
    w = torch.randn(8, 8, 3, 3, generator=g)
    first = ft.conv2d(x, w, None)
    with torch.no_grad():
        w.mul_(2.0)
    second = ft.conv2d(x, w, None)
    assert _rel(second, 2 * first) < 1e-6


def test_packed_weights_are_never_served_to_another_tensor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two weight tensors that look alike to the cache key (as a freed tensor and a new one at
    its address would) each get their own packed copy."""
    monkeypatch.setattr(ft, "_identity", lambda t: ("same",))
    g = torch.Generator().manual_seed(10)
    x = torch.randn(1, 8, 5, 5, generator=g)
    w1, w2 = torch.randn(2, 8, 8, 3, 3, generator=g)
    first = ft.conv2d(x, w1.clone(), None)  # its weight is freed right away
    second = ft.conv2d(x, w2, None)
    assert _rel(first, F.conv2d(x, w1, padding=1)) < 1e-5
    assert _rel(second, F.conv2d(x, w2, padding=1)) < 1e-5


def _net(monkeypatch: pytest.MonkeyPatch) -> MMMamba:
    monkeypatch.setattr(scan_triton, "LAUNCH", ScanLaunch(d_block=8, programs=8))
    torch.manual_seed(0)
    cfg = MMMambaConfig(ms_bands=3, ratio=2, width=8, n_blocks=1, d_state=4, expand=2.0, n_hin=1)
    return _perturbed(MMMamba(cfg), 9)


def test_network_fused_matches_oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole network through the fused layers gives the oracle path's output (one block,
    batch of two, a non-square map that needs padding to the window)."""
    net = _net(monkeypatch)
    pan, ms = torch.rand(2, 1, 6, 10), torch.rand(2, 3, 3, 5)
    up = F.interpolate(ms, scale_factor=2, mode="bicubic", align_corners=False)
    with torch.no_grad():
        net.set_scan("oracle")
        assert not net.uses_fused(pan.device)
        ref = net(pan, ms)
        net.set_scan("triton")
        assert net.uses_fused(pan.device)
        out = net(pan, ms)
        net.set_precision("bf16-scan")  # bfloat16 intermediates, scan input and output
        assert _rel(net(pan, ms) - up, ref - up) < 1e-2
    assert _rel(out - up, ref - up) < 1e-5


def test_fused_layers_only_without_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _net(monkeypatch)
    dev = torch.device("cpu")
    net.set_scan("triton")
    assert torch.is_grad_enabled() and not net.uses_fused(dev)  # training keeps PyTorch layers
    with torch.no_grad():
        assert net.uses_fused(dev)
        net.set_fused(False)
        assert not net.uses_fused(dev)
        net.set_fused(True)
        net.set_scan("triton", path="segmented")
        assert not net.uses_fused(dev)
        net.set_scan("chunked")
        assert not net.uses_fused(dev)

"""Selective-scan engines: the chunked PyTorch scan equals the float64 sequential oracle."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from backend.errors import InputError
from backend.ops.scan_chunked import selective_scan_chunked
from backend.ops.scan_oracle import selective_scan_oracle
from backend.ops.selective_scan import selective_scan
from tests.conftest import REPO

TOL = 1e-5


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest error relative to the largest magnitude of the reference."""
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def _inputs(
    seed: int, batch: int, ch: int, n: int, L: int, groups: int, delta_scale: float = 1.0
) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, ch, L, generator=g)
    delta = torch.randn(batch, ch, L, generator=g) * delta_scale
    A = -torch.exp(torch.randn(ch, n, generator=g))
    B = torch.randn(batch, groups, n, L, generator=g)
    C = torch.randn(batch, groups, n, L, generator=g)
    D = torch.randn(ch, generator=g)
    bias = torch.randn(ch, generator=g) * 0.5
    h0 = torch.randn(batch, ch, n, generator=g)
    return [u, delta, A, B, C, D, bias, h0]


# (batch, channels, d_state, L, groups, chunk): chunks that divide L, that do not, longer than
# L, of one token, and long enough for the chunk-end scan to recurse (L / chunk > chunk)
SHAPES = [
    (1, 4, 3, 64, 1, 16),
    (2, 6, 4, 37, 2, 8),
    (1, 8, 8, 100, 4, 7),
    (2, 3, 2, 5, 1, 64),
    (1, 2, 5, 33, 2, 1),
    (1, 4, 4, 700, 1, 5),
    (3, 12, 8, 96, 4, 32),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_chunked_forward_and_state_match_oracle(shape: tuple[int, ...]) -> None:
    batch, ch, n, L, groups, chunk = shape
    u, delta, A, B, C, D, bias, h0 = _inputs(sum(shape), batch, ch, n, L, groups)
    y_ref, h_ref = selective_scan_oracle(u, delta, A, B, C, D, bias, True, h0, True)
    # with autograd (out-of-place path) and without (in-place path in blocks of 2 chunks)
    y_g, h_g = selective_scan_chunked(
        u.requires_grad_(), delta, A, B, C, D, bias, True, chunk, h0, True
    )
    with torch.no_grad():
        y_n, h_n = selective_scan_chunked(
            u, delta, A, B, C, D, bias, True, chunk, h0, True, block=2 * chunk
        )
    assert y_g.dtype == torch.float32
    for y, h in ((y_g, h_g), (y_n, h_n)):
        assert _rel(y, y_ref) < TOL
        assert _rel(h, h_ref) < TOL


@pytest.mark.parametrize("shape", SHAPES[:5])
def test_chunked_gradients_match_oracle(shape: tuple[int, ...]) -> None:
    batch, ch, n, L, groups, chunk = shape
    base = _inputs(100 + sum(shape), batch, ch, n, L, groups)
    g = torch.Generator().manual_seed(7)
    gy = torch.randn(batch, ch, L, generator=g)
    gh = torch.randn(batch, ch, n, generator=g)

    def grads(fn, dtype: torch.dtype, **kw) -> list[torch.Tensor]:
        xs = [t.to(dtype).clone().requires_grad_() for t in base]
        y, h = fn(*xs[:7], True, initial_state=xs[7], return_last_state=True, **kw)
        loss = (y * gy.to(y.dtype)).sum() + (h * gh.to(h.dtype)).sum()
        return list(torch.autograd.grad(loss, xs))

    ref = grads(selective_scan_oracle, torch.float64)
    names = ["u", "delta", "A", "B", "C", "D", "delta_bias", "h0"]
    # the whole sequence as one stretch, and stretches of two chunks (the last one short)
    for block in (None, 2 * chunk):
        got = grads(selective_scan_chunked, torch.float32, chunk=chunk, block=block)
        for name, a, b in zip(names, got, ref, strict=True):
            assert _rel(a, b) < TOL, (name, block)


def test_chunked_gradient_keeps_only_inputs_and_stretch_states() -> None:
    """What autograd keeps for the backward pass: the inputs and one state per stretch, not
    the steps of the chunk loops (those are recomputed)."""
    batch, ch, n, L, groups = 2, 16, 8, 512, 4
    xs = [t.requires_grad_() for t in _inputs(11, batch, ch, n, L, groups)]
    saved: list[int] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = selective_scan_chunked(*xs[:7], True, 16, xs[7], block=128)
    inputs = sum(t.numel() for t in xs)
    assert sum(saved) < 4 * inputs, (sum(saved), inputs)
    y.sum().backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in xs)


@pytest.mark.parametrize(
    ("scale", "offset"),
    [(30.0, 0.0), (1.0, 40.0), (1.0, -40.0), (60.0, -10.0)],
    ids=["wide", "huge-steps", "tiny-steps", "mixed"],
)
def test_chunked_is_stable_for_extreme_step_sizes(scale: float, offset: float) -> None:
    """Steps from 1e-17 to about 100 (decays underflowing to 0): forward and gradients exact."""
    base = _inputs(3, 2, 6, 4, 150, 2, delta_scale=scale)
    base[2] = base[2] * 10.0  # decay rates up to ~100 per unit step: exp(delta * A) reaches 0
    base[1] = base[1] + offset
    g = torch.Generator().manual_seed(4)
    gy, gh = torch.randn(2, 6, 150, generator=g), torch.randn(2, 6, 4, generator=g)

    def run(fn, dtype, **kw):
        xs = [t.to(dtype).clone().requires_grad_() for t in base]
        y, h = fn(*xs[:7], True, initial_state=xs[7], return_last_state=True, **kw)
        grads = torch.autograd.grad((y * gy.to(dtype)).sum() + (h * gh.to(dtype)).sum(), xs)
        return y, h, grads

    y_ref, h_ref, g_ref = run(selective_scan_oracle, torch.float64)
    y, h, grads = run(selective_scan_chunked, torch.float32, chunk=16, block=48)
    with torch.no_grad():
        y_n = selective_scan_chunked(*base[:7], True, 16, base[7], block=32)
    for t in (y, h, y_n, *grads):
        assert torch.isfinite(t).all()
    assert _rel(y, y_ref) < TOL and _rel(h, h_ref) < TOL and _rel(y_n, y_ref) < TOL
    for a, b in zip(grads, g_ref, strict=True):
        assert _rel(a, b) < TOL


def test_chunked_without_softplus_bias_or_skip() -> None:
    u, delta, A, B, C, _, _, _ = _inputs(5, 1, 4, 3, 40, 1)
    delta = delta.abs()
    ref = selective_scan_oracle(u, delta, A, B[:, 0], C[:, 0], None, None, False)
    got = selective_scan_chunked(u, delta, A, B[:, 0], C[:, 0], None, None, False, chunk=6)
    assert _rel(got, ref) < TOL


def test_state_carried_between_calls_equals_one_call() -> None:
    u, delta, A, B, C, D, bias, _ = _inputs(9, 1, 4, 4, 90, 2)
    whole = selective_scan_chunked(u, delta, A, B, C, D, bias, True, 8)
    y1, h = selective_scan_chunked(
        u[..., :41],
        delta[..., :41],
        A,
        B[..., :41],
        C[..., :41],
        D,
        bias,
        True,
        8,
        return_last_state=True,
    )
    y2 = selective_scan_chunked(
        u[..., 41:],
        delta[..., 41:],
        A,
        B[..., 41:],
        C[..., 41:],
        D,
        bias,
        True,
        8,
        initial_state=h,
    )
    assert _rel(torch.cat([y1, y2], dim=-1), whole) < 1e-6


def test_dispatcher_engines_agree_and_cuda_is_refused_on_cpu() -> None:
    u, delta, A, B, C, D, bias, _ = _inputs(11, 2, 8, 4, 50, 4)
    y_auto = selective_scan(u, delta, A, B, C, D, bias)
    y_chunked = selective_scan(u, delta, A, B, C, D, bias, engine="chunked", chunk=9)
    y_oracle = selective_scan(u, delta, A, B, C, D, bias, engine="oracle")
    assert y_oracle.dtype == torch.float64
    assert _rel(y_auto, y_oracle) < TOL and _rel(y_chunked, y_oracle) < TOL
    with pytest.raises(InputError):
        selective_scan(u, delta, A, B, C, D, bias, engine="cuda")
    with pytest.raises(InputError):
        selective_scan(u, delta, A, B, C, D, bias, engine="fast")


def test_cpu_scan_never_imports_the_cuda_extension() -> None:
    code = (
        "import sys, torch\n"
        "from backend.ops.selective_scan import selective_scan\n"
        "u = torch.randn(1, 2, 9); A = -torch.ones(2, 3); B = torch.randn(1, 1, 3, 9)\n"
        "selective_scan(u, u, A, B, B, None, None)\n"
        "print(any(m.startswith('mamba_ssm') for m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "False"

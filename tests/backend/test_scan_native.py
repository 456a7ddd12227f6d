"""The native CPU scan (compiled C loop) equals the float64 oracle; it is built, cached, chosen
automatically on a CPU, and the chunked scan takes over without a compiler or for gradients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from backend.device import scan_engine
from backend.errors import InputError
from backend.model.config import MMMambaConfig
from backend.model.network import MMMamba
from backend.ops.scan_chunked import selective_scan_chunked
from backend.ops.scan_native import cache_dir, native_scan, native_scan_available
from backend.ops.scan_oracle import selective_scan_oracle
from backend.ops.selective_scan import selective_scan
from tests.backend.test_scan import _inputs, _rel
from tests.conftest import REPO

TOL = 1e-5

# (batch, channels, d_state, L, groups): channels above the C code's 128 per call (split into
# ranges), odd sizes, one token, several groups
SHAPES = [
    (1, 4, 3, 64, 1),
    (2, 6, 4, 37, 2),
    (1, 8, 8, 100, 4),
    (2, 3, 2, 1, 1),
    (1, 340, 8, 70, 4),
    (3, 12, 16, 96, 4),
    (1, 300, 5, 20, 1),
]


def test_the_library_builds_here() -> None:
    """The set-up installs a C compiler, so the native engine must be there (not skipped)."""
    assert native_scan_available()
    assert scan_engine("cpu") == "native"
    assert list(cache_dir().glob("selective_scan-*.so"))


@pytest.mark.parametrize("shape", SHAPES)
def test_native_forward_and_state_match_oracle(shape: tuple[int, ...]) -> None:
    batch, ch, n, L, groups = shape
    u, delta, A, B, C, D, bias, h0 = _inputs(sum(shape), batch, ch, n, L, groups)
    y_ref, h_ref = selective_scan_oracle(u, delta, A, B, C, D, bias, True, h0, True)
    y, h = native_scan(u, delta, A, B, C, D, bias, True, h0, True)
    assert y.dtype == torch.float32 and y.shape == u.shape and h.shape == h0.shape
    assert _rel(y, y_ref) < TOL and _rel(h, h_ref) < TOL
    # one thread and several threads give the same numbers (channel ranges are independent)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        y1 = native_scan(u, delta, A, B, C, D, bias, True, h0)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(y1, y)


@pytest.mark.parametrize(
    ("scale", "offset"),
    [(30.0, 0.0), (1.0, 40.0), (1.0, -40.0), (60.0, -10.0)],
    ids=["wide", "huge-steps", "tiny-steps", "mixed"],
)
def test_native_is_stable_for_extreme_step_sizes(scale: float, offset: float) -> None:
    """Steps from 1e-17 to about 100: decays underflow to 0 or stay at 1, results stay exact."""
    u, delta, A, B, C, D, bias, h0 = _inputs(3, 2, 6, 4, 150, 2, delta_scale=scale)
    A = A * 10.0
    delta = delta + offset
    y_ref, h_ref = selective_scan_oracle(u, delta, A, B, C, D, bias, True, h0, True)
    y, h = native_scan(u, delta, A, B, C, D, bias, True, h0, True)
    assert torch.isfinite(y).all() and torch.isfinite(h).all()
    assert _rel(y, y_ref) < TOL and _rel(h, h_ref) < TOL


def test_native_without_softplus_bias_or_skip_and_split_sequence() -> None:
    u, delta, A, B, C, D, bias, _ = _inputs(5, 1, 4, 3, 40, 1)
    delta = delta.abs()
    ref = selective_scan_oracle(u, delta, A, B[:, 0], C[:, 0], None, None, False)
    got = native_scan(u, delta, A, B[:, 0], C[:, 0], None, None, False)
    assert _rel(got, ref) < TOL
    # two calls with the state carried give the one-call result
    whole = native_scan(u, delta, A, B, C, D, bias, True)
    y1, h = native_scan(u[..., :17], delta[..., :17], A, B[..., :17], C[..., :17], D, bias,
                        True, return_last_state=True)  # fmt: skip
    y2 = native_scan(u[..., 17:], delta[..., 17:], A, B[..., 17:], C[..., 17:], D, bias, True, h)
    assert _rel(torch.cat([y1, y2], dim=-1), whole) < 1e-6


def test_dispatcher_uses_chunked_gradients_with_the_native_engine() -> None:
    """Training through engine "native" (or "auto" on a CPU) still gets exact gradients."""
    base = _inputs(7, 2, 8, 4, 60, 4)[:7]
    grads = {}
    for engine in ("native", "chunked"):
        xs = [t.clone().requires_grad_() for t in base]
        y = selective_scan(*xs, engine=engine)
        grads[engine] = torch.autograd.grad(y.square().sum(), xs)
    for a, b in zip(grads["native"], grads["chunked"], strict=True):
        assert _rel(a, b) < 1e-6
    with torch.no_grad():
        y_nat = selective_scan(*base, engine="native")
        y_chk = selective_scan_chunked(*base)
    assert _rel(y_nat, y_chk) < TOL
    with pytest.raises(InputError):
        scan_engine("meta", "native")


def test_network_native_equals_chunked_on_a_non_square_input() -> None:
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig(ms_bands=3, ratio=2, width=16, n_blocks=2)).eval()
    pan, ms = torch.rand(1, 1, 46, 30), torch.rand(1, 3, 23, 15)
    with torch.inference_mode():
        net.set_scan("chunked")
        ref = net(pan, ms)
        net.set_scan("native")
        nat = net(pan, ms)
        net.set_scan("native", path="full")
        full = net(pan, ms)
    assert _rel(nat, ref) < TOL and _rel(full, ref) < TOL


def _engine_in_subprocess(env: dict[str, str]) -> tuple[str, str]:
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "from backend.device import scan_engine\n"
        "print(scan_engine('cpu'))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout.strip(), res.stderr


def test_without_a_compiler_or_when_disabled_the_chunked_scan_is_used(tmp_path: Path) -> None:
    engine, err = _engine_in_subprocess({"MMMAMBA_NATIVE_SCAN": "0"})
    assert engine == "chunked" and "disabled by MMMAMBA_NATIVE_SCAN" in err
    # a compiler that fails, in an empty cache: nothing half-built is left behind
    cache = tmp_path / "cache"
    engine, err = _engine_in_subprocess({"CC": "false", "MMMAMBA_CACHE": str(cache)})
    assert engine == "chunked" and "could not build" in err
    assert not any(cache.iterdir())
    engine, err = _engine_in_subprocess({"CC": "no-such-compiler", "MMMAMBA_CACHE": str(cache)})
    assert engine == "chunked" and "no C compiler" in err


def test_library_is_built_once_per_cache_and_reused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for _ in range(2):
        engine, _ = _engine_in_subprocess({"MMMAMBA_CACHE": str(cache)})
        assert engine == "native"
    libs = list(cache.glob("selective_scan-*.so"))
    assert len(libs) == 1 and not list(cache.glob("*.tmp*"))


def test_outputs_added_at_their_source_rows_equal_a_scatter_add() -> None:
    """The inference path's fused scatter: acc[rows[g, t]] += y[g, t], on 1 and 2 threads."""
    from backend.ops.scan_native import native_scan_grouped

    g = torch.Generator().manual_seed(9)
    b, G, L, dg, n, R = 2, 4, 37, 85, 8, 200
    u, delta = torch.randn(b, G, L, dg, generator=g), torch.randn(b, G, L, dg, generator=g)
    A = -torch.exp(torch.randn(G, dg, n, generator=g))
    B, C = torch.randn(b, G, L, n, generator=g), torch.randn(b, G, L, n, generator=g)
    D, bias = torch.randn(G, dg, generator=g), torch.randn(G, dg, generator=g)
    # every direction visits distinct rows, different directions share rows
    rows = torch.stack([torch.randperm(R, generator=g)[:L] for _ in range(G)])
    y, h = native_scan_grouped(u, delta, A, B, C, D, bias)
    ref = torch.randn(b, R, dg, generator=g)
    start = ref.clone()
    for k in range(G):
        ref.index_add_(1, rows[k], y[:, k])
    for threads in (1, 2):
        acc = start.clone()
        none, h2 = native_scan_grouped(
            u, delta, A, B, C, D, bias, threads=threads, add_into=(acc, rows)
        )
        assert none is None and torch.equal(h2, h)
        assert _rel(acc, ref) < 1e-6
    with pytest.raises(ValueError):
        native_scan_grouped(u, delta, A, B, C, D, bias, add_into=(start.clone(), rows + R))

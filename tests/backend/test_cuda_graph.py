"""CUDA graphs of the fused inference forward (`backend.cuda_graph`).

Without CUDA only the eager fallback runs; the graph cases need a GPU and run on the GPU machine
(`TRITON_INTERPRET=0 python -m pytest tests/backend/test_cuda_graph.py`). They use the default
network size, whose kernels the benchmarks compile anyway.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backend import cuda_graph
from backend.fuse import fuse_arrays
from backend.model.network import MMMamba

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _net(device: str) -> MMMamba:
    torch.manual_seed(0)
    net = MMMamba()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # weights away from their initial values
        for q in net.parameters():
            q.add_(0.05 * torch.randn(q.shape, generator=g))
    return net.to(device).eval()


def _inputs(device: str, seed: int, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    pan = torch.rand(1, 1, size, size, generator=g)
    ms = torch.rand(1, 4, size // 4, size // 4, generator=g)
    return pan.to(device), ms.to(device)


@pytest.fixture(autouse=True)
def _graphs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Graphs are opt-in; these tests switch them on."""
    monkeypatch.setattr(cuda_graph, "ENABLED", True)


def _fwd(net: MMMamba):
    return lambda p, m: net(p, m)


def test_without_cuda_calls_run_eagerly() -> None:
    net = _net("cpu")
    pan, ms = _inputs("cpu", 0, size=16)
    with torch.inference_mode():
        assert not cuda_graph.graphs_apply(net, pan)
        assert not cuda_graph.prime_graph(net, _fwd(net), pan, ms)
        ref = net(pan, ms)
        assert torch.equal(cuda_graph.run_graphed(net, _fwd(net), pan, ms), ref)
    assert net not in cuda_graph._GRAPHS


@cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16-scan"])
def test_replays_match_the_eager_forward(precision: str) -> None:
    """Each replay equals the eager forward on that call's own inputs, bit for bit."""
    net = _net("cuda")
    net.set_precision(precision)
    a, b = _inputs("cuda", 1), _inputs("cuda", 2)
    with torch.inference_mode():
        assert cuda_graph.prime_graph(net, _fwd(net), *a)
        ref_a, ref_b = net(*a), net(*b)
        outs = [cuda_graph.run_graphed(net, _fwd(net), *x) for x in (a, b, a, b)]
    assert cuda_graph._GRAPHS[net].graph is not None
    for out, ref in zip(outs, (ref_a, ref_b, ref_a, ref_b), strict=True):
        assert torch.equal(out, ref)
    assert outs[2].data_ptr() != outs[3].data_ptr()  # every call gets a tensor of its own


@cuda
def test_weight_updates_settings_and_shapes_run_eagerly() -> None:
    net = _net("cuda")
    a = _inputs("cuda", 3)

    def check(x: tuple[torch.Tensor, torch.Tensor]) -> None:
        assert cuda_graph.prime_graph(net, _fwd(net), *a)
        out = cuda_graph.run_graphed(net, _fwd(net), *x)
        assert net not in cuda_graph._GRAPHS  # the stale graph is dropped
        assert torch.equal(out, net(*x))

    with torch.inference_mode():
        cuda_graph.prime_graph(net, _fwd(net), *a)
        with torch.no_grad():
            next(net.parameters()).add_(0.5)  # in place: a stale graph would miss it
        out = cuda_graph.run_graphed(net, _fwd(net), *a)
        assert net not in cuda_graph._GRAPHS and torch.equal(out, net(*a))
        cuda_graph.prime_graph(net, _fwd(net), *a)
        net.set_precision("bf16-scan")
        out = cuda_graph.run_graphed(net, _fwd(net), *a)
        assert net not in cuda_graph._GRAPHS and torch.equal(out, net(*a))
        check(_inputs("cuda", 4, size=96))  # another tile shape


@cuda
def test_tiled_engine_gives_the_same_result_with_graphs() -> None:
    """The threaded engine primes a graph per replica before its threads start; the fused
    scene equals the one fused without graphs."""
    rng = np.random.default_rng(5)
    pan = rng.uniform(100, 900, (256, 192)).astype(np.float32)
    ms = rng.uniform(100, 900, (4, 64, 48)).astype(np.float32)
    net = _net("cuda")
    with_graphs = fuse_arrays(pan, ms, model=net, device="cuda", tile=128, overlap=32)
    assert cuda_graph._GRAPHS[net].graph is not None
    cuda_graph.drop_graphs()
    cuda_graph.ENABLED = False
    try:
        eager = fuse_arrays(pan, ms, model=net, device="cuda", tile=128, overlap=32)
    finally:
        cuda_graph.ENABLED = True
    assert net not in cuda_graph._GRAPHS
    np.testing.assert_array_equal(with_graphs, eager)

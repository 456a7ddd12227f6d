"""CUDA graphs of the fused inference forward: a tile shape captured once, replayed per tile.

A fused forward is about 150 kernel launches. Their Python and Triton launch work keeps a CPU
thread busy for much of the time the GPU needs for the tile (under the profiler: 59 ms of CPU for
70 ms of GPU on a 1024^2 tile, H200), and in a tiled run that CPU time is shared, under one
interpreter lock, with the reader, the writer and the other GPUs' workers. A CUDA graph replays
all launches in one call.

Graphs are used only for the fused Triton path on CUDA without autograd. `prime_graph` captures
one for a call's key (shapes, dtypes, network settings, launch shapes, weights) after an eager
call (which compiles the kernels and packs the weights); `run_graphed` replays it for calls with
that key and runs any other call eagerly (a last, smaller batch; changed weights or settings),
dropping the stale graph. Capture must not overlap CUDA work of other threads on the legacy
default stream (it would invalidate the capture), so the tiled engine primes every replica before
its threads start. Each network keeps at most one graph. Replays give the same numbers as the
eager forward (the same kernels on the same inputs).

Graphs are opt-in: `MMMAMBA_CUDA_GRAPHS=1` in the environment (or `ENABLED = True`) turns them
on. Measured (H200, bf16-scan): a 1024^2 tile 70.4 ms replayed against 71.1 ms eager; an 8192^2
scene through the tiled engine 12.69 Mpx/s with graphs against 12.56-12.80 without (the engine
already launches the next tile before it fetches the last one, `backend.tile_stream`).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

ENABLED = os.environ.get("MMMAMBA_CUDA_GRAPHS", "0") == "1"


@dataclass
class _Graph:
    """The last key seen for one network and, once captured, its graph and static tensors."""

    key: tuple
    graph: Any = None  # torch.cuda.CUDAGraph
    pan: torch.Tensor | None = None
    ms: torch.Tensor | None = None
    out: torch.Tensor | None = None
    keep: tuple = ()  # tensors made outside the capture that the graph reads


_GRAPHS: weakref.WeakKeyDictionary[torch.nn.Module, _Graph] = weakref.WeakKeyDictionary()


def graphs_apply(net: torch.nn.Module, pan: torch.Tensor) -> bool:
    """True if calls of `net` on tensors like `pan` may be replayed from a CUDA graph."""
    uses_fused = getattr(net, "uses_fused", None)
    return (
        ENABLED
        and pan.is_cuda
        and not torch.is_grad_enabled()
        and uses_fused is not None
        and bool(uses_fused(pan.device))
    )


def _key(net: torch.nn.Module, pan: torch.Tensor, ms: torch.Tensor) -> tuple:
    from .ops import fused_triton, scan_triton

    mixers = tuple(
        (b.mixer.engine, b.mixer.chunk, b.mixer.path, b.mixer.scan_dtype)
        for b in getattr(net, "blocks", ())
    )
    return (
        tuple(pan.shape), pan.dtype, tuple(ms.shape), ms.dtype, pan.device,
        getattr(net, "precision", None), getattr(net, "fused", None),
        getattr(net, "channels_last", None), mixers,
        scan_triton.LAUNCH, tuple(sorted(fused_triton.LAUNCH.items())),
        tuple((q.data_ptr(), q._version) for q in net.parameters()),
    )  # fmt: skip


def prime_graph(
    net: torch.nn.Module,
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    pan: torch.Tensor,
    ms: torch.Tensor,
) -> bool:
    """Run `fn(pan, ms)` (a forward of `net`) eagerly once and capture it as a CUDA graph for
    later calls with the same key; no other thread may use CUDA meanwhile. Returns whether a
    graph is ready (False where `graphs_apply` is False).

    Args:
        net: the network `fn` runs (its settings and weights are part of the graph's key).
        fn: the forward, e.g. `lambda p, m: net(p, m)`; it must not synchronise with the host.
        pan: (B, 1, H, W) on a CUDA device; ms: (B, C, h, w) on the same device (their values
            do not matter, only their shapes and dtypes).
    """
    if not graphs_apply(net, pan):
        return False
    key = _key(net, pan, ms)
    st = _GRAPHS.get(net)
    if st is not None and st.key == key:
        return True
    _GRAPHS.pop(net, None)  # frees an older graph first
    with torch.cuda.device(pan.device):
        fn(pan, ms)  # compiles kernels, packs weights: nothing lazy is left for the capture
        torch.cuda.synchronize()
        # packed weights live in a cache that may drop them: the graph keeps them alive
        from .ops import fused_triton

        keep = tuple(packed for _, packed in fused_triton._packed.values())
        st = _Graph(key, pan=pan.clone(), ms=ms.clone(), keep=keep)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            st.out = fn(st.pan, st.ms)
        st.graph = graph
        # the eager call's cached blocks: replays use the graph's own memory pool
        torch.cuda.empty_cache()
    _GRAPHS[net] = st
    return True


def run_graphed(
    net: torch.nn.Module,
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    pan: torch.Tensor,
    ms: torch.Tensor,
) -> torch.Tensor:
    """`fn(pan, ms)`, replayed from the graph `prime_graph` captured when the key matches, else
    run eagerly (a graph with another key is dropped). Safe while other threads use CUDA.

    Args:
        net, fn: as for `prime_graph`.
        pan: (B, 1, H, W); ms: (B, C, h, w).

    Returns:
        What `fn` returns, (B, C, H, W), in a tensor of its own.
    """
    st = _GRAPHS.get(net)
    if st is None or not graphs_apply(net, pan):
        return fn(pan, ms)
    if st.key != _key(net, pan, ms):
        _GRAPHS.pop(net, None)
        return fn(pan, ms)
    with torch.cuda.device(pan.device):
        st.pan.copy_(pan)
        st.ms.copy_(ms)
        st.graph.replay()
        return st.out.clone()


def drop_graphs() -> None:
    """Forget every captured graph (frees their memory once no replay is running)."""
    _GRAPHS.clear()

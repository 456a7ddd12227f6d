"""Batches submitted ahead of their results (`backend.tile_stream`): same numbers as a direct
call, on the CPU and (on a GPU machine) with copies on their own CUDA streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backend.fuse import ArraySource, load_fusion_model, make_grid, run_fusion
from backend.model.config import MMMambaConfig
from backend.model.network import MMMamba
from backend.multi_device import run_fusion_threaded
from backend.normalize import stats_from_arrays
from backend.tile_stream import TileStream

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _forward(pan: torch.Tensor, ms: torch.Tensor) -> torch.Tensor:
    """A stand-in network with enough work to still be running when the next batch comes."""
    up = torch.nn.functional.interpolate(ms, size=pan.shape[-2:], mode="bilinear")
    for _ in range(20):
        up = torch.tanh(up @ up.transpose(-1, -2) / up.shape[-1]) + up
    return up * pan


def _batches(n: int, size: int = 64) -> list[tuple[np.ndarray, np.ndarray]]:
    g = np.random.default_rng(0)
    return [
        (
            g.random((2, 1, size, size), dtype=np.float32),
            g.random((2, 4, size // 4, size // 4), dtype=np.float32),
        )
        for _ in range(n)
    ]


def _direct(device: str, pan: np.ndarray, ms: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        p, m = torch.from_numpy(pan).to(device), torch.from_numpy(ms).to(device)
        return _forward(p, m).cpu().numpy()


def test_cpu_stream_gives_the_direct_result() -> None:
    stream = TileStream(torch.device("cpu"), _forward)
    for pan, ms in _batches(2):
        out = stream.fetch(stream.submit(pan, ms))
        assert out.shape == (2, 4, 64, 64) and out.dtype == np.float32
        np.testing.assert_array_equal(out, _direct("cpu", pan, ms))


@cuda
def test_cuda_stream_submitted_ahead_gives_the_direct_result() -> None:
    """Three batches in flight before the first is fetched, inputs released right away."""
    stream = TileStream(torch.device("cuda:0"), _forward)
    batches = _batches(3, 512)
    tickets = [stream.submit(pan.copy(), ms.copy()) for pan, ms in batches]
    for (pan, ms), ticket in zip(batches, tickets, strict=True):
        np.testing.assert_allclose(stream.fetch(ticket), _direct("cuda:0", pan, ms), rtol=1e-5)


@cuda
def test_threaded_engine_on_a_gpu_matches_the_cpu() -> None:
    """The whole tiled engine with batches submitted ahead (GPU) against the CPU's sequential
    engine: the same tiles, blended the same way, up to TF32 arithmetic."""
    g = np.random.default_rng(3)
    pan = g.random((96, 96), dtype=np.float32)
    ms = g.random((4, 24, 24), dtype=np.float32)
    source = ArraySource(pan, ms, None, None, 4)
    stats = stats_from_arrays(source.pan, source.ms, source.pan_valid, source.ms_valid)
    grid = make_grid(96, 96, 4, 32, 8)
    outs = []
    for device, run in (("cpu", run_fusion), ("cuda:0", run_fusion_threaded)):
        out = np.full((4, 96, 96), -7.0, np.float32)

        def sink(win, values, out=out):
            out[(slice(None), *win.slices())] = values

        torch.manual_seed(0)  # the same random-initialised tiny network on both devices
        fm = load_fusion_model(MMMamba(MMMambaConfig.tiny(4, 4)), 4, 4, device)
        assert run(source, grid, fm, stats, sink, batch=2) == len(grid)
        outs.append(out)
    assert not (outs[1] == -7.0).any()
    np.testing.assert_allclose(outs[1], outs[0], rtol=2e-3, atol=2e-3)

"""Tiles spread over several devices: device lists, same output as one device, cancellation.

Several CPU "devices" (`cpu,cpu`) exercise the dispatcher here exactly as GPUs would: one model
replica and one worker thread per entry, a reader thread, blending in tile order.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from osgeo import gdal

from backend import multi_device
from backend.errors import Cancelled, InputError
from backend.fuse import ArraySource, fuse_arrays, make_grid, run_fusion
from backend.model.config import MMMambaConfig
from backend.model.network import MMMamba
from backend.multi_device import (
    MultiDeviceModel,
    load_multi_device,
    parse_devices,
    run_fusion_threaded,
)
from backend.normalize import stats_from_arrays
from backend.pansharpen import pansharpen
from tests.backend.raster_fixtures import pan_ms_pair, tiny_model


def _net(seed: int = 0) -> MMMamba:
    torch.manual_seed(seed)
    return MMMamba(MMMambaConfig.tiny(4, 4)).eval()


def _scene(size: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    pan = 400 + 150 * np.sin(xx / 6.0) * np.cos(yy / 9.0) + 20 * rng.standard_normal(xx.shape)
    h = size // 4
    ms = np.stack([pan.reshape(h, 4, h, 4).mean(axis=(1, 3)) * (0.5 + 0.2 * b) for b in range(4)])
    return pan.astype(np.float32), ms.astype(np.float32)


def test_device_lists() -> None:
    assert parse_devices("cpu,cpu") == [torch.device("cpu")] * 2
    assert parse_devices(" CPU , cpu ,cpu") == [torch.device("cpu")] * 3
    if not torch.cuda.is_available():
        assert parse_devices("all") == [torch.device("cpu")]
        with pytest.raises(InputError, match="CUDA"):
            parse_devices("cuda:0,cuda:1")
    with pytest.raises(InputError, match="empty entry"):
        parse_devices("cpu,")
    with pytest.raises(InputError, match="Unknown device"):
        parse_devices("cpu,gpu7")


def test_replicas_are_independent_copies() -> None:
    fm = load_multi_device(_net(), 4, 4, "cpu,cpu,cpu")
    assert isinstance(fm, MultiDeviceModel) and len(fm.devices) == 3
    nets = [r.net for r in fm.replicas]
    assert nets[0] is fm.net and len({id(n) for n in nets}) == 3
    for a, b in zip(nets[0].parameters(), nets[2].parameters(), strict=True):
        assert a.data_ptr() != b.data_ptr() and torch.equal(a, b)
    single = load_multi_device(_net(), 4, 4, "all" if not torch.cuda.is_available() else "cpu")
    assert not isinstance(single, MultiDeviceModel)


@pytest.mark.parametrize("batch", [1, 3])
def test_two_devices_give_the_one_device_result(batch: int) -> None:
    pan, ms = _scene()
    pan[10:30, 50:90] = -1  # nodata area: skipped pixels and partly invalid tiles
    net = _net()
    kw = {"tile": 32, "overlap": 8, "batch": batch, "pan_nodata": -1.0}
    one = fuse_arrays(pan, ms, model=net, device="cpu", **kw)
    two = fuse_arrays(pan, ms, model=net, device="cpu,cpu", **kw)
    assert np.isnan(one[:, 15, 60]).all() and np.isfinite(one[:, 60, 10]).all()
    np.testing.assert_array_equal(np.isnan(one), np.isnan(two))
    np.testing.assert_allclose(two, one, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize(("devices", "in_flight"), [("cpu", 3), ("cpu", 1), ("cpu,cpu", 1)])
def test_threaded_engine_counts_tiles_and_matches_sequential(
    devices: str, in_flight: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same output as the sequential engine, also with one batch read ahead per device: a
    worker holding a submitted batch hands it over when no next batch is waiting (with two
    workers, holding it would leave the batch the blending waits for stuck)."""
    monkeypatch.setattr(multi_device, "IN_FLIGHT_PER_DEVICE", in_flight)
    pan, ms = _scene(seed=1)
    pan[:40, :40] = np.nan  # a whole tile without valid pixel is never sent to a device
    source = ArraySource(pan, ms, None, None, 4)
    stats = stats_from_arrays(source.pan, source.ms, source.pan_valid, source.ms_valid)
    grid = make_grid(96, 96, 4, 32, 0)
    outs = []
    for run in (run_fusion, run_fusion_threaded):
        fm = load_multi_device(_net(), 4, 4, devices if run is run_fusion_threaded else "cpu")
        out = np.full((4, 96, 96), -7.0, np.float32)

        def sink(win, values, out=out):
            out[(slice(None), *win.slices())] = values

        ran = run(source, grid, fm, stats, sink, batch=2)
        assert ran == len(grid) - 1
        outs.append(out)
    assert not (outs[1] == -7.0).any()  # every pixel written
    np.testing.assert_array_equal(outs[0], outs[1])


def test_cancel_stops_every_thread() -> None:
    pan, ms = _scene(size=128)

    class CancelAfter:
        calls = 0

        def set_fraction(self, f: float) -> None:
            pass

        def info(self, m: str) -> None:
            pass

        def is_cancelled(self) -> bool:
            self.calls += 1
            return self.calls > 3

    before = threading.active_count()
    with pytest.raises(Cancelled):
        fuse_arrays(
            pan, ms, model=_net(), device="cpu,cpu", tile=32, overlap=0, progress=CancelAfter()
        )
    assert threading.active_count() == before


def test_pansharpen_files_on_two_devices(tmp_path: Path) -> None:
    pan, ms, _, _ = pan_ms_pair(tmp_path, size=96)
    model = tiny_model(tmp_path)
    kw = {"model": model, "tile": 48, "overlap": 8, "batch": 2}
    a = pansharpen(pan, ms, tmp_path / "a.tif", device="cpu", **kw)
    b = pansharpen(pan, ms, tmp_path / "b.tif", device="cpu,cpu", **kw)
    assert b.tiles_run == a.tiles_run == a.tiles
    x = gdal.Open(str(a.path)).ReadAsArray().astype(int)
    y = gdal.Open(str(b.path)).ReadAsArray().astype(int)
    assert x.shape == (4, 96, 96) and np.abs(x - y).max() <= 1


def test_a_failing_sink_stops_the_run() -> None:
    pan, ms = _scene(size=96)
    source = ArraySource(pan, ms, None, None, 4)
    stats = stats_from_arrays(source.pan, source.ms)
    fm = load_multi_device(_net(), 4, 4, "cpu,cpu")
    calls = []

    def sink(win, values):
        calls.append(win)
        if len(calls) == 3:
            raise OSError("disk full")

    before = threading.active_count()
    with pytest.raises(OSError, match="disk full"):
        run_fusion(source, make_grid(96, 96, 4, 32, 0), fm, stats, sink)
    assert threading.active_count() == before and len(calls) == 3

"""Tiles spread over one or several devices, with reading and blending on other threads.

`load_multi_device` loads one replica of the network per device ("all" = every CUDA GPU, or a
list such as "cuda:0,cuda:1"; "cpu,cpu" runs two CPU replicas, which the tests use).
`run_fusion_threaded` is the tiled engine of `backend.fuse.run_fusion` as a pipeline:

- one reader thread reads, normalises and fills batches of tiles in order (GDAL datasets are
  not safe to share between threads, so reads stay on one thread);
- one worker thread per device takes the next prepared batch and runs its replica; on a GPU
  it launches the next batch before it fetches the last one's result (`backend.tile_stream`),
  so the GPU does not wait for copies or the host between tiles;
- the calling thread blends the predictions back in tile order;
- a writer thread hands the finished pixels to the sink (the GeoTIFF writer) in that order, so
  the output is identical to the sequential engine's.

At most `IN_FLIGHT_PER_DEVICE` batches per device are read ahead, so memory stays bounded by a
few batches whatever the scene size. The calling thread also checks for cancellation and is the
only one that talks to `progress`.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError
from .fuse import (
    FusionModel,
    PreparedBatch,
    _batches,
    finish_batch,
    load_fusion_model,
    prepare_batch,
    prime_tile_graph,
    tile_forward,
)
from .io.tiling import BlendAccumulator, TileGrid
from .io.window import Window
from .normalize import NormStats
from .progress import Progress, check_cancelled

if TYPE_CHECKING:
    import torch

    from .fuse import TileSource
    from .tile_stream import Ticket

log = logging.getLogger(__name__)

# Batches read ahead of the blending, per device: enough to keep every device busy while the
# reader and the blending run, few enough to bound memory.
IN_FLIGHT_PER_DEVICE = 3
# Seconds between cancellation checks while waiting for a result.
POLL_SECONDS = 0.2
# Finished cells waiting for the writer thread (each at most one tile in size).
WRITE_QUEUE_CELLS = 64


def parse_devices(spec: str) -> list[torch.device]:
    """The devices named by a device spec.

    Args:
        spec: "all" (every CUDA GPU; the CPU when there is none), a comma-separated list
            ("cuda:0,cuda:1", "cpu,cpu") or one device ("auto", "cpu", "cuda", "cuda:N").

    Returns:
        One `torch.device` per worker, in the order given (a device may repeat).

    Raises:
        InputError: unknown or unavailable device, or an empty list.
    """
    import torch

    from .device import resolve_device

    text = (spec or "auto").strip().lower()
    if text == "all":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return [torch.device(f"cuda:{i}") for i in range(n)] or [torch.device("cpu")]
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise InputError(f"Device list {spec!r} has an empty entry: write e.g. cuda:0,cuda:1.")
    devices = [resolve_device(part) for part in parts]
    for dev in devices:
        if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(
                f"Device {dev} asked for but this machine has {torch.cuda.device_count()} "
                "CUDA GPU(s): use cuda:0 to cuda:N-1 or all."
            )
    return devices


@dataclass
class MultiDeviceModel(FusionModel):
    """A `FusionModel` (the first replica) plus one replica per further device."""

    replicas: list[FusionModel] = field(default_factory=list)

    @property
    def devices(self) -> list[torch.device]:
        """The device of every replica, the first one included."""
        return [fm.device for fm in self.replicas]


def load_multi_device(model: Any, ms_bands: int, ratio: int, spec: str) -> FusionModel:
    """Load a model once and copy it to every device of `spec` (see `parse_devices`).

    Returns:
        A plain `FusionModel` when `spec` names one device, else a `MultiDeviceModel`.
    """
    devices = parse_devices(spec)
    first = load_fusion_model(model, ms_bands, ratio, devices[0])
    if len(devices) == 1:
        return first
    replicas = [first]
    for dev in devices[1:]:
        net = copy.deepcopy(first.net).to(dev).eval()
        replicas.append(
            FusionModel(
                net, dev, first.name, first.path, first.ms_bands, first.ratio, first.normalisation
            )
        )
    log.info("model '%s' on %d devices: %s", first.name, len(devices), [str(d) for d in devices])
    return MultiDeviceModel(
        first.net,
        first.device,
        first.name,
        first.path,
        first.ms_bands,
        first.ratio,
        first.normalisation,
        replicas=replicas,
    )


def uses_threads(fm: FusionModel) -> bool:
    """True when the threaded engine pays: several devices, or one GPU (the CPU stays free)."""
    return isinstance(fm, MultiDeviceModel) or getattr(fm.device, "type", "cpu") == "cuda"


class _StopError(Exception):
    """Raised inside the helper threads when the run is being torn down."""


def _put(q: queue.Queue, item: Any, stop: threading.Event) -> None:
    """`q.put` that gives up when `stop` is set (the consumer may be gone)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=POLL_SECONDS)
            return
        except queue.Full:
            continue
    raise _StopError


def run_fusion_threaded(
    source: TileSource,
    grid: TileGrid,
    fm: FusionModel,
    stats: NormStats,
    sink: Callable[[Window, np.ndarray], None],
    *,
    batch: int = 1,
    progress: Progress | None = None,
) -> int:
    """`backend.fuse.run_fusion` with a reader thread and one worker thread per device.

    Same arguments, same output (tiles are blended in grid order), same return value: the
    number of tiles that ran through the network.
    """
    from .tile_stream import TileStream  # (imports torch)

    workers = fm.replicas if isinstance(fm, MultiDeviceModel) else [fm]
    groups = list(_batches(list(grid.windows()), max(1, batch)))
    if len(groups) > 1:
        # CUDA graphs of the full batch's forward, captured before any thread starts
        for replica in workers:
            prime_tile_graph(
                replica, len(groups[0]), grid.tile_height, grid.tile_width, source.ratio
            )
    n_windows = sum(len(g) for g in groups)
    acc = BlendAccumulator(grid, source.bands)
    stop = threading.Event()
    slots = threading.Semaphore(IN_FLIGHT_PER_DEVICE * len(workers))
    todo: queue.Queue = queue.Queue(maxsize=2 * len(workers))
    done: queue.Queue = queue.Queue()

    def reader() -> None:
        try:
            for i, group in enumerate(groups):
                while not slots.acquire(timeout=POLL_SECONDS):
                    if stop.is_set():
                        raise _StopError
                if stop.is_set():
                    raise _StopError
                _put(todo, (i, prepare_batch(source, group, stats)), stop)
        except _StopError:
            return
        except BaseException as exc:  # handed to the calling thread, which raises it
            done.put((-1, exc, None))
        finally:
            for _ in workers:
                try:
                    _put(todo, None, stop)
                except _StopError:
                    break

    def worker(replica: FusionModel) -> None:
        # the next batch is submitted before the last one is fetched (a GPU runs on while its
        # result comes back), unless none is waiting: then the last one is handed over first
        stream = TileStream(replica.device, tile_forward(replica, source.ratio))
        last: tuple[int, PreparedBatch, Ticket | None] | None = None

        def hand_over() -> None:
            i, prepared, ticket = last
            preds = [] if ticket is None else list(stream.fetch(ticket))
            done.put((i, prepared, preds))

        try:
            while not stop.is_set():
                try:
                    item = todo.get_nowait() if last else todo.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    if last:
                        hand_over()
                        last = None
                    continue
                if item is None:
                    break
                i, prepared = item
                ticket = None
                if prepared.pan is not None:
                    ticket = stream.submit(prepared.pan, prepared.ms)
                if last:
                    hand_over()
                last = (i, prepared, ticket)
            if last and not stop.is_set():
                hand_over()
        except BaseException as exc:  # handed to the calling thread, which raises it
            done.put((-1, exc, None))

    cells: queue.Queue = queue.Queue(maxsize=WRITE_QUEUE_CELLS)
    write_errors: list[BaseException] = []

    def writer() -> None:
        while True:
            try:
                item = cells.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            if item is None or stop.is_set():  # done, or the run is being torn down
                return
            if not write_errors:
                try:
                    sink(*item)
                except BaseException as exc:  # raised by the calling thread
                    write_errors.append(exc)

    def queue_cell(cell: Window, values: np.ndarray) -> None:
        if write_errors:
            raise write_errors[0]
        _put(cells, (cell, values), stop)

    threads = [threading.Thread(target=reader, name="mmmamba-reader", daemon=True)]
    threads += [
        threading.Thread(target=worker, args=(rep,), name=f"mmmamba-{rep.device}", daemon=True)
        for rep in workers
    ]
    write_thread = threading.Thread(target=writer, name="mmmamba-writer", daemon=True)
    for t in (*threads, write_thread):
        t.start()
    pending: dict[int, tuple[PreparedBatch, list[np.ndarray]]] = {}
    ran = finished = n_done = 0
    try:
        while finished < len(groups):
            check_cancelled(progress)
            try:
                i, prepared, preds = done.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not any(t.is_alive() for t in threads[1:]) and done.empty():
                    raise RuntimeError(
                        "every device worker stopped before the scene was done"
                    ) from None
                continue
            if i < 0:
                raise prepared  # an exception from a helper thread
            pending[i] = (prepared, preds)
            while finished in pending:
                prepared, preds = pending.pop(finished)
                finish_batch(source, grid, acc, stats, prepared, preds, queue_cell)
                ran += len(preds)
                n_done += len(prepared.windows)
                finished += 1
                slots.release()
                if progress is not None:
                    progress.set_fraction(n_done / n_windows)
        _put(cells, None, stop)  # every cell written, then the writer ends
        write_thread.join()
        if write_errors:
            raise write_errors[0]
    finally:
        stop.set()
        for t in (*threads, write_thread):
            t.join(timeout=60)
    return ran

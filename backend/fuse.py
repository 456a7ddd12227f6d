"""Tiled fusion with the network: normalise, fill nodata, predict, blend; and `fuse_arrays`.

The engine (`run_fusion`) reads tiles from a `TileSource` (arrays in memory, or GDAL files for
`backend.pansharpen`), so memory is bounded by the tile size and both paths share one behaviour.
Per tile: PAN and MS are normalised with the scene's `NormStats`, their invalid pixels are filled
from valid neighbours (`backend.fill`), the network predicts, the prediction is scaled back, and
`BlendAccumulator` blends overlapping tiles and emits finished pixels. Pixels where PAN or MS is
invalid are NaN in what the engine emits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .errors import InputError, ModelFileError
from .fill import fill_invalid
from .io.tiling import BlendAccumulator, TileGrid
from .io.window import Window
from .normalize import (
    NormStats,
    denormalize_ms,
    normalize_ms,
    normalize_pan,
    percentile_for,
    stats_from_arrays,
)
from .progress import Progress, check_cancelled

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEFAULT_TILE = 512
# GPUs: tiles of 1024 spend less on overlap (15 % more pixels than the scene against 32 % for
# 512 on an 8192^2 scene) and on per-tile work; 1024^2 needs 1.4-1.8 GiB of GPU memory
DEFAULT_TILE_GPU = 1024
# Measured with bench/seam_overlap.py (README, "tiles, overlap and seams"): without overlap the
# tile borders gain (random-initialised network: ~20x) or lose (trained: ~0.8x) gradient energy;
# from 16-32 px of overlap (tiles of 256 and 512) the border/inside energy ratio stays within
# +-5 % of the whole-scene run's. 1/8 of the tile keeps a 2-4x margin over that; the margin is
# in pixels, so large tiles (GPU) stop at 64 px instead of growing their overlap with the tile.
DEFAULT_OVERLAP_FRACTION = 0.125
DEFAULT_OVERLAP_MAX = 64


def default_overlap(tile: int, ratio: int) -> int:
    """The default overlap of tiles of `tile` PAN pixels (1/8 of the tile, at most 64), a
    multiple of `ratio`."""
    ov = min(int(tile * DEFAULT_OVERLAP_FRACTION), DEFAULT_OVERLAP_MAX)
    return round_to(max(ov, ratio), ratio)


def default_tile(device: Any) -> int:
    """The tile size used when none is given: `DEFAULT_TILE_GPU` on a CUDA device,
    `DEFAULT_TILE` elsewhere (`device`: a torch.device or its name)."""
    kind = getattr(device, "type", None) or str(device)
    return DEFAULT_TILE_GPU if kind.startswith("cuda") else DEFAULT_TILE


def round_to(value: int, multiple: int) -> int:
    """`value` rounded up to a multiple of `multiple`."""
    return -(-int(value) // multiple) * multiple


def make_grid(width: int, height: int, ratio: int, tile: int, overlap: int | None) -> TileGrid:
    """Check tile/overlap values and build the tile grid (sizes rounded up to multiples of ratio).

    Raises:
        InputError: tile too small or overlap out of range.
    """
    if tile < 4 * ratio:
        raise InputError(f"Tile size {tile} is too small: use at least {4 * ratio} PAN pixels.")
    tile = round_to(tile, ratio)  # whole MS pixels per tile
    ov = default_overlap(tile, ratio) if overlap is None else round_to(max(overlap, 0), ratio)
    if ov > tile // 2:
        raise InputError(
            f"Overlap {overlap} is too large for tile {tile}: use at most half the tile size."
        )
    return TileGrid(width=width, height=height, tile=tile, overlap=ov, align=ratio)


class TileSource(Protocol):
    """Where the engine reads PAN and MS tiles (both already on one grid)."""

    ratio: int
    width: int  # PAN pixels
    height: int
    bands: int

    def read_pan(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """`(values (h, w) float32, valid (h, w) bool)`; pixels past the area are invalid."""

    def read_ms(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """`(values (C, h, w) float32, valid (h, w) bool)` on the PAN-aligned MS grid."""


class ArraySource:
    """A `TileSource` over in-memory arrays (pan `(H, W)`, ms `(C, h, w)`, `H = r*h`)."""

    def __init__(
        self,
        pan: np.ndarray,
        ms: np.ndarray,
        pan_valid: np.ndarray | None,
        ms_valid: np.ndarray | None,
        ratio: int,
    ) -> None:
        self.pan, self.ms, self.ratio = pan, ms, ratio
        self.height, self.width = pan.shape
        self.bands = ms.shape[0]
        self.pan_valid = np.isfinite(pan) if pan_valid is None else pan_valid & np.isfinite(pan)
        finite_ms = np.isfinite(ms).all(axis=0)
        self.ms_valid = finite_ms if ms_valid is None else ms_valid & finite_ms

    @staticmethod
    def _cut(arr: np.ndarray, valid: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray]:
        h, w = valid.shape
        out = np.zeros((*arr.shape[:-2], window.height, window.width), dtype=np.float32)
        v = np.zeros((window.height, window.width), dtype=bool)
        inside = window.intersection(Window(0, 0, w, h))
        if not inside.empty:
            src = inside.slices()
            dst = inside.relative_to(window).slices()
            out[..., dst[0], dst[1]] = arr[..., src[0], src[1]]
            v[dst] = valid[src]
        return out, v

    def read_pan(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        return self._cut(self.pan, self.pan_valid, window)

    def read_ms(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        return self._cut(self.ms, self.ms_valid, window)


@dataclass
class FusionModel:
    """A network ready to run: module on its device, and where it came from."""

    net: Any  # torch.nn.Module, typed loosely to keep this module importable without torch
    device: torch.device
    name: str
    path: str | None
    ms_bands: int
    ratio: int
    normalisation: dict[str, Any] | None = None


def load_fusion_model(
    model: Any, ms_bands: int, ratio: int, device: str | torch.device = "auto"
) -> FusionModel:
    """Resolve, load and check a model for `ms_bands` bands at `ratio`.

    Args:
        model: None (the shipped model that fits `ms_bands`), a name or path of a model file,
            a `LoadedModel` from `backend.model.store`, or a `torch.nn.Module`.
        ms_bands: MS band count of the scene.
        ratio: PAN/MS ratio of the scene.
        device: "auto", "cpu", "cuda", "cuda:N", a torch.device, or several devices: "all"
            (every GPU) or a comma-separated list such as "cuda:0,cuda:1".

    Raises:
        ModelFileError: no model fits, the file is corrupt, or it expects another band count.
    """
    import torch

    from .device import resolve_device
    from .model.store import LoadedModel, load_model

    if isinstance(device, str) and ("," in device or device.strip().lower() == "all"):
        from .multi_device import load_multi_device  # several devices: one replica each

        return load_multi_device(model, ms_bands, ratio, device)
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    if isinstance(model, torch.nn.Module):
        cfg = getattr(model, "cfg", None)
        bands = int(getattr(cfg, "ms_bands", ms_bands))
        _check_bands(bands, ms_bands, "the given network")
        return FusionModel(model.to(dev).eval(), dev, "in-memory network", None, bands, ratio)
    if isinstance(model, LoadedModel):
        loaded = model
    else:
        try:
            loaded = load_model(
                None if model is None else str(model), device=str(dev), ms_bands=ms_bands
            )
        except ModelFileError as exc:
            if model is None:
                raise ModelFileError(f"{exc} Pass a model with --model NAME_OR_PATH.") from exc
            raise
    card = loaded.card
    _check_bands(card.ms_bands, ms_bands, f"the model '{card.name}'")
    if int(card.ratio) != ratio:
        log.warning(
            "model '%s' was trained at ratio %s, the scene's ratio is %d: its weights do not "
            "depend on the ratio, but quality may differ",
            card.name,
            card.ratio,
            ratio,
        )
    net = loaded.net.to(dev).eval()
    if dev.type == "cpu" and hasattr(net, "set_channels_last"):
        # channels-last weights and maps: a CPU's depth-wise convolutions run ~5x faster on
        # them (the forward pass ~20 % faster), with the same numbers
        net.set_channels_last(True)
    return FusionModel(
        net=net,
        device=dev,
        name=str(card.name),
        path=None if card.path is None else str(card.path),
        ms_bands=card.ms_bands,
        ratio=int(card.ratio),
        normalisation=card.normalisation or None,
    )


def _check_bands(model_bands: int, ms_bands: int, what: str) -> None:
    if model_bands != ms_bands:
        raise ModelFileError(
            f"{what[0].upper() + what[1:]} expects {model_bands} MS bands but the MS has "
            f"{ms_bands}: pass a model trained for {ms_bands} bands with --model."
        )


def tile_forward(
    fm: FusionModel, ratio: int
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """`forward(pan, ms)` of the network on tensors of its device (B, 1, H, W), (B, C, h, w);
    on CUDA, batches of the primed tile shape replay one captured graph of it."""
    from .cuda_graph import run_graphed

    eager = _net_forward(fm, ratio)
    return lambda p, m: run_graphed(fm.net, eager, p, m)


def _net_forward(
    fm: FusionModel, ratio: int
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The eager `forward(pan, ms)` of the network (what a CUDA graph captures)."""
    return lambda p, m: _forward(fm.net, p, m, ratio)


def prime_tile_graph(fm: FusionModel, batch: int, height: int, width: int, ratio: int) -> bool:
    """Capture the CUDA graph of the forward for batches of `batch` tiles of `height x width`
    PAN pixels (`backend.cuda_graph`); call it while no other thread uses the device."""
    import torch

    from . import cuda_graph

    if not cuda_graph.ENABLED or getattr(fm.device, "type", "cpu") != "cuda":
        return False
    with torch.inference_mode():
        p = torch.zeros(batch, 1, height, width, device=fm.device)
        m = torch.zeros(batch, fm.ms_bands, height // ratio, width // ratio, device=fm.device)
        try:
            return cuda_graph.prime_graph(fm.net, _net_forward(fm, ratio), p, m)
        except RuntimeError as exc:  # a capture the driver refuses: run eagerly
            log.warning("CUDA graph capture failed (%s): running without graphs", exc)
            return False


def _forward(net: Any, pan: torch.Tensor, ms: torch.Tensor, ratio: int) -> torch.Tensor:
    cfg = getattr(net, "cfg", None)
    if cfg is not None and int(getattr(cfg, "ratio", ratio)) != ratio:
        # The weights do not depend on the ratio: upsample the MS by the scene's ratio and fuse.
        from .model.upsample import upsample_ms

        return net.forward_upsampled(pan, upsample_ms(ms, ratio, cfg.upsample))
    return net(pan, ms)


def _batches(windows: list[Window], size: int) -> Iterator[list[Window]]:
    for i in range(0, len(windows), size):
        yield windows[i : i + size]


def run_fusion(
    source: TileSource,
    grid: TileGrid,
    fm: FusionModel,
    stats: NormStats,
    sink: Callable[[Window, np.ndarray], None],
    *,
    batch: int = 1,
    progress: Progress | None = None,
) -> int:
    """Fuse every tile of `grid` and pass finished pixels to `sink(window, values (C, h, w))`.

    Values are float32 in the MS's units, NaN where PAN or MS is invalid. Cancellation is checked
    between batches of tiles.

    Returns:
        The number of tiles that ran through the network (all-invalid tiles are skipped).
    """
    from .multi_device import run_fusion_threaded, uses_threads

    if uses_threads(fm):  # GPUs: reading and blending overlap the network, one worker a device
        return run_fusion_threaded(source, grid, fm, stats, sink, batch=batch, progress=progress)
    from .tile_stream import TileStream  # (imports torch)

    stream = TileStream(fm.device, tile_forward(fm, source.ratio))
    acc = BlendAccumulator(grid, source.bands)
    windows = list(grid.windows())
    done = ran = 0
    for group in _batches(windows, max(1, batch)):
        check_cancelled(progress)
        prepared = prepare_batch(source, group, stats)
        preds: list[np.ndarray] = []
        if prepared.pan is not None:
            preds = list(stream.fetch(stream.submit(prepared.pan, prepared.ms)))
            ran += len(preds)
        finish_batch(source, grid, acc, stats, prepared, preds, sink)
        done += len(group)
        if progress is not None:
            progress.set_fraction(done / len(windows))
    return ran


@dataclass
class PreparedBatch:
    """Tiles read and normalised for one network call.

    Attributes:
        windows: the tiles; masks: their `(h, w)` valid masks.
        pan: `(n, 1, H, W)` and ms: `(n, C, H/r, W/r)` inputs of the n tiles that hold a valid
            pixel (None when none does).
    """

    windows: list[Window]
    masks: list[np.ndarray]
    pan: np.ndarray | None
    ms: np.ndarray | None


def prepare_batch(source: TileSource, group: list[Window], stats: NormStats) -> PreparedBatch:
    """Read, normalise and fill the tiles of one batch (no network)."""
    r = source.ratio
    pans, mss, masks = [], [], []
    for win in group:
        pan, pan_valid = source.read_pan(win)
        ms, ms_valid = source.read_ms(
            Window(win.col_off // r, win.row_off // r, win.width // r, win.height // r)
        )
        h, w = pan_valid.shape
        # the MS mask on the PAN grid, by broadcasting (no repeated copies)
        valid = (pan_valid.reshape(h // r, r, w // r, r) & ms_valid[:, None, :, None]).reshape(h, w)
        masks.append(valid)
        if valid.any():
            pans.append(fill_invalid(normalize_pan(pan, stats), pan_valid))
            mss.append(fill_invalid(normalize_ms(ms, stats), ms_valid))
    if not pans:
        return PreparedBatch(group, masks, None, None)
    return PreparedBatch(group, masks, np.stack(pans)[:, None], np.stack(mss))


def finish_batch(
    source: TileSource,
    grid: TileGrid,
    acc: BlendAccumulator,
    stats: NormStats,
    prepared: PreparedBatch,
    preds: list[np.ndarray],
    sink: Callable[[Window, np.ndarray], None],
) -> None:
    """Scale a batch's predictions back, blend them and pass finished pixels to `sink`."""
    k = 0
    for win, valid in zip(prepared.windows, prepared.masks, strict=True):
        if valid.any():
            pred = denormalize_ms(preds[k], stats)
            k += 1
        else:
            pred = np.full((source.bands, win.height, win.width), np.nan, np.float32)
        weight = grid.weights(win) * valid
        pred[:, ~valid] = np.nan
        for cell, values, _ in acc.add(win, pred, weight):
            sink(cell, values)


def fuse_arrays(
    pan: np.ndarray,
    ms: np.ndarray,
    *,
    model: Any = None,
    device: str | torch.device = "auto",
    tile: int | None = None,
    overlap: int | None = None,
    batch: int = 1,
    pan_nodata: float | None = None,
    ms_nodata: float | None = None,
    stats: NormStats | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Pan-sharpen in-memory arrays with tiling, blending and nodata handling.

    Args:
        pan: `(H, W)` PAN, any real dtype, in its own units.
        ms: `(C, h, w)` MS with `H = r*h`, `W = r*w` for an integer ratio `r >= 2`.
        model: None (shipped model fitting C), a model name or path, a `LoadedModel`, or a
            `torch.nn.Module`.
        device: torch device name.
        tile, overlap, batch: largest tile size and overlap in PAN pixels (None: `default_tile`
            of the device, the measured default overlap), tiles per network call.
        pan_nodata, ms_nodata: values marking invalid pixels (NaN is always invalid).
        stats: normalisation scales; None computes them from the valid pixels of this scene.
        progress: progress and cancel callbacks.

    Returns:
        `(C, H, W)` float32 in the MS's units, NaN wherever PAN or MS is invalid.
    """
    pan = np.asarray(pan)
    ms = np.asarray(ms)
    if pan.ndim != 2 or ms.ndim != 3:
        raise InputError(f"Expected pan (H, W) and ms (C, h, w), got {pan.shape} and {ms.shape}.")
    H, W = pan.shape
    c, h, w = ms.shape
    if h == 0 or w == 0 or H % h or W % w or H // h != W // w:
        raise InputError(
            f"PAN {H}x{W} is not an integer multiple of MS {h}x{w} with one ratio for both axes."
        )
    ratio = H // h
    if ratio < 2:
        raise InputError(f"The PAN/MS ratio is {ratio}: pan-sharpening needs at least 2.")
    pan_valid = None if pan_nodata is None else pan != pan_nodata
    ms_valid = None if ms_nodata is None else (ms != ms_nodata).all(axis=0)
    source = ArraySource(pan.astype(np.float32), ms.astype(np.float32), pan_valid, ms_valid, ratio)
    if not source.pan_valid.any() or not source.ms_valid.any():
        raise InputError("PAN or MS holds no valid pixel (all nodata or NaN): nothing to fuse.")
    if tile is not None:
        make_grid(W, H, ratio, tile, overlap)  # bad tile or overlap: fail before loading a model
    was_training = bool(getattr(model, "training", False))  # a network handed in mid-training
    fm = load_fusion_model(model, c, ratio, device)
    grid = make_grid(W, H, ratio, default_tile(fm.device) if tile is None else tile, overlap)
    if stats is None:
        stats = stats_from_arrays(
            source.pan,
            source.ms,
            source.pan_valid,
            source.ms_valid,
            percentile=percentile_for(fm.normalisation),
        )
    out = np.full((c, H, W), np.nan, dtype=np.float32)

    def sink(win: Window, values: np.ndarray) -> None:
        rows, cols = win.slices()
        out[:, rows, cols] = values

    try:
        run_fusion(source, grid, fm, stats, sink, batch=batch, progress=progress)
    finally:
        if was_training:
            fm.net.train()
    return out

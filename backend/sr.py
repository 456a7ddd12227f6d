"""Zero-shot super-resolution of any raster, guided or unguided: the public `super_resolve()`.

The pan-sharpening network fuses a PAN band with an MS image `s` times coarser. Super-resolution
reuses it as it is:

- Guided: a co-registered band at the target resolution (a PAN band, a Sentinel-2 10 m band, the
  luminance of an aerial photo) is the PAN; its grid is the output grid (`backend.sr_guide`).
- Unguided: the PAN is synthesised from the image itself (`backend.sr_guide.synthesize_pan`).

In both modes the network first adapts to the image by internal learning (`backend.sr_adapt`):
pairs made by degrading the input by `s` teach it the step from `s`-times coarser to the input's
resolution, which it then applies once more. `adapt_steps=0` runs the starting weights only.

Band groups: a network takes a fixed number of bands G (4 for mmmamba-4band). The model with
exactly the input's band count is used when one is installed, else the 4-band one. An input with
fewer bands is padded by repeating its last band and the extra outputs are dropped; one with more
bands is cut into consecutive groups of G, the last group reaching back to stay full (its bands
already produced by the previous group are dropped). Each group has its own copy of the network,
adapted on its own bands; all groups share the PAN. When the input's bands are named (colour
interpretation or description) and the model card lists its bands, each named band goes to the
network band of the same name (`backend.sr_bands`: an RGB(N) GeoTIFF feeds blue, green, red, NIR
to mmmamba-4band) and the outputs are put back in the input's order.

Inference averages the network over dihedral views of each tile (`backend.sr_ensemble`,
`ensemble` views), the views adaptation also trains on, then back-projects the result onto the
input (`backend.sr_backproject`, `backproject` iterations) under the degradation adaptation
assumed.

The output keeps the input's CRS and origin, with pixels `s` times smaller; nodata, tiling,
blending and the atomic writer are the pan-sharpening engine's (`backend.fuse`, `backend.io`).
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal

from .errors import InputError, ModelFileError, OutputError
from .fill import fill_invalid
from .fuse import DEFAULT_TILE, ArraySource, load_fusion_model, make_grid, run_fusion
from .io.raster import (
    GeoTransform,
    RasterInfo,
    inspect_raster,
    open_raster,
    read_bands,
    sample_windows,
)
from .io.window import Window
from .io.writer import AtomicGeoTiffWriter, check_output_path
from .normalize import NormStats, scene_stats
from .pansharpen import (
    GDAL_CACHE_BYTES,
    STATS_SAMPLE_PIXELS,
    _bounded_gdal_cache,
    _collect_samples,
    _mask_declared,
    _representable,
    write_cell,
)
from .progress import NullProgress, Progress, check_cancelled
from .sr_bands import band_name, match_bands, model_band_names
from .sr_ensemble import check_ensemble, ensemble_forward
from .sr_guide import GuideReader, SyntheticPanReader, plan_guide

log = logging.getLogger(__name__)

Reader = Callable[[Window], tuple[np.ndarray, np.ndarray]]
"""`read(window) -> (values, valid)`: how the pipeline reads the input and the guide."""

SUPPORTED_SCALES = (2, 3, 4, 8)
"""Scales of unguided super-resolution (a guide may set any integer scale of at least 2)."""
DEFAULT_ADAPT_STEPS = 300
"""Adaptation steps per band group when neither a step nor a time budget is given."""
DEFAULT_BACKPROJECT = 5
"""Back-projection iterations after the network (`backend.sr_backproject`; 0: off), chosen on
the development crops of bench/sr_quality.py."""
DEFAULT_ENSEMBLE = 8
"""Dihedral views averaged at inference (1, 2, 4 or 8; chosen on the development crops of
bench/sr_quality.py): each view costs one network run per tile."""
ADAPT_MAX_PIXELS = 1 << 18
"""Input pixels read for adaptation (about 512 x 512), whatever the image size."""
_ADAPT_REGION = 256
"""Side of the blocks sampled for adaptation from images larger than `ADAPT_MAX_PIXELS`."""
_ADAPT_SHARE = 0.5
"""Share of the progress bar given to adaptation when it runs."""


@dataclass(frozen=True)
class SRResult:
    """What `super_resolve` wrote and how.

    Attributes:
        path: the output GeoTIFF.
        mode: "guided" or "unguided".
        scale: super-resolution factor.
        width, height, bands: output size and band count.
        dtype, nodata: output data type (the input's) and nodata value (None: all valid).
        crs_wkt, geotransform: output georeferencing (input CRS and origin, pixel / scale).
        model, model_path, device: the starting network and where it ran.
        band_groups: input band indices (0-based) fed to each network copy.
        adapt: one report per band group (empty when adaptation did not run).
        tile, overlap, tiles, tiles_run: tiling used (output pixels).
        valid_fraction: share of output pixels that hold data.
        stats: normalisation scales (PAN scale 1 in unguided mode: the PAN is made normalised).
        seconds: wall-clock time.
    """

    path: Path
    mode: str
    scale: int
    width: int
    height: int
    bands: int
    dtype: str
    nodata: float | None
    crs_wkt: str | None
    geotransform: GeoTransform | None
    model: str
    model_path: str | None
    device: str
    band_groups: list[list[int]]
    adapt: list[Any] = field(default_factory=list)
    tile: int = 0
    overlap: int = 0
    tiles: int = 0
    tiles_run: int = 0
    valid_fraction: float = 0.0
    stats: NormStats | None = None
    seconds: float = 0.0


def band_groups(n_bands: int, group: int) -> list[tuple[list[int], list[int]]]:
    """Cut `n_bands` input bands into groups of `group` bands for a `group`-band network.

    Returns:
        For each group: `(input band of each network band, network bands whose output is kept)`.
        Every input band is kept exactly once, in input order.
    """
    if n_bands <= group:
        idx = list(range(n_bands)) + [n_bands - 1] * (group - n_bands)
        return [(idx, list(range(n_bands)))]
    out = []
    for start in range(0, n_bands, group):
        first = min(start, n_bands - group)
        idx = list(range(first, first + group))
        out.append((idx, [k for k, b in enumerate(idx) if b >= start]))
    return out


class _GroupConfig:
    """The slice of `MMMambaConfig` the fusion engine reads from a network."""

    def __init__(self, ms_bands: int, ratio: int) -> None:
        self.ms_bands = ms_bands
        self.ratio = ratio


def _group_net_class() -> type:
    import torch
    from torch import nn

    class BandGroupNet(nn.Module):
        """Runs one network copy per band group; `(B, 1, H, W), (B, C, h, w) -> (B, C, H, W)`."""

        def __init__(
            self,
            nets: list[nn.Module],
            groups: list[tuple[list[int], list[int]]],
            n_bands: int,
            ratio: int,
            ensemble: int = 1,
            backproject: int = 0,
        ) -> None:
            super().__init__()
            self.nets = nn.ModuleList(nets)
            self.groups = groups
            self.cfg = _GroupConfig(n_bands, ratio)
            self.ensemble = ensemble
            self.backproject = backproject

        def forward(self, pan: torch.Tensor, ms: torch.Tensor) -> torch.Tensor:
            from .degrade import sensor_gains
            from .sr_backproject import back_project

            parts = []
            r = self.cfg.ratio
            for net, (idx, keep) in zip(self.nets, self.groups, strict=True):
                net.cfg.ratio = r
                out = ensemble_forward(net, pan, ms[:, idx], self.ensemble)
                out = out[:, keep]
                if self.backproject:
                    # the degradation internal learning assumed (generic MTF gains)
                    gains = sensor_gains(None, len(keep)).ms
                    lr = ms[:, [idx[k] for k in keep]].float()
                    out = back_project(out, lr, r, gains, self.backproject)
                parts.append(out)
            return torch.cat(parts, dim=1)

    return BandGroupNet


class _LRReader:
    """Reads the input on its own grid; pixels outside the raster are invalid."""

    def __init__(self, ds: gdal.Dataset, info: RasterInfo) -> None:
        self._ds = ds
        self._bands = list(range(1, info.count + 1))
        self._size = Window(0, 0, info.width, info.height)

    def read(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """`(values (C, h, w) float32, valid (h, w) bool)`."""
        out = np.zeros((len(self._bands), window.height, window.width), np.float32)
        valid = np.zeros((window.height, window.width), bool)
        inside = window.intersection(self._size)
        if not inside.empty:
            vals, v = read_bands(self._ds, self._bands, inside)
            dst = inside.relative_to(window).slices()
            out[:, dst[0], dst[1]] = vals
            valid[dst] = v
        return out, valid


class _SRSource:
    """`TileSource` of the fusion engine: the PAN (guide or synthetic) and the input."""

    def __init__(
        self, read_pan: Reader, read_lr: Reader, scale: int, width: int, height: int, bands: int
    ) -> None:
        self._pan = read_pan
        self._lr = read_lr
        self.ratio = scale
        self.width, self.height, self.bands = width, height, bands

    def read_pan(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """PAN values and validity at an output-grid window."""
        return self._pan(window)

    def read_ms(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Input values and validity at an input-grid window."""
        return self._lr(window)


class _SubProgress:
    """Maps a part `[start, start + span]` of the caller's progress bar to `[0, 1]`."""

    def __init__(self, progress: Progress, start: float, span: float) -> None:
        self._p, self._start, self._span = progress, start, span

    def set_fraction(self, fraction: float) -> None:
        self._p.set_fraction(self._start + self._span * min(max(fraction, 0.0), 1.0))

    def info(self, message: str) -> None:
        self._p.info(message)

    def is_cancelled(self) -> bool:
        return self._p.is_cancelled()


def _check_budget(
    adapt_steps: int | None, adapt_seconds: float | None
) -> tuple[int | None, float | None]:
    if adapt_steps is not None and adapt_seconds is not None:
        raise InputError("Give either --adapt-steps or --adapt-seconds, not both.")
    if adapt_steps is not None and (int(adapt_steps) != adapt_steps or adapt_steps < 0):
        raise InputError(f"--adapt-steps must be a whole number >= 0, got {adapt_steps}.")
    if adapt_seconds is not None and not adapt_seconds >= 0:
        raise InputError(f"--adapt-seconds must be >= 0, got {adapt_seconds}.")
    if adapt_steps is None and adapt_seconds is None:
        return DEFAULT_ADAPT_STEPS, None
    return (None if adapt_steps is None else int(adapt_steps)), adapt_seconds


def _check_scale(scale: Any, guided: bool) -> int | None:
    if scale is None:
        if guided:
            return None
        raise InputError(f"Give the scale (one of {', '.join(map(str, SUPPORTED_SCALES))}).")
    if isinstance(scale, bool) or int(scale) != scale:
        raise InputError(f"The scale must be a whole number, got {scale!r}.")
    scale = int(scale)
    if not guided and scale not in SUPPORTED_SCALES:
        raise InputError(
            f"Scale {scale} is not supported without a guide: use one of "
            f"{', '.join(map(str, SUPPORTED_SCALES))}."
        )
    if scale < 2:
        raise InputError(f"The scale must be at least 2, got {scale}.")
    return scale


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _pick_model(model: Any, n_bands: int) -> Any:
    """The model to start from: the given one, else the installed one that fits best."""
    if model is not None:
        return model
    from .model.registry import list_models

    cards = list_models()
    if not cards:
        raise ModelFileError(
            "No model is installed in resources/models: pass a model file with --model."
        )
    for want in (n_bands, 4):
        for card in cards:
            if card.ms_bands == want:
                return card.path
    return cards[0].path


def _load_nets(
    model: Any, n_bands: int, scale: int, device: Any
) -> tuple[Any, str, str | None, int, list[str] | None]:
    """Load the starting network on `device`.

    Returns:
        `(net, name, path, bands it takes, its band names from the model card or None)`.
    """
    from torch import nn

    from .model.store import LoadedModel, load_model

    chosen = _pick_model(model, n_bands)
    bands: list[str] | None = None
    if isinstance(chosen, nn.Module):
        net, name, path = copy.deepcopy(chosen), "in-memory network", None
    elif isinstance(chosen, LoadedModel):
        net, name, path = copy.deepcopy(chosen.net), str(chosen.card.name), None
        bands = list(getattr(chosen.card, "bands", None) or []) or None
        if chosen.card.path is not None:
            path = str(chosen.card.path)
    else:
        loaded = load_model(chosen, device="cpu")
        net, name = loaded.net, str(loaded.card.name)
        bands = list(getattr(loaded.card, "bands", None) or []) or None
        path = None if loaded.card.path is None else str(loaded.card.path)
    cfg = getattr(net, "cfg", None)
    if cfg is None or not hasattr(cfg, "ms_bands"):
        raise ModelFileError(f"The model '{name}' is not an MMMamba network (no config).")
    cfg.ratio = scale
    return net.to(device).eval(), name, path, int(cfg.ms_bands), bands


def _output_nodata(
    lr: RasterInfo, lr_ds: gdal.Dataset, guide: tuple[RasterInfo, gdal.Dataset] | None
) -> float | None:
    """The input's nodata when it has one; else a default when some pixel may be invalid."""
    dtype = lr.dtype
    if _representable(lr.nodata, dtype):
        return float(lr.nodata)  # type: ignore[arg-type]
    may_be_invalid = _mask_declared(lr_ds, range(1, lr.count + 1)) or dtype.startswith("float")
    if guide is not None:
        g_info, g_ds = guide
        may_be_invalid = (
            may_be_invalid
            or _mask_declared(g_ds, range(1, g_info.count + 1))
            or g_info.dtype.startswith("float")
        )
    if not may_be_invalid:
        return None
    dt = np.dtype(dtype)
    if dt.kind == "u":
        return 0.0
    if dt.kind == "i":
        return float(np.iinfo(dt).min)
    return -9999.0


def _adapt_windows(width: int, height: int, scale: int) -> list[Window]:
    """Input windows read for adaptation: the whole image, or a spread of blocks (bounded)."""
    if width * height <= ADAPT_MAX_PIXELS:
        return [Window(0, 0, width, height)]
    return sample_windows(width, height, ADAPT_MAX_PIXELS, patch=max(_ADAPT_REGION, 8 * scale))


def _adapt(
    nets: list[Any],
    groups: list[tuple[list[int], list[int]]],
    read_lr: Reader,
    lr_width: int,
    lr_height: int,
    read_guide: Reader | None,
    stats: NormStats,
    scale: int,
    steps: int | None,
    seconds: float | None,
    progress: Progress,
    layers: str = "auto",
    views: int | None = None,
) -> list[Any]:
    """Build training regions from the image and adapt every group's network."""
    from .sr_adapt import adapt_network, make_region

    ms_scales = np.asarray(stats.ms_scales, np.float32)[:, None, None]
    regions = []
    for win in _adapt_windows(lr_width, lr_height, scale):
        check_cancelled(progress)
        vals, valid = read_lr(win)
        g = None
        if read_guide is not None:
            gv, gvalid = read_guide(win.scaled(scale))
            valid &= gvalid.reshape(win.height, scale, win.width, scale).all(axis=(1, 3))
            g = fill_invalid(gv / np.float32(stats.pan_scale), gvalid)
        if valid.mean() < 0.05:
            continue
        reg = make_region(fill_invalid(vals / ms_scales, valid), valid, scale, guide=g)
        if reg is not None:
            regions.append(reg)
    if not regions:
        raise InputError(
            f"The input ({lr_width} x {lr_height}) has too few valid pixels to adapt on "
            f"at scale {scale} (at least {4 * scale} x {4 * scale} valid pixels are needed): "
            "run without adaptation (--adapt-steps 0)."
        )
    reports = []
    share = None if seconds is None else seconds / len(nets)
    n = len(nets)
    for k, (net, (idx, _)) in enumerate(zip(nets, groups, strict=True)):
        sub = [r.select(idx) for r in regions]

        def on_step(step: int, elapsed: float, k: int = k) -> None:
            frac = step / steps if steps else elapsed / share if share else 1.0
            progress.set_fraction(_ADAPT_SHARE * (k + min(frac, 1.0)) / n)

        reports.append(
            adapt_network(
                net,
                sub,
                scale,
                steps=steps,
                seconds=share,
                layers=layers,
                views=views,
                progress=progress,
                on_step=on_step,
            )
        )
        r = reports[-1]
        progress.info(
            f"Band group {k + 1}/{n} (input bands {', '.join(str(i + 1) for i in sorted(set(idx)))}"
            f"): adapted ({r.layers} layers) in {r.steps} steps, {r.seconds:.1f} s, L1 "
            f"{r.loss_before:.4f} -> "
            f"{r.loss_after:.4f} on held-out pixels"
            f"{'' if r.kept else ' (no gain: starting weights kept)'}."
        )
    return reports


def _matched_guide(
    read_guide: Reader, pan_sample: np.ndarray, ms_sample: np.ndarray, stats: NormStats
) -> Reader:
    """The guide with its mean and spread matched to those of the input's luminance.

    The network learnt a PAN that resembles the mean of its normalised MS bands; a guide of
    another band or sensor (a red band, a PAN whose percentile lies elsewhere) is brought to the
    luminance's mean and standard deviation (after normalisation) by one gain and offset, as
    the classical methods equalise their PAN.
    """
    pan_n = pan_sample.astype(np.float64) / stats.pan_scale
    lum = (ms_sample.astype(np.float64) / np.asarray(stats.ms_scales)[:, None]).mean(axis=0)
    sd = float(pan_n.std())
    if not sd > 0:
        return read_guide
    gain = float(lum.std()) / sd
    if not gain > 0:
        return read_guide
    # In raw guide units, so the engine's normalisation by pan_scale gives gain * pan_n + offset.
    offset = (float(lum.mean()) - gain * float(pan_n.mean())) * stats.pan_scale

    def read(window: Window) -> tuple[np.ndarray, np.ndarray]:
        vals, valid = read_guide(window)
        return (vals * np.float32(gain) + np.float32(offset)).astype(np.float32), valid

    return read


@dataclass
class _Prepared:
    """Everything the tiled run needs, after checks, statistics and adaptation."""

    source: _SRSource
    grid: Any
    fm: Any
    stats: NormStats
    groups: list[tuple[list[int], list[int]]]
    reports: list[Any]
    model_name: str
    model_path: str | None
    device: Any
    adapted: bool


def _prepare(
    *,
    read_lr: Reader,
    lr_width: int,
    lr_height: int,
    n_bands: int,
    read_guide: Reader | None,
    scale: int,
    model: Any,
    device: Any,
    steps: int | None,
    seconds: float | None,
    tile: int,
    overlap: int | None,
    progress: Progress,
    what: str,
    band_names: list[str | None] | None = None,
    ensemble: int = DEFAULT_ENSEMBLE,
    layers: str = "auto",
    views: int | None = None,
    match_guide: bool = False,
    backproject: int = DEFAULT_BACKPROJECT,
) -> _Prepared:
    """Shared by the file and the array entry points: model, statistics, adaptation, source."""
    width, height = lr_width * scale, lr_height * scale
    grid = make_grid(width, height, scale, tile, overlap)

    from .device import resolve_device

    dev = resolve_device(device) if isinstance(device, str) else device
    net, model_name, model_path, group_size, model_bands = _load_nets(model, n_bands, scale, dev)
    groups = band_groups(n_bands, group_size)
    wanted = model_band_names(model_bands)
    matched = None
    if band_names is not None and wanted is not None and len(wanted) == group_size:
        matched = match_bands(band_names, wanted)
    if matched is not None:
        groups = [matched]
        progress.info(
            "Bands fed to the network in its order ("
            + ", ".join(str(model_bands[k]) for k in range(group_size))
            + "): input bands "
            + ", ".join(str(i + 1) for i in matched[0])
            + "."
        )
    nets = [net] + [copy.deepcopy(net) for _ in groups[1:]]

    ms_sample = _collect_samples(read_lr, lr_width, lr_height, STATS_SAMPLE_PIXELS)
    if ms_sample is None:
        raise InputError(f"The input {what} holds no valid pixel: nothing to super-resolve.")
    if read_guide is not None:
        pan_sample = _collect_samples(read_guide, width, height, STATS_SAMPLE_PIXELS)
        if pan_sample is None:
            raise InputError("The guide holds no valid pixel over the input.")
        stats = scene_stats(pan_sample[0], list(ms_sample))
        if match_guide:
            read_guide = _matched_guide(read_guide, pan_sample[0], ms_sample, stats)
        pan_read = read_guide
    else:
        # The synthetic PAN is made from normalised bands, so its own scale is 1.
        stats = scene_stats(np.ones(1, np.float32), list(ms_sample))
        pan_read = SyntheticPanReader(read_lr, lr_width, lr_height, stats.ms_scales, scale).read
    mode = "guided" if read_guide is not None else "unguided"
    progress.info(
        f"{mode.capitalize()} super-resolution x{scale}: {lr_width} x {lr_height} -> "
        f"{width} x {height}, {n_bands} band(s) in {len(groups)} group(s) of "
        f"{group_size} for model '{model_name}' on {dev}."
    )
    adapted = steps != 0 and seconds != 0
    reports: list[Any] = []
    if adapted:
        reports = _adapt(
            nets,
            groups,
            read_lr,
            lr_width,
            lr_height,
            read_guide,
            stats,
            scale,
            steps,
            seconds,
            progress,
            layers=layers,
            views=views,
        )
    check_cancelled(progress)
    if isinstance(backproject, bool) or int(backproject) != backproject or backproject < 0:
        raise InputError(f"--backproject must be a whole number >= 0, got {backproject!r}.")
    group_net = _group_net_class()(
        nets, groups, n_bands, scale, check_ensemble(ensemble), int(backproject)
    )
    fm = load_fusion_model(group_net, n_bands, scale, dev)
    fm.name = model_name
    source = _SRSource(pan_read, read_lr, scale, width, height, n_bands)
    return _Prepared(
        source=source,
        grid=grid,
        fm=fm,
        stats=stats,
        groups=groups,
        reports=reports,
        model_name=model_name,
        model_path=model_path,
        device=dev,
        adapted=adapted,
    )


def super_resolve(
    input: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    scale: int | None,
    guide: str | os.PathLike[str] | None = None,
    guide_band: int | None = None,
    adapt_steps: int | None = None,
    adapt_seconds: float | None = None,
    model: Any = None,
    device: str = "auto",
    tile: int = DEFAULT_TILE,
    overlap: int | None = None,
    progress: Progress | None = None,
    ensemble: int = DEFAULT_ENSEMBLE,
    backproject: int = DEFAULT_BACKPROJECT,
) -> SRResult:
    """Super-resolve a raster by `scale`, guided by a finer band or from the image alone.

    Args:
        input: raster to super-resolve (any band count, any real data type).
        out: output GeoTIFF path (replaced atomically if it exists).
        scale: factor; without a guide one of 2, 3, 4, 8; with a guide it must equal the
            guide/input pixel-size ratio (None: take that ratio).
        guide: co-registered raster whose pixels are `scale` times smaller (guided mode).
        guide_band: 1-based guide band; None uses the mean of the guide's bands.
        adapt_steps: internal-learning steps per band group (0: starting weights only).
        adapt_seconds: time budget for internal learning instead of a step count.
            With neither, `DEFAULT_ADAPT_STEPS` steps run.
        model: None (installed model that fits), a name or path of a model file, a
            `LoadedModel` or a network.
        device: "auto", "cpu", "cuda" or "cuda:N".
        tile, overlap: tile size and overlap in output pixels (None: the engine's default).
        progress: progress and cancel callbacks.
        ensemble: dihedral views averaged at inference (1, 2, 4 or 8).
        backproject: back-projection iterations onto the input (0: off).

    Returns:
        An `SRResult` describing the output.

    Raises:
        InputError, ModelFileError, OutputError: with a sentence naming the fix; nothing is
            written then.
        Cancelled: when `progress.is_cancelled()` turned true; nothing is left on disk.
    """
    t0 = time.perf_counter()
    progress = progress or NullProgress()
    guided = guide is not None and str(guide) != ""
    s = _check_scale(scale, guided)
    steps, seconds = _check_budget(adapt_steps, adapt_seconds)
    if not guided and guide_band is not None:
        raise InputError("--guide-band needs a guide raster (--guide).")

    lr_ds = open_raster(input, "input raster")
    lr_info = inspect_raster(lr_ds, str(input))
    g_ds = g_info = None
    read_guide: Reader | None = None
    if guided:
        assert guide is not None
        g_ds = open_raster(guide, "guide raster")
        g_info = inspect_raster(g_ds, str(guide))
        ggrid = plan_guide(lr_info, g_info, s, guide_band)
        s = ggrid.ratio
        out_gt = ggrid.geotransform
        read_guide = GuideReader(g_ds, g_info, ggrid).read
    else:
        assert s is not None
        gt = lr_info.geotransform
        if gt is not None and (gt[2] != 0.0 or gt[4] != 0.0):
            raise InputError(
                f"The input '{input}' has a rotated geotransform: warp it north-up first "
                "(gdalwarp -r cubic in.tif north_up.tif)."
            )
        out_gt = None if gt is None else (gt[0], gt[1] / s, 0.0, gt[3], 0.0, gt[5] / s)
    assert s is not None
    for other, what in ((input, "input"), (guide, "guide")):
        if other is not None and str(other) and _same_file(out, other):
            raise OutputError(f"The output '{out}' is the {what} raster: choose another file name.")
    check_output_path(out)
    nodata = _output_nodata(lr_info, lr_ds, None if not guided else (g_info, g_ds))

    prep = _prepare(
        read_lr=_LRReader(lr_ds, lr_info).read,
        lr_width=lr_info.width,
        lr_height=lr_info.height,
        n_bands=lr_info.count,
        read_guide=read_guide,
        scale=s,
        model=model,
        device=device,
        steps=steps,
        seconds=seconds,
        tile=tile,
        overlap=overlap,
        progress=progress,
        what=f"'{input}'",
        band_names=[band_name(b.description, b.color_interp_name) for b in lr_info.bands],
        ensemble=ensemble,
        backproject=backproject,
    )
    width, height = prep.source.width, prep.source.height
    # Output bands keep every property of the input bands but their type and nodata.
    out_bands = [replace(b, dtype=lr_info.dtype, nodata=nodata) for b in lr_info.bands]
    run_progress = (
        _SubProgress(progress, _ADAPT_SHARE, 1 - _ADAPT_SHARE) if prep.adapted else progress
    )
    n_valid = 0
    with (
        _bounded_gdal_cache(GDAL_CACHE_BYTES),
        AtomicGeoTiffWriter(
            out,
            width=width,
            height=height,
            dtype=lr_info.dtype,
            bands=out_bands,
            geotransform=out_gt,
            crs_wkt=lr_info.crs_wkt,
            nodata=nodata,
        ) as writer,
    ):

        def sink(win: Window, values: np.ndarray) -> None:
            nonlocal n_valid
            n_valid += write_cell(writer, win, values, lr_info.dtype, nodata)

        tiles_run = run_fusion(
            prep.source, prep.grid, prep.fm, prep.stats, sink, progress=run_progress
        )
        check_cancelled(progress)
        if n_valid == 0:
            raise InputError(
                "The input and the guide have no valid pixel in common: nothing to write."
            )
        path = writer.commit()
    result = SRResult(
        path=path,
        mode="guided" if guided else "unguided",
        scale=s,
        width=width,
        height=height,
        bands=lr_info.count,
        dtype=lr_info.dtype,
        nodata=nodata,
        crs_wkt=lr_info.crs_wkt,
        geotransform=out_gt,
        model=prep.model_name,
        model_path=prep.model_path,
        device=str(prep.device),
        band_groups=[sorted(set(idx)) for idx, _ in prep.groups],
        adapt=prep.reports,
        tile=prep.grid.tile_width,
        overlap=prep.grid.overlap,
        tiles=len(prep.grid),
        tiles_run=tiles_run,
        valid_fraction=n_valid / (width * height),
        stats=prep.stats,
        seconds=time.perf_counter() - t0,
    )
    progress.info(
        f"Wrote {path} ({width} x {height}, {lr_info.count} bands, {lr_info.dtype}) in "
        f"{result.seconds:.1f} s."
    )
    progress.set_fraction(1.0)
    return result


def super_resolve_arrays(
    lr: np.ndarray,
    *,
    scale: int,
    guide: np.ndarray | None = None,
    lr_nodata: float | None = None,
    guide_nodata: float | None = None,
    adapt_steps: int | None = None,
    adapt_seconds: float | None = None,
    model: Any = None,
    device: Any = "auto",
    tile: int = DEFAULT_TILE,
    overlap: int | None = None,
    progress: Progress | None = None,
    band_names: list[str | None] | None = None,
    ensemble: int = DEFAULT_ENSEMBLE,
    adapt_layers: str = "auto",
    adapt_views: int | None = None,
    match_guide: bool = False,
    backproject: int = DEFAULT_BACKPROJECT,
) -> tuple[np.ndarray, list[Any]]:
    """Super-resolve in-memory arrays: the same pipeline as `super_resolve`, without GDAL files.

    Args:
        lr: `(C, h, w)` image, any real dtype, in its own units.
        scale: factor (2, 3, 4 or 8 unguided; any integer >= 2 with a guide).
        guide: `(h * scale, w * scale)` guide band, or None for unguided mode.
        lr_nodata, guide_nodata: values marking invalid pixels (NaN is always invalid).
        adapt_steps, adapt_seconds, model, device, tile, overlap, progress, ensemble,
            backproject: as `super_resolve`.
        band_names: name of each band ("red", "nir", ...; None: unknown), so that bands reach
            the network in its order (`backend.sr_bands`); None: input order.
        adapt_layers: "auto", "head", "tail" or "all" (`backend.sr_adapt.adapt_network`).
        adapt_views: dihedral views adaptation trains on (None: as many as the size allows).
        match_guide: match the guide's mean and spread to the input's luminance first (off by
            default: on the development cases it lost 0.2 to 0.8 dB on two, gained 0.1 on one).

    Returns:
        `((C, h * scale, w * scale) float32, NaN where invalid; one AdaptReport per group)`.
    """
    progress = progress or NullProgress()
    lr = np.asarray(lr)
    if lr.ndim != 3:
        raise InputError(f"Expected an image (C, h, w), got shape {lr.shape}.")
    s = _check_scale(scale, guide is not None)
    assert s is not None
    steps, seconds = _check_budget(adapt_steps, adapt_seconds)
    c, h, w = lr.shape
    if band_names is not None and len(band_names) != c:
        raise InputError(f"Give one band name per band: {len(band_names)} names for {c} bands.")
    if guide is not None:
        guide = np.asarray(guide)
        if guide.shape != (h * s, w * s):
            raise InputError(
                f"The guide {guide.shape} must be exactly {s} times the image {(h, w)}."
            )
        pan = guide.astype(np.float32)
        pan_valid = None if guide_nodata is None else guide != guide_nodata
    else:
        pan = np.broadcast_to(np.float32(0), (h * s, w * s))  # no memory: never read
        pan_valid = None
    ms_valid = None if lr_nodata is None else (lr != lr_nodata).all(axis=0)
    src = ArraySource(pan, lr.astype(np.float32), pan_valid, ms_valid, s)
    prep = _prepare(
        read_lr=src.read_ms,
        lr_width=w,
        lr_height=h,
        n_bands=c,
        read_guide=src.read_pan if guide is not None else None,
        scale=s,
        model=model,
        device=device,
        steps=steps,
        seconds=seconds,
        tile=tile,
        overlap=overlap,
        progress=progress,
        what="image",
        band_names=None if band_names is None else list(band_names),
        ensemble=ensemble,
        layers=adapt_layers,
        views=adapt_views,
        match_guide=match_guide,
        backproject=backproject,
    )
    out = np.full((c, h * s, w * s), np.nan, np.float32)

    def sink(win: Window, values: np.ndarray) -> None:
        rows, cols = win.slices()
        out[:, rows, cols] = values

    run_progress = (
        _SubProgress(progress, _ADAPT_SHARE, 1 - _ADAPT_SHARE) if prep.adapted else progress
    )
    run_fusion(prep.source, prep.grid, prep.fm, prep.stats, sink, progress=run_progress)
    return out, prep.reports


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Register `python -m backend sr ...` on an argparse sub-parser collection."""
    p = subparsers.add_parser(
        "sr",
        help="zero-shot super-resolution of a raster, guided or unguided",
        description=(
            "Super-resolve a raster by an integer scale. With --guide, a co-registered finer band "
            "(its pixels `scale` times smaller) plays the PAN role and defines the output grid; "
            "without, the network's PAN is synthesised from the image. The network first adapts "
            "to the image by internal learning (--adapt-steps 0 skips it)."
        ),
    )
    p.add_argument("--input", required=True, help="raster to super-resolve")
    p.add_argument(
        "--scale",
        type=int,
        default=None,
        help="factor: 2, 3, 4 or 8 without a guide; with a guide, optional (its pixel ratio)",
    )
    p.add_argument("--out", required=True, help="output GeoTIFF")
    p.add_argument("--guide", default=None, help="co-registered finer raster (guided mode)")
    p.add_argument(
        "--guide-band",
        type=int,
        default=None,
        help="1-based guide band (default: mean of the guide's bands)",
    )
    budget = p.add_mutually_exclusive_group()
    budget.add_argument(
        "--adapt-steps",
        type=int,
        default=None,
        help=f"internal-learning steps per band group (default "
        f"{DEFAULT_ADAPT_STEPS}; 0: starting weights only)",
    )
    budget.add_argument(
        "--adapt-seconds",
        type=float,
        default=None,
        help="time budget for internal learning, in seconds",
    )
    p.add_argument("--model", default=None, help="model name or .safetensors file to start from")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument(
        "--tile", type=int, default=DEFAULT_TILE, help="largest tile size in output pixels"
    )
    p.add_argument("--overlap", type=int, default=None, help="tile overlap in output pixels")
    p.add_argument(
        "--ensemble",
        type=int,
        choices=(1, 2, 4, 8),
        default=DEFAULT_ENSEMBLE,
        help=f"flipped/rotated views averaged at inference (default {DEFAULT_ENSEMBLE}; "
        "each costs one network run)",
    )
    p.add_argument(
        "--backproject",
        type=int,
        default=DEFAULT_BACKPROJECT,
        help=f"back-projection iterations onto the input (default {DEFAULT_BACKPROJECT}; 0: off)",
    )
    p.set_defaults(func=_run_cli)
    return p


def _run_cli(args: argparse.Namespace) -> int:
    res = super_resolve(
        args.input,
        args.out,
        scale=args.scale,
        guide=args.guide,
        guide_band=args.guide_band,
        adapt_steps=args.adapt_steps,
        adapt_seconds=args.adapt_seconds,
        model=args.model,
        device=args.device,
        tile=args.tile,
        overlap=args.overlap,
        ensemble=args.ensemble,
        backproject=args.backproject,
    )
    steps = sum(r.steps for r in res.adapt)
    print(
        f"{res.path}: {res.mode} x{res.scale}, {res.width} x {res.height}, {res.bands} band(s), "
        f"model {res.model}, {steps} adaptation step(s), {res.seconds:.1f} s"
    )
    return 0

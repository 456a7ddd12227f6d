"""Scene adaptation: fine-tune a model on the user's own PAN + MS scene, with no labels.

Wald's protocol turns the scene itself into training data: its PAN and MS, degraded by the ratio
with the sensor's MTF filters, must give back the original MS. Starting from the shipped model of
the scene's band count (or from scratch for any other band count or ratio, e.g. 3-band Landsat
at ratio 2), the network trains on strips of the scene within a time budget; a held-out strip of
the same scene picks the best weights (the starting weights count too, so the result is never
worse on that strip than the start). The model and its card are written; optionally the scene
is then pan-sharpened with it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, MMMambaError, ModelFileError, OutputError
from .progress import Progress

log = logging.getLogger(__name__)

DEFAULT_MINUTES = 2.0
DEFAULT_MAX_SIZE = 2048
"""Largest PAN side read for fine-tuning; larger scenes are cut to their centre."""
FRACTIONS = (0.85, 0.15, 0.0)
"""Rows of the scene used for training and for picking the best weights."""
LR_FROM_BASE = 1e-4
LR_FROM_SCRATCH = 5e-4


@dataclass
class FinetuneResult:
    """What `finetune` wrote and measured.

    Attributes:
        model_path: The fine-tuned `.safetensors` (card beside it as `.json`).
        base_model: Name of the starting model, or None when trained from scratch.
        steps: Optimiser steps taken.
        seconds: Wall-clock time of the training loop.
        start_val_l1: Validation L1 of the starting weights on the held-out strip.
        best_val_l1: Validation L1 of the weights written.
        cancelled: True if stopped by the caller (the best weights so far were written).
        csv_path: Curves of the run.
        png_path: Their plot (None without matplotlib).
        pansharpened: Output GeoTIFF if `pansharpen_out` was given.
        card: The model card written.
    """

    model_path: Path
    base_model: str | None
    steps: int
    seconds: float
    start_val_l1: float
    best_val_l1: float
    cancelled: bool
    csv_path: Path | None = None
    png_path: Path | None = None
    pansharpened: Path | None = None
    card: Any = None
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def improvement(self) -> float:
        """Relative drop of the validation L1 from the starting weights (0.1 = 10 % lower)."""
        return 1.0 - self.best_val_l1 / self.start_val_l1 if self.start_val_l1 > 0 else 0.0


def _starting_model(base_model: Any, n_bands: int, ratio: int, device: Any) -> Any:
    """The LoadedModel to start from, or None to train from scratch."""
    from .model.store import LoadedModel, load_model

    if isinstance(base_model, LoadedModel):
        loaded = base_model
    elif base_model is not None:
        loaded = load_model(base_model, device="cpu")
    else:
        try:
            loaded = load_model(None, device="cpu", ms_bands=n_bands)
        except ModelFileError as exc:
            log.info("no shipped model for %d bands (%s): training from scratch", n_bands, exc)
            return None
    cfg = loaded.net.cfg
    if cfg.ms_bands != n_bands or cfg.ratio != ratio:
        if base_model is not None:
            raise ModelFileError(
                f"The model {loaded.card.name} takes {cfg.ms_bands} bands at ratio {cfg.ratio}, "
                f"the scene has {n_bands} bands at ratio {ratio}: choose another model or none."
            )
        log.info(
            "the shipped model %s takes ratio %d, the scene has %d: training from scratch",
            loaded.card.name,
            cfg.ratio,
            ratio,
        )
        return None
    return loaded


def finetune_scene(
    scene: Any,
    out: str | Path,
    *,
    minutes: float = DEFAULT_MINUTES,
    base_model: Any = None,
    device: str = "auto",
    options: Any = None,
    progress: Progress | None = None,
) -> FinetuneResult:
    """Fine-tune on an in-memory `backend.data.scenes.Scene` (see `finetune`)."""
    import torch

    from .data.dataset import make_wald_pair
    from .data.splits import crop_strip, split_scene
    from .device import resolve_device, training_scan_engine
    from .model.config import MMMambaConfig
    from .model.network import MMMamba
    from .model.store import ModelCard, save_model
    from .normalize import method_card
    from .train.loop import TrainOptions, run_training
    from .train.plot import plot_curves
    from .train.trainer import device_label

    out = Path(out)
    if out.suffix != ".safetensors":
        raise InputError(f"The model file must end in .safetensors, got '{out}'.")
    if not out.parent.is_dir():
        raise OutputError(f"The folder '{out.parent}' does not exist: create it first.")
    dev = resolve_device(device)
    start = _starting_model(base_model, scene.n_bands, scene.ratio, dev)
    if start is not None:
        net = start.net
        net.train()
        cfg = net.cfg
        base_name = start.card.name
        base_bands = list(start.card.bands)
    else:
        cfg = MMMambaConfig(ms_bands=scene.n_bands, ratio=scene.ratio)
        torch.manual_seed(0)
        net = MMMamba(cfg)
        base_name = None
        base_bands = list(scene.band_names)
    if options is None:
        options = TrainOptions(
            minutes=minutes,
            lr=LR_FROM_BASE if start is not None else LR_FROM_SCRATCH,
            val_every=25,
        )
    elif options.minutes is None and options.epochs is None:
        options.minutes = minutes
    strips = split_scene(scene, FRACTIONS, align=8, min_rows=8)
    train_pairs = [make_wald_pair(crop_strip(scene, s)) for s in strips if s.split == "train"]
    val_pairs = [make_wald_pair(crop_strip(scene, s)) for s in strips if s.split == "val"]
    smallest = min(min(p.pan.shape) for p in train_pairs)
    if smallest < 16:
        raise InputError(
            f"The scene is too small to fine-tune on: its training strip is {smallest} pixels at "
            "reduced resolution; use a scene of at least 64 x 64 MS pixels."
        )
    t0 = time.perf_counter()
    engine = training_scan_engine(dev)

    optimizer = f"Adam lr {options.lr}, cosine to {options.lr_min}, clip {options.clip}"
    budget = f"{options.minutes} min" if options.minutes else f"{options.epochs} epochs"

    def card_fields(step: int, loop: Any = None) -> dict[str, Any]:
        return {
            "name": out.stem,
            "bands": base_bands,
            "sensors": [scene.sensor],
            "normalisation": method_card(),
            "description": (
                f"Adapted to the scene {scene.name} with Wald's protocol"
                + (f", starting from {base_name}." if base_name else ", trained from scratch.")
            ),
            "training": {
                "kind": "scene adaptation",
                "base_model": base_name,
                "data": [{"name": scene.name, "sensor": scene.sensor, "source": scene.source,
                          "ms_size": list(scene.ms.shape), "pan_size": list(scene.pan.shape)}],
                "splits": {"fractions": list(FRACTIONS), "strips": [
                    {"split": s.split, "ms_rows": [s.row0, s.row1]} for s in strips]},
                "loss": "L1" + (f" + {options.sam_weight} * SAM" if options.sam_weight else ""),
                "optimizer": optimizer,
                "budget": budget,
                "steps": loop.steps if loop else step,
                "seconds": round(loop.seconds, 1) if loop else None,
                "best_step": loop.best_step if loop else step,
                "device": device_label(dev),
                "scan_engine": engine,
                "cancelled": bool(loop.cancelled) if loop else False,
            },
        }  # fmt: skip

    def on_best(model: Any, step: int, val_l1: float) -> None:
        fields = card_fields(step)
        fields["metrics"] = {"validation": {"l1": val_l1, "step": step}}
        save_model(out, model, ModelCard(**fields))

    csv_path = out.with_suffix(".csv")
    loop = run_training(
        net, train_pairs, val_pairs, options, dev, on_best=on_best, csv_path=csv_path,
        progress=progress,
    )  # fmt: skip
    start_l1 = float(loop.history[0]["val_l1"])
    fields = card_fields(loop.steps, loop)
    fields["metrics"] = {
        "validation": {
            "protocol": "reduced resolution (Wald), held-out strip of the same scene",
            "l1_start": round(start_l1, 6),
            "l1": round(loop.best_val_l1, 6),
            "sam_deg": round(loop.best_val_sam, 4),
        }
    }
    card = save_model(out, net.cpu(), ModelCard(**fields))
    png = plot_curves(csv_path, out.with_suffix(".png"), title=f"{out.stem} (scene adaptation)")
    log.info(
        "fine-tuned %s in %.0f s: validation L1 %.5f -> %.5f",
        out.name,
        time.perf_counter() - t0,
        start_l1,
        loop.best_val_l1,
    )
    return FinetuneResult(
        model_path=out,
        base_model=base_name,
        steps=loop.steps,
        seconds=loop.seconds,
        start_val_l1=start_l1,
        best_val_l1=loop.best_val_l1,
        cancelled=loop.cancelled,
        csv_path=csv_path,
        png_path=png,
        card=card,
        history=loop.history,
    )


def finetune(
    pan: str | Path,
    ms: str | Path,
    out: str | Path,
    *,
    minutes: float = DEFAULT_MINUTES,
    base_model: Any = None,
    pansharpen_out: str | Path | None = None,
    device: str = "auto",
    progress: Progress | None = None,
    sensor: str | None = None,
    max_size: int | None = DEFAULT_MAX_SIZE,
) -> FinetuneResult:
    """Adapt a model to one scene with Wald's protocol and write it with its card.

    Args:
        pan: PAN raster.
        ms: MS raster over the same ground (any band count; ratio from the pixel sizes).
        out: Model file to write (`.safetensors`; the card goes beside it as `.json`).
        minutes: Training time budget (wall clock, validation included).
        base_model: Starting model (name, path or `LoadedModel`); None = the shipped model with
            the scene's band count and ratio, or from scratch if there is none.
        pansharpen_out: If given, pan-sharpen the scene with the new model into this GeoTIFF.
        device: "auto", "cpu", "cuda", ...
        progress: Progress (the loss at each validation) and cancel (keeps the best so far).
        sensor: Sensor name for the MTF gains of the degradation (None: from the file names,
            else generic gains).
        max_size: Largest PAN side used for training; larger scenes are cut to their centre.

    Returns:
        A `FinetuneResult`.
    """
    from .classical.raster_pair import read_pair
    from .data.scenes import Scene, _sensor_from_filename, canonical_sensor, default_band_names

    pair = read_pair(pan, ms, max_size=max_size)
    sens = canonical_sensor(sensor) if sensor else _sensor_from_filename(Path(ms).stem)
    scene = Scene(
        name=Path(ms).stem,
        sensor=sens,
        pan=pair.pan,
        ms=pair.ms,
        ratio=pair.ratio,
        band_names=default_band_names(pair.ms.shape[0], sens),
        source=f"{pan},{ms}",
    )
    result = finetune_scene(
        scene, out, minutes=minutes, base_model=base_model, device=device, progress=progress
    )
    if result.cancelled:
        return result
    if pansharpen_out is not None:
        from .pansharpen import pansharpen

        pansharpen(pan, ms, pansharpen_out, model=str(result.model_path), device=device,
                   progress=progress)  # fmt: skip
        result.pansharpened = Path(pansharpen_out)
    return result


# ---- command line -----------------------------------------------------------------------------


def run_cli(args: argparse.Namespace) -> int:
    """`python -m backend finetune ...`: returns the exit status."""
    from .cli import CliProgress  # prints the loss at each validation on stderr

    try:
        result = finetune(
            args.pan,
            args.ms,
            args.out,
            minutes=args.minutes,
            base_model=args.base_model,
            pansharpen_out=args.pansharpen_out,
            device=args.device,
            sensor=args.sensor,
            progress=CliProgress(),
        )
    except MMMambaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    start = result.base_model or "scratch"
    print(
        f"{'cancelled' if result.cancelled else 'fine-tuned'} from {start}: {result.steps} steps "
        f"in {result.seconds:.0f} s, validation L1 {result.start_val_l1:.5f} -> "
        f"{result.best_val_l1:.5f}"
    )
    print(f"model: {result.model_path}")
    if result.pansharpened:
        print(f"pan-sharpened: {result.pansharpened}")
    return 0


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Register `finetune` on an argparse sub-parser collection; returns the new parser."""
    p = subparsers.add_parser(
        "finetune",
        help="adapt a model to one scene (Wald's protocol, no labels needed)",
        description=(
            "Fine-tune the shipped model with the scene's band count (or train from scratch for "
            "other band counts or ratios) on the scene itself, degraded by the ratio with the "
            "sensor's MTF filters, within a time budget; writes MODEL.safetensors + MODEL.json."
        ),
    )
    p.add_argument("--pan", required=True, help="PAN raster")
    p.add_argument("--ms", required=True, help="MS raster over the same ground")
    p.add_argument("--out", required=True, help="model file to write (.safetensors)")
    p.add_argument(
        "--minutes", type=float, default=DEFAULT_MINUTES, help="training time budget (default 2)"
    )
    p.add_argument("--base-model", default=None, help="starting model (default: shipped model)")
    p.add_argument("--pansharpen-out", default=None, help="also pan-sharpen the scene into this")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--sensor", default=None, help="sensor for the MTF gains (e.g. WorldView-3)")
    p.set_defaults(func=run_cli)
    return p

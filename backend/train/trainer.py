"""Train an MMMamba model on real scenes with Wald's protocol and write it with its model card.

`train` loads the scenes, cuts each into train / validation / test strips (test strips are
recorded in the card and never touched here), builds the Wald pairs, runs the loop, and writes
`MODEL.safetensors` + `MODEL.json` (best validation checkpoint), `MODEL.csv` (curves) and
`MODEL.png` (their plot).
"""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.dataset import WaldPair, make_wald_pair
from ..data.scenes import Scene, load_scene
from ..data.splits import DEFAULT_FRACTIONS, Strip, crop_strip, describe_strips, split_scene
from ..device import resolve_device, training_scan_engine
from ..errors import InputError, OutputError
from ..model.config import MMMambaConfig
from ..model.network import MMMamba
from ..normalize import denormalize_ms, method_card
from ..progress import Progress
from .loop import LoopResult, TrainOptions, run_training
from .plot import plot_curves

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Files written by `train` and what the run did.

    Attributes:
        model_path: The `.safetensors` file (its card is the `.json` beside it).
        csv_path: CSV log of the curves.
        png_path: Plot of the curves (None without matplotlib).
        loop: Summary of the training loop.
        val_metrics: Q2n, SAM, ERGAS (and L1) of the best checkpoint on the validation strips.
        card: The model card as written.
    """

    model_path: Path
    csv_path: Path
    png_path: Path | None
    loop: LoopResult
    val_metrics: dict[str, float]
    card: Any = None
    strips: list[Strip] = field(default_factory=list)


def load_scenes(data: list[str | Path | Scene], bands: int | None = None) -> list[Scene]:
    """Load scene specs (see `backend.data.scenes.load_scene`), keeping those with `bands` bands.

    Raises:
        InputError: no scene given or none has the requested band count.
    """
    if not data:
        raise InputError("No training scene given: pass at least one with --data.")
    scenes = [d if isinstance(d, Scene) else load_scene(d) for d in data]
    if bands is not None:
        kept = [s for s in scenes if s.n_bands == bands]
        for s in scenes:
            if s.n_bands != bands:
                log.info("skipping %s: %d bands, not %d", s.name, s.n_bands, bands)
        scenes = kept
        if not scenes:
            raise InputError(f"None of the scenes has {bands} MS bands.")
    counts = {s.n_bands for s in scenes}
    if len(counts) != 1:
        raise InputError(
            f"The scenes have different band counts {sorted(counts)}: train one model per band "
            "count (use --bands)."
        )
    ratios = {s.ratio for s in scenes}
    if len(ratios) != 1:
        raise InputError(f"The scenes have different PAN/MS ratios {sorted(ratios)}.")
    return scenes


def build_pairs(
    scenes: list[Scene],
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    min_strip_rows: int = 32,
) -> tuple[list[WaldPair], list[WaldPair], list[Strip]]:
    """Split every scene into strips and make the Wald pairs of its train and val strips.

    Returns:
        `(train_pairs, val_pairs, all_strips)`; test strips appear only in `all_strips`.
    """
    train_pairs: list[WaldPair] = []
    val_pairs: list[WaldPair] = []
    strips: list[Strip] = []
    for scene in scenes:
        for strip in split_scene(scene, fractions, min_rows=min_strip_rows):
            strips.append(strip)
            if strip.split == "train":
                train_pairs.append(make_wald_pair(crop_strip(scene, strip)))
            elif strip.split == "val":
                val_pairs.append(make_wald_pair(crop_strip(scene, strip)))
    if not train_pairs:
        raise InputError("No training strip: the scenes are too small.")
    return train_pairs, val_pairs, strips


@torch.no_grad()
def reduced_metrics(
    net: torch.nn.Module, pairs: list[WaldPair], device: torch.device
) -> dict[str, float]:
    """Area-weighted Q2n, SAM (degrees), ERGAS and L1 of `net` on whole Wald pairs, in DN.

    The prediction is denormalised with each pair's scales and compared with the original MS,
    as the reduced-resolution protocol does.
    """
    from ..metrics import ergas, q2n, sam

    net.eval()
    acc = {"q2n": 0.0, "sam": 0.0, "ergas": 0.0, "l1": 0.0}
    total = 0.0
    for p in pairs:
        pan, ms, target = p.tensors(device)
        out = net(pan, ms).float().cpu().numpy()[0]
        fused = denormalize_ms(out, p.stats)
        ref = denormalize_ms(p.target, p.stats)
        acc["q2n"] += q2n(ref, fused) * p.area
        acc["sam"] += sam(ref, fused) * p.area
        acc["ergas"] += ergas(ref, fused, p.ratio) * p.area
        acc["l1"] += float(np.abs(out - p.target).mean()) * p.area
        total += p.area
    return {k: float(v / total) for k, v in acc.items()}


def device_label(device: torch.device) -> str:
    """Human name of the training device, e.g. "NVIDIA H100 80GB HBM3" or "CPU (x86_64)"."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


def _scene_entry(scene: Scene) -> dict[str, Any]:
    return {
        "name": scene.name,
        "sensor": scene.sensor,
        "bands": list(scene.band_names),
        "ms_size": list(scene.ms.shape),
        "pan_size": list(scene.pan.shape),
        "ratio": scene.ratio,
        "source": Path(scene.source.split(",")[0].split(" ")[0]).name,
    }


def _write_model(out: Path, net: MMMamba, card_fields: dict[str, Any]) -> Any:
    from ..model.store import ModelCard, save_model

    try:
        return save_model(out, net, ModelCard(**card_fields))
    except OSError as exc:
        raise OutputError(f"Cannot write the model to '{out}' ({exc}).") from exc


def train(
    data: list[str | Path | Scene],
    out: str | Path,
    *,
    options: TrainOptions,
    bands: int | None = None,
    device: str = "auto",
    config: MMMambaConfig | str | None = None,
    name: str | None = None,
    description: str = "",
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    min_strip_rows: int = 32,
    scan_engine: str = "auto",
    progress: Progress | None = None,
) -> TrainResult:
    """Train a model on real scenes and write `out` (.safetensors), its card, CSV and PNG.

    Args:
        data: Scene specs or loaded scenes (one band count, one ratio).
        out: Model file to write (`.safetensors`); the card goes to the `.json` beside it.
        options: Budget and optimiser settings.
        bands: Keep only scenes with this many MS bands.
        device: "auto", "cpu", "cuda", ...
        config: Network configuration; None = the full network for the scenes' bands and
            ratio, "tiny" = `MMMambaConfig.tiny` (quick tests).
        name: Model name for the card (default: the file stem).
        description: One sentence for the card.
        fractions: Train / validation / test shares of every scene's rows.
        min_strip_rows: Smallest strip in MS rows; smaller scenes are used for training only.
        scan_engine: Selective-scan engine ("auto": mamba-ssm on CUDA when installed).
        progress: Progress and cancel; cancel stops the loop and keeps the best weights so far.
    """
    out = Path(out)
    if out.suffix != ".safetensors":
        raise InputError(f"The model file must end in .safetensors, got '{out}'.")
    if not out.parent.is_dir():
        raise OutputError(f"The folder '{out.parent}' does not exist: create it first.")
    dev = resolve_device(device)
    t0 = time.perf_counter()
    scenes = load_scenes(data, bands)
    train_pairs, val_pairs, strips = build_pairs(scenes, fractions, min_strip_rows)
    n_bands, ratio = scenes[0].n_bands, scenes[0].ratio
    if config == "tiny":
        cfg = MMMambaConfig.tiny(n_bands, ratio)
    elif isinstance(config, MMMambaConfig):
        cfg = config
    else:
        cfg = MMMambaConfig(ms_bands=n_bands, ratio=ratio)
    if cfg.ms_bands != n_bands or cfg.ratio != ratio:
        raise InputError(
            f"The network config ({cfg.ms_bands} bands, ratio {cfg.ratio}) does not fit the data "
            f"({n_bands} bands, ratio {ratio})."
        )
    torch.manual_seed(options.seed)
    net = MMMamba(cfg)
    net.set_scan(scan_engine)
    engine = training_scan_engine(dev, scan_engine)
    band_names = list(scenes[0].band_names)
    base_fields: dict[str, Any] = {
        "name": name or out.stem,
        "config": cfg.to_dict(),
        "bands": band_names,
        "sensors": sorted({s.sensor for s in scenes}),
        "ratio": ratio,
        "normalisation": method_card(),
        "description": description,
    }
    amp = (dev.type == "cuda") if options.amp is None else bool(options.amp)

    def training_fields(loop: LoopResult | None, step: int) -> dict[str, Any]:
        return {
            "data": [_scene_entry(s) for s in scenes],
            "splits": {
                "method": "per scene, disjoint full-width strips of MS rows (top to bottom: "
                "train, validation, test), cut before degradation",
                "fractions": list(fractions),
                "strips": describe_strips(strips),
            },
            "protocol": "Wald: PAN and MS degraded by the ratio with sensor MTF-matched "
            "Gaussian filters (backend.degrade.wald_degrade); target = original MS",
            "loss": "L1"
            + (f" + {options.sam_weight} * SAM (radians)" if options.sam_weight else ""),
            "optimizer": f"Adam lr {options.lr} betas (0.9, 0.999), cosine to {options.lr_min}, "
            f"grad-norm clip {options.clip}",
            "batch": options.batch,
            "crop_pan_px": options.crop,
            "augmentation": "random crops, horizontal flips, quarter turns"
            if options.augment
            else "random crops",
            "budget": f"{options.minutes} min" if options.minutes else f"{options.epochs} epochs",
            "steps": loop.steps if loop else step,
            "epochs": round(loop.epochs, 2) if loop else None,
            "epoch_definition": "steps whose crops add up to the training area once",
            "seconds": round(loop.seconds, 1) if loop else None,
            "best_step": loop.best_step if loop else step,
            "device": device_label(dev),
            "scan_engine": engine,
            "amp": "bf16 autocast, fp32 scan state" if amp else "fp32",
            "seed": options.seed,
            "torch": torch.__version__,
            "cancelled": bool(loop.cancelled) if loop else False,
        }

    def on_best(model: torch.nn.Module, step: int, val_l1: float) -> None:
        fields = dict(base_fields)
        fields["training"] = training_fields(None, step)
        fields["metrics"] = {"validation": {"l1": val_l1, "step": step}}
        _write_model(out, model, fields)  # type: ignore[arg-type]

    csv_path = out.with_suffix(".csv")
    loop = run_training(
        net,
        train_pairs,
        val_pairs,
        options,
        dev,
        on_best=on_best,
        csv_path=csv_path,
        progress=progress,
    )
    val_metrics = reduced_metrics(net, val_pairs or train_pairs, dev)
    fields = dict(base_fields)
    fields["training"] = training_fields(loop, loop.steps)
    fields["training"]["total_seconds"] = round(time.perf_counter() - t0, 1)
    fields["metrics"] = {
        "validation": {
            "protocol": "reduced resolution (Wald), validation strips, area-weighted mean",
            **{k: round(v, 5) for k, v in val_metrics.items()},
        }
    }
    card = _write_model(out, net.cpu(), fields)
    png = plot_curves(csv_path, out.with_suffix(".png"), title=f"{out.stem} ({device_label(dev)})")
    log.info(
        "wrote %s (validation Q2n %.4f, SAM %.3f)", out, val_metrics["q2n"], val_metrics["sam"]
    )
    return TrainResult(out, csv_path, png, loop, val_metrics, card, strips)

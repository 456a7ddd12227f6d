"""`python -m backend train --data SCENES... --out MODEL.safetensors [--epochs N | --minutes M]`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import MMMambaError


def run_cli(args: argparse.Namespace) -> int:
    """Run the `train` command; returns the exit status."""
    # Imported here: `python -m backend --help` must not pay for torch.
    from ..cli import CliProgress  # prints the loss at each validation on stderr
    from .loop import TrainOptions
    from .trainer import train

    try:
        options = TrainOptions(
            epochs=args.epochs,
            minutes=args.minutes,
            batch=args.batch,
            crop=args.crop,
            lr=args.lr,
            sam_weight=args.sam_weight,
            seed=args.seed,
            val_every=args.val_every,
            amp=args.amp,
        )
        result = train(
            args.data,
            args.out,
            options=options,
            bands=args.bands,
            device=args.device,
            config="tiny" if args.tiny else None,
            name=args.name,
            description=args.description or "",
            fractions=tuple(args.fractions),  # type: ignore[arg-type]
            scan_engine=args.scan_engine,
            progress=CliProgress(),
        )
    except MMMambaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    loop = result.loop
    vm = result.val_metrics
    print(
        f"{'cancelled' if loop.cancelled else 'trained'}: {loop.steps} steps "
        f"({loop.epochs:.1f} epochs) in {loop.seconds:.0f} s; best step {loop.best_step}; "
        f"validation Q2n {vm['q2n']:.4f}, SAM {vm['sam']:.3f} deg, ERGAS {vm['ergas']:.3f}"
    )
    print(f"model: {result.model_path}")
    print(f"log: {result.csv_path}" + (f", plot: {result.png_path}" if result.png_path else ""))
    return 0


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Register `train` on an argparse sub-parser collection; returns the new parser."""
    p = subparsers.add_parser(
        "train",
        help="train a model on real PAN + MS scenes (Wald's protocol)",
        description=(
            "Train MMMamba on real scenes: each is cut into train / validation / test strips, "
            "degraded by the ratio with the sensor's MTF filters, and the best checkpoint on "
            "validation is written as MODEL.safetensors + MODEL.json (model card), with the "
            "curves in MODEL.csv and MODEL.png. Scenes: X.mat (toolbox format), a folder with "
            "pan.tif + lr_<band>.tif, X_ms.tif beside X_pan.tif, or PAN.tif,MS.tif."
        ),
    )
    p.add_argument("--data", nargs="+", required=True, metavar="SCENE", help="training scenes")
    p.add_argument("--out", required=True, help="model file to write (.safetensors)")
    budget = p.add_mutually_exclusive_group(required=True)
    budget.add_argument("--epochs", type=int, default=None, help="number of epochs")
    budget.add_argument("--minutes", type=float, default=None, help="wall-clock budget")
    p.add_argument("--bands", type=int, default=None, help="use only scenes with this many bands")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--batch", type=int, default=4, help="crops per step (default 4)")
    p.add_argument("--crop", type=int, default=128, help="crop side in PAN pixels (default 128)")
    p.add_argument("--lr", type=float, default=5e-4, help="initial learning rate (default 5e-4)")
    p.add_argument(
        "--sam-weight", type=float, default=0.0, help="weight of a spectral-angle loss term"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--val-every", type=int, default=50, help="validate every N steps")
    p.add_argument(
        "--fractions",
        type=float,
        nargs=3,
        default=(0.6, 0.2, 0.2),
        metavar=("TRAIN", "VAL", "TEST"),
        help="shares of each scene's rows (default 0.6 0.2 0.2)",
    )
    p.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast (default: on for CUDA)",
    )
    p.add_argument(
        "--scan-engine",
        default="auto",
        choices=("auto", "cuda", "chunked"),
        help="selective-scan engine (default auto: mamba-ssm on CUDA when installed)",
    )
    p.add_argument("--tiny", action="store_true", help="tiny network (quick tests only)")
    p.add_argument("--name", default=None, help="model name in the card (default: file stem)")
    p.add_argument("--description", default=None, help="one sentence for the card")
    p.set_defaults(func=run_cli)
    return p

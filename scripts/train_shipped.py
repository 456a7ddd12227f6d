"""Train the two shipped models and write resources/models/mmmamba-{4,8}band.{safetensors,json}.

Steps (each a sub-command):

    prepare  Convert the real scenes of ../shared/data/pansharpening into toolbox .mat files in
             one folder, so that training needs neither GDAL nor the shared folder (a GPU
             machine has neither).
    train    Train every shipped model in loss variants (L1, and L1 plus a spectral-angle term),
             in parallel processes on one device, keep per model the variant with the better
             validation Q2n (validation strips only), then adapt the 4-band model to two of its
             scenes (rows outside their test strips) to measure scene adaptation later.
    install  Copy the selected models (weights, card, CSV log, PNG plot) into resources/models.

Card metrics on the held-out test strips are added afterwards by scripts/card_metrics.py.

Example (CPU check of the whole chain in a minute):

    python scripts/train_shipped.py prepare --to .traindata
    python scripts/train_shipped.py train --data-dir .traindata --out-dir /tmp/shipped \
        --minutes 0.2 --finetune-minutes 0.1 --device cpu --tiny
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.data.scenes import load_scene  # noqa: E402

log = logging.getLogger("train_shipped")

SHARED = REPO / ".." / "shared" / "data" / "pansharpening"

# Scene name -> how to read it from the shared folder.
SOURCES = {
    "ikonos_imgIK": "ikonos_imgIK.mat",
    "geoeye1_imgGE1": "geoeye1_imgGE1.mat",
    "osman": "osman_ms.tif",
    "koshizuka": "koshizuka",
    "wv2_imgWV2": "wv2_imgWV2.mat",
    "wv3_example": "wv3_example.mat",
}

# Where each scene comes from (shared/data/README.md); written into the model cards.
ORIGINS = {
    "ikonos_imgIK": "shared/data/pansharpening/ikonos_imgIK.mat (IKONOS, 11 bit), from "
    "sergiovitale/pansharpening-cnn-python-version imgs/imgIK.mat",
    "geoeye1_imgGE1": "shared/data/pansharpening/geoeye1_imgGE1.mat (GeoEye-1, stored as 8 bit), "
    "from sergiovitale/pansharpening-cnn-python-version imgs/imgGE1.mat",
    "osman": "shared/data/pansharpening/osman_ms.tif + osman_pan.tif (unknown VHR sensor, China, "
    "EPSG:32649), from Osman-Geomatics93/pansharpening-toolkit- data/ (MIT)",
    "koshizuka": "shared/data/pansharpening/koshizuka/ lr_{blue,green,red,nir}.tif + pan.tif "
    "(unknown sensor, ~15 bit), from take-koshizuka/pan-sharpening data/",
    "wv2_imgWV2": "shared/data/pansharpening/wv2_imgWV2.mat (WorldView-2, 11 bit), from "
    "codegaj/py_pansharpening images/imgWV2.mat",
    "wv3_example": "shared/data/pansharpening/wv3_example.mat (WorldView-3, 32 x 32 MS pixels), "
    "from matciotola/Z-PNN example/WV3_example.mat",
}
LICENCE_NOTE = (
    "The imagery belongs to its satellite operators; the copies come from public research "
    "repositories, several under a non-profit research-use licence."
)

MODELS = {
    "mmmamba-4band": {
        "scenes": ["ikonos_imgIK", "geoeye1_imgGE1", "osman", "koshizuka"],
        "bands": 4,
        "description": (
            "MMMamba pan-sharpening for 4-band MS (blue, green, red, NIR) at ratio 4, trained "
            "with Wald's protocol on IKONOS, GeoEye-1 and two unknown-sensor VHR scenes."
        ),
    },
    "mmmamba-8band": {
        "scenes": ["wv2_imgWV2", "wv3_example"],
        "bands": 8,
        "description": (
            "MMMamba pan-sharpening for 8-band WorldView-2/3 MS (coastal, blue, green, yellow, "
            "red, red edge, NIR1, NIR2) at ratio 4, trained with Wald's protocol on a "
            "WorldView-2 and a WorldView-3 scene."
        ),
    },
}

VARIANTS = {"l1": 0.0, "l1sam": 0.2}
"""Loss variants: weight of the spectral-angle term (radians) added to L1."""

ADAPT_SCENES = ("osman", "koshizuka")
"""Scenes the 4-band model is adapted to (outside their test strips) to measure adaptation."""


def prepare(dest: Path) -> None:
    """Write every shared scene as `<name>.mat` (I_PAN, I_MS_LR (h, w, C), ratio, sensor)."""
    import scipy.io

    dest.mkdir(parents=True, exist_ok=True)
    for name, rel in SOURCES.items():
        scene = load_scene(SHARED / rel)
        if scene.name != name:
            raise SystemExit(f"scene {rel} loads as {scene.name}, expected {name}")
        target = dest / f"{name}.mat"
        src = SHARED / rel
        if src.suffix == ".mat":
            shutil.copyfile(src, target)
        else:
            # uint16 keeps the files small; the GeoTIFFs are uint16 to begin with.
            scipy.io.savemat(
                target,
                {
                    "I_PAN": scene.pan.astype(np.uint16),
                    "I_MS_LR": scene.ms.transpose(1, 2, 0).astype(np.uint16),
                    "ratio": np.uint8(scene.ratio),
                    "sensor": scene.sensor,
                },
                do_compression=True,
            )
            back = load_scene(target)
            if not (np.array_equal(back.pan, scene.pan) and np.array_equal(back.ms, scene.ms)):
                raise SystemExit(f"{target} does not round-trip")
        print(f"{target} ({scene.describe()})")


def _train_cmd(model: str, variant: str, args: argparse.Namespace, extra: list[str]) -> list[str]:
    spec = MODELS[model]
    out = Path(args.out_dir) / f"{model}--{variant}.safetensors"
    return [
        sys.executable,
        "-m",
        "backend.train",
        "--data",
        *[str(Path(args.data_dir) / f"{s}.mat") for s in spec["scenes"]],
        "--out",
        str(out),
        "--minutes",
        f"{args.train_minutes:.3f}",
        "--device",
        args.device,
        "--sam-weight",
        str(VARIANTS[variant]),
        "--name",
        model,
        "--description",
        spec["description"],
        "--batch",
        str(args.batch),
        "--crop",
        str(args.crop),
        *(["--tiny"] if args.tiny else []),
        *extra,
    ]


def _run_parallel(jobs: dict[str, list[str]], out_dir: Path) -> dict[str, int]:
    """Run commands side by side, each logging to `<out_dir>/<key>.log`; returns exit codes."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs = {}
    for key, cmd in jobs.items():
        fh = open(out_dir / f"{key}.log", "a")  # noqa: SIM115 - closed below
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        procs[key] = (
            subprocess.Popen(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, env=env),
            fh,
            time.time(),
        )
    codes = {}
    for key, (p, fh, _) in procs.items():
        codes[key] = p.wait()
        fh.close()
        print(f"{key}: exit {codes[key]}")
    return codes


def train_all(args: argparse.Namespace) -> None:
    """Train all models and variants in parallel, select, then adapt (see module docstring)."""
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    if args.deadline:
        # Share what is left before the deadline between training, adaptation and packing.
        left = args.deadline - t_start - args.reserve_s
        total = args.minutes + args.finetune_minutes
        scale = min(1.0, left / 60.0 / total) if total > 0 else 1.0
        if scale < 1.0:
            print(f"deadline: scaling the budgets by {scale:.2f}")
        args.train_minutes = max(0.2, args.minutes * scale)
        args.ft_minutes = max(0.1, args.finetune_minutes * scale)
    else:
        args.train_minutes = args.minutes
        args.ft_minutes = args.finetune_minutes
    models = [m for m in MODELS if m in args.models]
    variants = [v for v in VARIANTS if v in args.variants]
    jobs = {f"{m}--{v}": _train_cmd(m, v, args, []) for m in models for v in variants}
    codes = _run_parallel(jobs, out_dir)
    # A run that failed (e.g. a kernel that does not support bf16) is retried once in fp32.
    # A failed run is retried in fp32 (a kernel without bf16 support), then with the PyTorch
    # scan (a kernel that does not run at all), with what is left of the time.
    for fallback in (["--no-amp"], ["--no-amp", "--scan-engine", "chunked"]):
        failed = [k for k, c in codes.items() if c != 0]
        if not failed or not args.retry:
            break
        if args.deadline:
            left = (args.deadline - time.time() - args.reserve_s) / 60.0 - args.ft_minutes
            args.train_minutes = max(0.2, min(args.train_minutes, left))
        print(f"retrying {failed} with {fallback} for {args.train_minutes:.2f} min")
        retry = {k: _train_cmd(*k.split("--"), args, fallback) for k in failed}
        codes.update(_run_parallel(retry, out_dir))

    selection = {}
    for m in models:
        cands = {}
        for v in variants:
            card_p = out_dir / f"{m}--{v}.json"
            if codes.get(f"{m}--{v}") == 0 and card_p.is_file():
                cands[v] = json.loads(card_p.read_text())["metrics"]["validation"]
        if not cands:
            print(f"{m}: no successful run")
            continue
        # Q2n on the validation strips decides; L1 breaks ties. The spectral-angle term is kept
        # only if it gives the better validation Q2n.
        best = max(cands, key=lambda v: (round(cands[v]["q2n"], 4), -cands[v]["l1"]))
        selection[m] = {"chosen": best, "sam_weight": VARIANTS[best], "candidates": cands}
        for ext in ("safetensors", "json", "csv", "png"):
            src = out_dir / f"{m}--{best}.{ext}"
            if src.is_file():
                shutil.copyfile(src, out_dir / f"{m}.{ext}")
        card_p = out_dir / f"{m}.json"
        card = json.loads(card_p.read_text())
        # Editing the card keeps the weights' checksum valid (it covers the weights only).
        card["training"]["loss_selection"] = {
            "rule": "variant with the higher validation Q2n (validation strips only)",
            "candidates": {
                v: {"sam_weight": VARIANTS[v], **{k: round(x, 5) for k, x in c.items()
                    if isinstance(x, float)}}
                for v, c in cands.items()
            },
            "chosen": best,
        }  # fmt: skip
        for entry in card["training"]["data"]:
            entry["origin"] = ORIGINS.get(entry["name"], entry.get("source", ""))
        card["training"]["data_note"] = LICENCE_NOTE
        card_p.write_text(json.dumps(card, indent=2) + "\n")
        print(f"{m}: chose {best} {cands[best]}")
    (out_dir / "selection.json").write_text(json.dumps(selection, indent=2) + "\n")

    base = out_dir / "mmmamba-4band.safetensors"
    if args.finetune_minutes > 0 and base.is_file():
        if args.deadline:
            left = args.deadline - time.time() - args.reserve_s
            args.ft_minutes = max(0.1, min(args.ft_minutes, left / 60.0))
        jobs = {
            f"adapt-{s}": [
                sys.executable, str(Path(__file__).resolve()), "adapt", "--data-dir",
                str(args.data_dir), "--scene", s, "--base", str(base), "--out",
                str(out_dir / f"adapt-{s}.safetensors"), "--minutes", f"{args.ft_minutes:.3f}",
                "--device", args.device,
            ]
            for s in ADAPT_SCENES
        }  # fmt: skip
        _run_parallel(jobs, out_dir)
    print(f"all done in {time.time() - t_start:.0f} s")


def adapt(args: argparse.Namespace) -> None:
    """Adapt a model to one scene's rows outside its test strip (the same split as training)."""
    from backend.data.scenes import Scene
    from backend.data.splits import DEFAULT_FRACTIONS, split_scene
    from backend.finetune import finetune_scene

    scene = load_scene(Path(args.data_dir) / f"{args.scene}.mat")
    strips = split_scene(scene, DEFAULT_FRACTIONS)
    test = [s for s in strips if s.split == "test"]
    end = test[0].row0 if test else scene.ms.shape[1]
    r = scene.ratio
    part = Scene(
        name=scene.name,
        sensor=scene.sensor,
        pan=scene.pan[: end * r].copy(),
        ms=scene.ms[:, :end].copy(),
        ratio=r,
        band_names=scene.band_names,
        source=f"{scene.source} MS rows 0:{end} (test strip excluded)",
    )
    res = finetune_scene(
        part, args.out, minutes=args.minutes, base_model=args.base, device=args.device
    )
    print(
        f"adapted to {args.scene}: {res.steps} steps, validation L1 {res.start_val_l1:.5f} -> "
        f"{res.best_val_l1:.5f}"
    )


def install(args: argparse.Namespace) -> None:
    """Copy the selected models and their logs into the models folder."""
    src, dest = Path(args.src), Path(args.to)
    dest.mkdir(parents=True, exist_ok=True)
    from backend.train.plot import plot_curves

    for m in MODELS:
        for ext in ("safetensors", "json", "csv"):
            f = src / f"{m}.{ext}"
            if f.is_file():
                shutil.copyfile(f, dest / f.name)
                print(f"installed {dest / f.name}")
        if (dest / f"{m}.csv").is_file():
            training = json.loads((dest / f"{m}.json").read_text())["training"]
            title = f"{m}: {training['device']}, {training['budget']}, {training['steps']} steps"
            plot_curves(dest / f"{m}.csv", dest / f"{m}.png", title=title)
            print(f"plotted {dest / f'{m}.png'}")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="convert the shared scenes to .mat files")
    p.add_argument("--to", type=Path, default=REPO / ".traindata")
    p = sub.add_parser("train", help="train, select and adapt")
    p.add_argument("--data-dir", type=Path, default=REPO / ".traindata")
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--minutes", type=float, default=3.0, help="budget of each training run")
    p.add_argument("--finetune-minutes", type=float, default=1.0)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--tiny", action="store_true", help="tiny networks (quick checks)")
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    p.add_argument("--no-retry", dest="retry", action="store_false", help="no fp32 retry")
    p.add_argument("--deadline", type=float, default=None, help="unix time to be done by")
    p.add_argument("--reserve-s", type=float, default=60.0, help="kept free before the deadline")
    p = sub.add_parser("adapt", help="adapt a model to one scene (outside its test strip)")
    p.add_argument("--data-dir", type=Path, default=REPO / ".traindata")
    p.add_argument("--scene", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, default=1.0)
    p.add_argument("--device", default="auto")
    p = sub.add_parser("install", help="copy the selected models into resources/models")
    p.add_argument("--src", required=True)
    p.add_argument("--to", default=str(REPO / "resources" / "models"))
    args = ap.parse_args()
    {"prepare": lambda: prepare(args.to), "train": lambda: train_all(args),
     "adapt": lambda: adapt(args), "install": lambda: install(args)}[args.cmd]()  # fmt: skip


if __name__ == "__main__":
    main()

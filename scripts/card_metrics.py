"""Measure shipped models on their held-out test strips and write the figures into their cards.

For every model, every training scene that has a test strip (recorded in the card's splits) is
cut to that strip and assessed with `backend.evaluate.evaluate`, for MMMamba and the classical
methods EXP, Brovey, GSA and MTF-GLP-HPM alike: reduced resolution (Wald's protocol with the
sensor's MTF filters: Q2n, SAM, ERGAS, sCC, ...) and full resolution (D_lambda, D_s, HQNR). The
test strips were never used for training or checkpoint selection. Only the card (`X.json`) is
rewritten: the weights file is left byte for byte as it is, its checksum is verified before and
after, and the card records the metric definitions that produced the figures.

Scene adaptation (`--adapt MODEL:SCENE`) is measured the same way on that scene's test strip,
for the model it started from and for the adapted one, and written to `--adapt-json`.

    python scripts/card_metrics.py resources/models/mmmamba-4band.safetensors \
        resources/models/mmmamba-8band.safetensors --device cpu
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from train_shipped import SHARED, SOURCES  # noqa: E402

from backend.data.scenes import Scene, load_scene  # noqa: E402
from backend.data.splits import Strip, crop_strip  # noqa: E402
from backend.evaluate import evaluate  # noqa: E402
from backend.model.card import ModelCard, card_path, sha256_file  # noqa: E402
from backend.model.store import load_model  # noqa: E402

log = logging.getLogger("card_metrics")

METHODS = ["mmmamba", "exp", "brovey", "gsa", "mtf-glp-hpm"]
REDUCED_KEYS = ("Q2n", "SAM", "ERGAS", "sCC", "Q", "PSNR")
FULL_KEYS = ("D_lambda", "D_s", "HQNR")
DEFINITION_KEYS = ("d_lambda", "d_s", "q2n_block", "decimation", "interpolation", "mtf_filter")


def _scene(name: str, data_dir: Path | None) -> Scene:
    if data_dir is not None and (data_dir / f"{name}.mat").is_file():
        return load_scene(data_dir / f"{name}.mat")
    return load_scene(SHARED / SOURCES[name])


def _strips(training: dict[str, Any], split: str) -> list[Strip]:
    return [
        Strip(s["scene"], s["split"], s["ms_rows"][0], s["ms_rows"][1])
        for s in training["splits"]["strips"]
        if s["split"] == split
    ]


def assess(scene: Scene, models: dict[str, Any], device: str) -> dict[str, Any]:
    """Reduced- and full-resolution figures of the classical methods and of each model."""
    out: dict[str, Any] = {"reduced": {}, "full": {}}
    first = True
    for label, model in models.items():
        methods = METHODS if first else ["mmmamba"]
        res = evaluate(
            scene.pan,
            scene.ms,
            sensor=scene.sensor,
            methods=methods,
            model=model,
            device=device,
            max_size=None,
        )
        for m in res["methods"]:
            key = label if m == "mmmamba" else m
            out["reduced"][key] = {k: round(float(res["reduced"][m][k]), 5) for k in REDUCED_KEYS}
            out["full"][key] = {k: round(float(res["full"][m][k]), 5) for k in FULL_KEYS}
        out["size"] = {"ms": list(scene.ms.shape), "pan": list(scene.pan.shape)}
        out["definitions"] = {k: res["settings"][k] for k in DEFINITION_KEYS}
        first = False
    return out


def _mean(per_scene: dict[str, Any]) -> dict[str, Any]:
    mean: dict[str, Any] = {"reduced": {}, "full": {}}
    for part in ("reduced", "full"):
        methods = next(iter(per_scene.values()))[part].keys()
        for m in methods:
            keys = next(iter(per_scene.values()))[part][m].keys()
            mean[part][m] = {
                k: round(float(np.mean([s[part][m][k] for s in per_scene.values()])), 5)
                for k in keys
            }
    return mean


def _write_card(weights: Path, card: ModelCard) -> None:
    """Rewrite `X.json` atomically; the weights file and the card's checksum stay as they are."""
    target = card_path(weights)
    fd, tmp = tempfile.mkstemp(suffix=".json.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(card.to_dict(), f, indent=2, sort_keys=False)
            f.write("\n")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def card_metrics(weights: Path, data_dir: Path | None, device: str, splits: list[str]) -> None:
    """Assess one model on its recorded strips and rewrite its card with the figures."""
    digest = sha256_file(weights)
    loaded = load_model(weights, device=device)  # verifies the checksum against the card
    card = loaded.card
    for split in splits:
        strips = _strips(card.training, split)
        per_scene = {}
        for strip in strips:
            t0 = time.perf_counter()
            scene = crop_strip(_scene(strip.scene, data_dir), strip)
            per_scene[strip.scene] = assess(scene, {"mmmamba": loaded}, device)
            log.info("%s %s strip assessed in %.0f s", strip.scene, split, time.perf_counter() - t0)
        definitions = next(iter(per_scene.values()))["definitions"] if per_scene else {}
        for res in per_scene.values():
            res.pop("definitions", None)
        card.metrics[split] = {
            "protocol": (
                f"backend.evaluate on each scene's {split} strip (MS rows as in training.splits): "
                "reduced resolution = Wald's protocol with the sensor's MTF filters, Q2n/Q on "
                "32 x 32 blocks, SAM in degrees; full resolution = D_lambda (Khan), D_s and HQNR "
                "with the toolbox definitions (see 'definitions'); the classical methods are "
                "computed the same way on the same strips"
            ),
            "definitions": definitions,
            "device": device,
            "scenes": per_scene,
            "mean_over_scenes": _mean(per_scene) if per_scene else {},
        }
    if sha256_file(weights) != digest:
        raise SystemExit(f"{weights} changed while its card was being measured; nothing written")
    _write_card(weights, card)
    load_model(weights)  # card and weights still verify together
    print(f"{weights}: metrics written")
    for split in splits:
        mean = card.metrics[split]["mean_over_scenes"]
        for m in mean.get("reduced", {}):
            r, f = mean["reduced"][m], mean["full"][m]
            print(
                f"  {split} {m:12s} Q2n {r['Q2n']:.4f}  SAM {r['SAM']:.3f}  ERGAS {r['ERGAS']:.3f} "
                f" sCC {r['sCC']:.4f}  HQNR {f['HQNR']:.4f}"
            )


def adaptation(specs: list[str], base: Path, data_dir: Path | None, device: str) -> dict[str, Any]:
    """Shipped vs adapted model on the test strip of each adapted scene."""
    base_model = load_model(base, device=device)
    strips = {s.scene: s for s in _strips(base_model.card.training, "test")}
    results = {}
    for spec in specs:
        path, scene_name = spec.rsplit(":", 1)
        adapted = load_model(path, device=device)
        scene = crop_strip(_scene(scene_name, data_dir), strips[scene_name])
        res = assess(scene, {base_model.card.name: base_model, "adapted": adapted}, device)
        res["adapted_training"] = {
            k: adapted.card.training.get(k) for k in ("steps", "seconds", "device", "budget")
        }
        res["adapted_validation"] = adapted.card.metrics.get("validation", {})
        results[scene_name] = res
        for part, key in (("reduced", "Q2n"), ("reduced", "SAM"), ("full", "HQNR")):
            b = res[part][base_model.card.name][key]
            a = res[part]["adapted"][key]
            print(f"  {scene_name} {key}: shipped {b:.4f} -> adapted {a:.4f}")
    return results


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("models", nargs="*", type=Path, help="model files whose cards to complete")
    ap.add_argument("--data-dir", type=Path, default=None, help="folder of <scene>.mat files")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--splits", nargs="+", default=["test"], choices=["val", "test"])
    ap.add_argument("--adapt", nargs="*", default=[], metavar="MODEL:SCENE")
    ap.add_argument(
        "--adapt-base", type=Path, default=REPO / "resources/models/mmmamba-4band.safetensors"
    )
    ap.add_argument("--adapt-json", type=Path, default=None)
    args = ap.parse_args()
    for w in args.models:
        card_metrics(w, args.data_dir, args.device, args.splits)
    if args.adapt:
        res = adaptation(args.adapt, args.adapt_base, args.data_dir, args.device)
        if args.adapt_json:
            args.adapt_json.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()

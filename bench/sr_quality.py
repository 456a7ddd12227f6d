"""Quality of zero-shot super-resolution on real rasters (Wald's protocol), against baselines.

Protocol, per scene and scale s in {2, 4}:

1. The original image is the reference `REF` (C x H x W, H and W multiples of s).
2. `LR` = REF blurred with the MTF filter of the sensor (gain at Nyquist from ../shared/data's
   README; 0.30 where the sensor is unknown) and decimated by s, each coarse pixel centred on the
   s x s block it covers (GIS convention: what GDAL and the network assume).
3. Every method brings LR back to H x W; PSNR (peak = maximum of the reference), SSIM and SAM are
   computed against REF on the evaluated bands, away from an 8-pixel border.

Methods: GDAL bicubic and Lanczos resampling of LR; MTF-GLP-HPM (`backend.classical`), the
classical high-pass injection of the guide, fed with the LR decimated in its own (toolbox)
convention, so that its 23-tap interpolation is not half a pixel off; and `backend.sr` unguided and
guided, without adaptation (`--adapt-steps 0`) and with the given step budgets.

Guides (guided mode needs a band on the reference grid):

- landsat7_RGB, rgbn_5m: band 1 (red) of the original image itself, a stand-in for a finer
  co-registered band. The guide band is then excluded from the metrics of *every* method (only
  the other bands are scored), since recovering a band from itself is trivial.
- WorldView-2 (4 of its 8 bands: blue, green, red, NIR1): the real PAN of the scene, MTF-filtered
  (PAN gain) and decimated by 4 onto the MS grid, as in reduced-resolution pan-sharpening
  assessment. All 4 bands are scored. mmmamba-4band was not trained on WorldView-2.

Adaptation only ever sees LR (and the guide degraded by s): the reference never reaches it.

Band names: each case records its band names (from the GeoTIFF's colour interpretation for
landsat7_RGB and rgbn_5m, exactly as `python -m backend sr` reads them; blue, green, red, nir for
the WorldView-2 bands), so the network gets its bands in the model card's order.

Hyper-parameters (adaptation layers, views, steps, ensemble size, guide matching) were chosen on
development crops that are not reported here: a 256 x 256 crop of landsat7_RGB at (432, 96),
disjoint from the reported one, and IKONOS rows 192-320 x columns 0-192 (its validation and test
strips, never trained on), stored as R, G, B, NIR with the real PAN degraded x4 as the guide.

Phases (GDAL is needed by `prepare` only, so `run` also works on a GPU machine without GDAL):

    python bench/sr_quality.py prepare --data DIR      # cases + GDAL/classical baselines
    python bench/sr_quality.py run --data DIR [--steps 100,400] [--model NAME|PATH|random]
    python bench/sr_quality.py report --data DIR       # markdown table of everything measured
    python bench/sr_quality.py all --data DIR ...      # the three in a row
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.degrade import decimate, mtf_filter, sensor_gains  # noqa: E402
from backend.metrics import psnr, sam, ssim  # noqa: E402

SHARED = REPO / ".." / "shared" / "data"
SCALES = (2, 4)
BORDER = 8
SCENES = ("landsat7_rgb", "rgbn_5m", "wv2_bgrn")

log = logging.getLogger("sr_quality")


def load_scene(name: str) -> dict:
    """Reference image, guide, evaluated bands and sensor of a scene (float32 arrays)."""
    if name == "wv2_bgrn":
        from scipy.io import loadmat

        d = loadmat(str(SHARED / "pansharpening" / "wv2_imgWV2.mat"))
        ms = np.asarray(d["I_MS"], np.float32).transpose(2, 0, 1)[[1, 2, 4, 6]]
        pan = np.asarray(d["I_PAN"], np.float32)
        gains = sensor_gains("WorldView-2", 8)
        guide = decimate(mtf_filter(pan, gains.pan, 4), 4).astype(np.float32)
        return {
            "ref": ms,
            "guide": np.ascontiguousarray(guide),
            "names": ["blue", "green", "red", "nir"],
            "eval_bands": [0, 1, 2, 3],
            "ms_gains": gains.ms[[1, 2, 4, 6]],
            "note": "WV2 B2,B3,B5,B7 320x320 (11-bit); guide = real PAN degraded x4 (MTF 0.11)",
        }
    from osgeo import gdal

    from backend.sr_bands import band_name

    if name == "landsat7_rgb":
        ds = gdal.Open(str(SHARED / "ms_only" / "landsat7_RGB.byte.tif"))
        ref = ds.ReadAsArray(108, 212, 320, 320).astype(np.float32)
        note = "Landsat 7 RGB 320x320 crop at (108, 212) inside the footprint (8-bit)"
    elif name == "rgbn_5m":
        ds = gdal.Open(str(SHARED / "ms_only" / "rgbn_5m_uint8.tif"))
        ref = ds.ReadAsArray(0, 0, 512, 400).astype(np.float32)
        note = "RGBN 5 m 512x400 (8-bit)"
    else:
        raise SystemExit(f"unknown scene {name}")
    c = ref.shape[0]
    names = []
    for b in range(1, c + 1):
        band = ds.GetRasterBand(b)
        interp = gdal.GetColorInterpretationName(band.GetColorInterpretation())
        names.append(band_name(band.GetDescription(), interp))
    return {
        "ref": ref,
        "guide": ref[0].copy(),
        "names": names,
        "eval_bands": list(range(1, c)),
        "ms_gains": sensor_gains(None, c).ms,
        "note": note + "; guide = its own band 1 (red), scored on the other bands",
    }


def centred_lr(ref: np.ndarray, s: int, gains: np.ndarray) -> np.ndarray:
    """LR of the protocol: the same degradation the adaptation assumes (centred decimation)."""
    from backend.sr_adapt import centred_degrade

    return centred_degrade(ref, s, gains)


def gdal_resample(lr: np.ndarray, s: int, alg: str) -> np.ndarray:
    """GDAL resampling of `(C, h, w)` to `(C, h*s, w*s)` (pixel-is-area grids, same extent)."""
    from osgeo import gdal

    c, h, w = lr.shape
    src = gdal.GetDriverByName("MEM").Create("", w, h, c, gdal.GDT_Float32)
    src.SetGeoTransform((0.0, float(s), 0.0, 0.0, 0.0, -float(s)))
    for b in range(c):
        src.GetRasterBand(b + 1).WriteArray(lr[b])
    out = gdal.Translate("", src, format="MEM", width=w * s, height=h * s, resampleAlg=alg)
    return out.ReadAsArray().astype(np.float32).reshape(c, h * s, w * s)


def score(ref: np.ndarray, out: np.ndarray, bands: list[int]) -> dict[str, float]:
    """PSNR, SSIM, SAM on the evaluated bands, away from the border."""
    b = BORDER
    r = ref[bands, b:-b, b:-b].astype(np.float64)
    o = np.nan_to_num(out[bands, b:-b, b:-b].astype(np.float64))
    peak = float(r.max())
    res = {"psnr": psnr(r, o, data_range=peak), "ssim": ssim(r, o, data_range=peak)}
    res["sam"] = sam(r, o) if len(bands) > 1 else float("nan")
    return res


def machine() -> str:
    """A short description of where the numbers were measured."""
    text = f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPU(s)"
    try:
        import torch

        if torch.cuda.is_available():
            text += f", {torch.cuda.get_device_name(0)}"
        text += f", torch {torch.__version__}, {torch.get_num_threads()} thread(s)"
    except ImportError:
        pass
    return text


def cmd_prepare(args: argparse.Namespace) -> None:
    from backend.classical import mtf_glp_hpm

    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.scenes:
        sc = load_scene(name)
        ref, guide = sc["ref"], sc["guide"]
        for s in SCALES:
            c, h, w = ref.shape
            h, w = h // s * s, w // s * s
            r, g = ref[:, :h, :w], guide[:h, :w]
            lr = centred_lr(r, s, sc["ms_gains"])
            lr_toolbox = decimate(mtf_filter(r, sc["ms_gains"], s), s).astype(np.float32)
            case = f"{name}_x{s}"
            np.savez_compressed(
                data / f"{case}.npz",
                ref=r,
                lr=lr,
                guide=g,
                eval_bands=np.array(sc["eval_bands"]),
                names=np.array([n or "" for n in sc["names"]]),
            )
            outs = {
                "bicubic (GDAL)": ("unguided", gdal_resample(lr, s, "cubic")),
                "lanczos (GDAL)": ("unguided", gdal_resample(lr, s, "lanczos")),
                "MTF-GLP-HPM": ("guided", mtf_glp_hpm(g, lr_toolbox, s)),
            }
            for method, (mode, out) in outs.items():
                m = score(r, out, sc["eval_bands"])
                results.append(
                    {
                        "case": case,
                        "scene": name,
                        "scale": s,
                        "mode": mode,
                        "method": method,
                        **m,
                        "note": sc["note"],
                    }
                )
                print(
                    f"{case:18s} {method:16s} PSNR {m['psnr']:.2f} SSIM {m['ssim']:.4f} "
                    f"SAM {m['sam']:.3f}",
                    flush=True,
                )
    (data / "baselines.json").write_text(
        json.dumps({"machine": machine(), "results": results}, indent=1)
    )


def _random_model(bands: int = 4):
    import torch

    from backend.model.config import MMMambaConfig
    from backend.model.network import MMMamba

    torch.manual_seed(0)
    return MMMamba(MMMambaConfig(ms_bands=bands))


def cmd_run(args: argparse.Namespace) -> None:
    import torch

    from backend.sr import super_resolve_arrays

    if args.threads:
        torch.set_num_threads(args.threads)
    data = Path(args.data)
    steps_list = [int(x) for x in args.steps.split(",")]
    model = _random_model() if args.model == "random" else args.model
    results = []
    out_path = data / f"run_{args.tag}.json"
    for name in args.scenes:
        for s in SCALES:
            case = f"{name}_x{s}"
            d = np.load(data / f"{case}.npz")
            ref, lr, guide = d["ref"], d["lr"], d["guide"]
            bands = [int(b) for b in d["eval_bands"]]
            names = None
            if "names" in d and not args.no_band_names:
                names = [str(n) or None for n in d["names"]]
            for mode in args.modes:
                for steps in steps_list:
                    t0 = time.perf_counter()
                    out, reports = super_resolve_arrays(
                        lr,
                        scale=s,
                        guide=guide if mode == "guided" else None,
                        adapt_steps=steps,
                        model=model,
                        device=args.device,
                        tile=args.tile,
                        band_names=names,
                        ensemble=args.ensemble,
                        backproject=args.backproject,
                    )
                    secs = time.perf_counter() - t0
                    m = score(ref, out, bands)
                    method = f"MMMamba-SR {steps} st, ens {args.ensemble}, bp {args.backproject}"
                    results.append(
                        {
                            "case": case,
                            "scene": name,
                            "scale": s,
                            "mode": mode,
                            "method": method,
                            "steps": steps,
                            "ensemble": args.ensemble,
                            "backproject": args.backproject,
                            "band_names": names,
                            **m,
                            "seconds": secs,
                            "adapt": [r.__dict__ for r in reports],
                        }
                    )
                    print(
                        f"{case:18s} {mode:8s} {method:24s} PSNR {m['psnr']:.2f} "
                        f"SSIM {m['ssim']:.4f} SAM {m['sam']:.3f} ({secs:.1f} s)",
                        flush=True,
                    )
                    out_path.write_text(
                        json.dumps(
                            {"machine": machine(), "model": str(args.model), "results": results},
                            indent=1,
                        )
                    )


def cmd_report(args: argparse.Namespace) -> None:
    data = Path(args.data)
    rows = []
    machines = []
    for f in sorted(data.glob("*.json")):
        d = json.loads(f.read_text())
        model = d.get("model")
        label = "" if "model" not in d else f", model {model}"
        if "model" in d and model in (None, "None"):
            label = ", model: the installed one that fits (mmmamba-4band)"
        machines.append(f"- {f.name}: {d['machine']}{label}")
        for r in d["results"]:
            r["source"] = f.stem
            rows.append(r)
    lines = ["Measured on:", *machines, ""]
    for mode in ("unguided", "guided"):
        ref_method = "lanczos (GDAL)" if mode == "unguided" else "MTF-GLP-HPM"
        lines += [
            f"### {mode} (delta PSNR vs {ref_method})",
            "",
            "| case | method | run | PSNR dB | dPSNR | SSIM | SAM deg | s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for case in sorted({r["case"] for r in rows}):
            base = [r for r in rows if r["case"] == case and r["method"] == ref_method]
            b = base[0]["psnr"] if base else float("nan")
            for r in rows:
                if r["case"] != case or r["mode"] != mode:
                    continue
                secs = f"{r['seconds']:.0f}" if "seconds" in r else ""
                lines.append(
                    f"| {case} | {r['method']} | {r['source']} | {r['psnr']:.2f} | "
                    f"{r['psnr'] - b:+.2f} | {r['ssim']:.4f} | {r['sam']:.3f} | {secs} |"
                )
        lines.append("")
    text = "\n".join(lines)
    print(text)
    (data / "report.md").write_text(text + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phase", choices=("prepare", "run", "report", "all"))
    ap.add_argument("--data", default=str(REPO / ".bench_sr"), help="folder of cases and results")
    ap.add_argument("--scenes", default=",".join(SCENES))
    ap.add_argument("--modes", default="unguided,guided")
    ap.add_argument("--steps", default="0,300", help="adaptation budgets to run, comma-separated")
    ap.add_argument("--model", default=None, help="model name or path; 'random' for fresh weights")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--tile", type=int, default=512)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--ensemble", type=int, default=8, help="dihedral views averaged (1-8)")
    ap.add_argument("--backproject", type=int, default=5, help="back-projection iterations")
    ap.add_argument(
        "--no-band-names", action="store_true", help="feed bands in file order (the old way)"
    )
    ap.add_argument("--tag", default="sr", help="name of the run's result file")
    args = ap.parse_args()
    args.scenes = args.scenes.split(",")
    args.modes = args.modes.split(",")
    logging.basicConfig(level=logging.WARNING)
    if args.phase in ("prepare", "all"):
        cmd_prepare(args)
    if args.phase in ("run", "all"):
        cmd_run(args)
    if args.phase in ("report", "all"):
        cmd_report(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

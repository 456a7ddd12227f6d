"""Measure how much tile overlap makes tile seams vanish (tiled run vs whole-scene run).

For a real scene and a network, runs the scene once as a single tile and then tiled with each
overlap, and reports the gradient energy on tile borders versus inside tiles (`backend.seams`):
`seam_index = (border/inside of tiled) / (border/inside of whole)`, 1.0 = no visible seam.

Examples:
    python bench/seam_overlap.py --pan ../shared/data/pansharpening/osman_pan.tif \
        --ms ../shared/data/pansharpening/osman_ms.tif --config default --tile 256 \
        --overlaps 0 16 32 64 --device cuda --json seams.json
    python bench/seam_overlap.py --npz scene.npz ...   # arrays saved with --save-npz
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load_scene(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, str]:
    """PAN `(H, W)` and MS `(C, H/r, W/r)` float32 on one grid, and a scene label."""
    if args.npz:
        d = np.load(args.npz)
        return d["pan"].astype(np.float32), d["ms"].astype(np.float32), Path(args.npz).stem
    if args.mat:
        import scipy.io

        m = scipy.io.loadmat(args.mat)
        ms = m["I_MS"] if "I_MS" in m else m["I_MS_LR"]
        return (
            m["I_PAN"].astype(np.float32),
            np.moveaxis(ms, -1, 0).astype(np.float32),
            Path(args.mat).stem,
        )
    from backend.io.grid import MSGridReader, plan_grid
    from backend.io.raster import inspect_raster, open_raster, read_band
    from backend.io.window import Window

    pan_ds, ms_ds = open_raster(args.pan), open_raster(args.ms)
    pan_i, ms_i = inspect_raster(pan_ds), inspect_raster(ms_ds)
    plan = plan_grid(pan_i, ms_i)
    r = plan.ratio
    win = plan.pan_window
    w, h = win.width // r * r, win.height // r * r  # whole MS pixels only
    pan, _ = read_band(pan_ds.GetRasterBand(1), Window(win.col_off, win.row_off, w, h))
    ms, _ = MSGridReader(ms_ds, ms_i, plan).read(Window(0, 0, w // r, h // r))
    return pan, ms, Path(args.pan).stem


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--pan", help="PAN raster (with --ms)")
    src.add_argument("--npz", help="arrays pan (H, W) and ms (C, h, w)")
    src.add_argument("--mat", help="a toolbox .mat scene")
    ap.add_argument("--ms", help="MS raster")
    ap.add_argument("--crop", type=int, default=0, help="use the top-left N x N PAN pixels")
    ap.add_argument("--save-npz", help="save the loaded arrays and exit")
    ap.add_argument("--model", help="model file; default: a random-initialised --config network")
    ap.add_argument("--config", default="default", choices=["default", "tiny"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--tile", type=int, nargs="+", default=[512])
    ap.add_argument("--overlaps", type=int, nargs="+", default=[0, 16, 32, 64, 96, 128])
    ap.add_argument("--json", help="write the measurements here")
    args = ap.parse_args()

    pan, ms, label = load_scene(args)
    if args.crop:
        r = pan.shape[0] // ms.shape[1]
        c = args.crop // r * r
        pan, ms = pan[:c, :c], ms[:, : c // r, : c // r]
    if args.save_npz:
        np.savez_compressed(args.save_npz, pan=pan, ms=ms)
        print(f"saved {args.save_npz}: pan {pan.shape}, ms {ms.shape}")
        return 0

    import torch

    from backend.fuse import fuse_arrays, make_grid
    from backend.model.config import MMMambaConfig
    from backend.model.network import MMMamba
    from backend.seams import seam_report

    if args.model:
        from backend.model.store import load_model

        model = load_model(args.model).net
        model_label = args.model
    else:
        torch.manual_seed(args.seed)
        cfg = MMMambaConfig() if args.config == "default" else MMMambaConfig.tiny()
        cfg.ms_bands = ms.shape[0]
        model = MMMamba(cfg)
        model_label = f"random-init {args.config} config (seed {args.seed})"
    ratio = pan.shape[0] // ms.shape[1]
    h, w = pan.shape
    dev = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    device_label = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor()
    print(f"scene {label}: PAN {w} x {h}, MS {ms.shape}, ratio {ratio}; model {model_label}")
    print(f"device {dev} ({device_label})")

    # Tiles are spread evenly, so the overlap actually used is often larger than asked. To
    # measure each overlap exactly, each run uses the largest crop of the scene that `k` steps
    # of `tile - overlap` fill exactly: size = tile + k * (tile - overlap).
    wholes: dict[int, tuple[np.ndarray, float]] = {}
    rows = []
    print(
        f"{'tile':>5} {'overlap':>7} {'crop':>5} {'tiles':>5} {'seam_index':>10} "
        f"{'worst_line':>10} {'inside_ln':>9} {'max|diff|':>9} {'s':>6}"
    )
    for tile in args.tile:
        for ov in args.overlaps:
            if ov > tile // 2:
                print(f"{tile:>5} {ov:>7}  overlap above half the tile: skipped")
                continue
            step = tile - ov
            k = (min(h, w) - tile) // step
            if k < 1:
                print(f"{tile:>5} {ov:>7}  scene too small for two tiles")
                continue
            size = tile + k * step
            p, m = pan[:size, :size], ms[:, : size // ratio, : size // ratio]
            if size not in wholes:
                t0 = time.perf_counter()
                wholes[size] = (
                    fuse_arrays(p, m, model=model, device=dev, tile=size, overlap=0),
                    time.perf_counter() - t0,
                )
            whole, t_whole = wholes[size]
            grid = make_grid(size, size, ratio, tile, ov)
            t0 = time.perf_counter()
            tiled = fuse_arrays(p, m, model=model, device=dev, tile=tile, overlap=ov)
            dt = time.perf_counter() - t0
            rep = seam_report(tiled, whole, grid)
            overlaps = [grid.tile_width - g for g in np.diff(grid.col_starts)]
            row = {
                "tile": grid.tile_width,
                "overlap": grid.overlap,
                "actual_overlaps": sorted({int(o) for o in overlaps}),
                "crop": size,
                "tiles": len(grid),
                "seam_index": rep.seam_index,
                "worst_line": rep.worst_line,
                "inside_line": rep.inside_line,
                "tiled_ratio": rep.tiled_ratio,
                "whole_ratio": rep.whole_ratio,
                "max_abs_diff": rep.max_abs_diff,
                "seconds_tiled": dt,
                "seconds_whole": t_whole,
            }
            rows.append(row)
            if args.json:  # rewritten after every run so an interrupted sweep keeps its rows
                Path(args.json).write_text(
                    json.dumps(
                        {
                            "scene": label,
                            "pan_shape": [h, w],
                            "ms_shape": list(ms.shape),
                            "model": model_label,
                            "device": f"{dev} ({device_label})",
                            "runs": rows,
                        },
                        indent=2,
                    )
                )
            print(
                f"{row['tile']:>5} {row['overlap']:>7} {size:>5} {row['tiles']:>5} "
                f"{rep.seam_index:>10.4f} {rep.worst_line:>10.3f} {rep.inside_line:>9.3f} "
                f"{rep.max_abs_diff:>9.3f} "
                f"{dt:>6.1f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

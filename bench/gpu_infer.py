"""GPU inference and training throughput of MMMamba: tiles, a whole 8192 x 8192 scene, precision.

Sections (each one guarded: an error is printed and the next section runs; tables are printed
as soon as they are measured and rewritten to `$OUT/gpu_infer.md` after every section, so a run
stopped by a time limit still returns what it measured):

1. check: the segmented CUDA path against the whole-tensor path (same kernel), and two workers
   of the multi-device dispatcher against one;
2. tiles: ms per call, Mpx/s (PAN pixels) and peak GPU memory for 256^2 ... 2048^2 tiles, in
   fp32 and mixed precision ("bf16": convolutions/linears in bfloat16, scan inputs fp32;
   "bf16-scan": scan inputs and outputs stored in bfloat16 as well, recurrence in fp32), with
   the relative L2 error against fp32 on the same tile; the previous whole-tensor path as
   baseline;
3. scene: a synthetic 8192 x 8192 scene (texture of the real osman pair, mirrored) written to
   the local disk, pan-sharpened end to end through the tiled engine (read, normalise, network,
   blend, write) with `backend.pansharpen.pansharpen` when GDAL's Python bindings exist, else
   with the same engine (`backend.fuse.run_fusion`) over uncompressed TIFFs read and written
   with tifffile (the table says which);
4. metrics: the shipped 4-band model on the real osman pair, fp32 against mixed precision:
   Wald-protocol (reduced resolution) and full-resolution quality indices;
5. training: ms per step (L1, Adam, gradient clip) at batch 16 and 4 of 128 x 128;
6. variants: batched tiles, segment length, channels-last; 7. profile: top CUDA kernels.

Prepare the data folder here (needs GDAL and ../shared/data), then run on the GPU machine:
    python bench/gpu_infer.py --prepare            # writes .gpu/infer/ (git-ignored)
    bash .gpu/build_mamba_ssm.sh && python3 bench/gpu_infer.py --budget 230
On a CPU, `--quick` runs every section on tiny sizes (a smoke test of the script).
Measured tables: bench/results/gpu_infer_h200.md, gpu_infer_h200x2.md (mamba-ssm's kernel) and
gpu_infer_triton_h200.md (the Triton engine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO / ".gpu" / "infer"
SHARED = REPO / ".." / "shared" / "data" / "pansharpening"

import numpy as np  # noqa: E402

T0 = time.perf_counter()
BUDGET = 230.0
QUICK = False
TABLES: dict[str, list[str]] = {}
RESULTS: dict[str, list] = {}
OUT = Path(os.environ.get("OUT", "") or tempfile.gettempdir())


def left() -> float:
    """Seconds left of the run's budget."""
    return BUDGET - (time.perf_counter() - T0)


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {msg}", flush=True)


def table(name: str, header: list[str]) -> None:
    TABLES[name] = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    RESULTS[name] = []


def row(name: str, cells: list, record: dict | None = None) -> None:
    line = "| " + " | ".join(str(c) for c in cells) + " |"
    TABLES[name].append(line)
    if record is not None:
        RESULTS[name].append(record)
    print(f"{name}: {line}", flush=True)
    save()


def save() -> None:
    try:
        OUT.mkdir(parents=True, exist_ok=True)
        text = []
        for name, lines in TABLES.items():
            text += [f"## {name}", "", *lines, ""]
        (OUT / "gpu_infer.md").write_text("\n".join(text))
        (OUT / "gpu_infer.json").write_text(json.dumps(RESULTS, indent=1, default=str))
    except OSError as exc:
        print(f"could not write results: {exc}", flush=True)


def section(name: str, need: float):
    """Decorator: run a section if `need` seconds remain, print any error and go on."""

    def wrap(fn):
        def run(*a, **k):
            if left() < need:
                log(f"SKIP {name}: {left():.0f} s left, needs ~{need:.0f} s")
                return None
            log(f"== {name} ({left():.0f} s left)")
            try:
                return fn(*a, **k)
            except Exception as exc:  # a failing section must not stop the others
                log(f"ERROR in {name}: {type(exc).__name__}: {exc}")
                traceback.print_exc(limit=6)
                return None
            finally:
                save()

        return run

    return wrap


# ------------------------------------------------------------------------------------ helpers


def sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(fn, dev, reps: int | None = None, max_s: float = 2.0) -> float:
    """Median seconds of `fn()` after one warm-up; repetitions adapt to the call's length."""
    t = time.perf_counter()
    fn()
    sync(dev)
    first = time.perf_counter() - t
    reps = reps or max(2, min(10, int(max_s / max(first, 1e-4))))
    if QUICK:
        reps = 1
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        sync(dev)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_gib(fn, dev) -> float | None:
    """Peak GPU memory allocated while `fn()` runs (inputs and weights included)."""
    import torch

    if dev.type != "cuda":
        fn()
        return None
    sync(dev)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(dev)
    fn()
    sync(dev)
    return torch.cuda.max_memory_allocated(dev) / 2**30


def gpu_bench_setup(budget: float):
    """Budget, cuda:0, its name and the shipped network on it, for the GPU benchmark scripts."""
    global BUDGET
    BUDGET = budget
    import torch

    dev = torch.device("cuda:0")
    card = card_name(dev)
    net, name = load_net(dev, False)
    log(f"card {card}; torch {torch.__version__}; model {name}")
    return dev, card, net


def write_tables(filename: str) -> None:
    """Print every table and write them all to `$OUT/filename`."""
    for name, lines in TABLES.items():
        print(f"## {name}\n" + "\n".join(lines) + "\n", flush=True)
    (OUT / filename).write_text("\n\n".join(f"## {k}\n" + "\n".join(v) for k, v in TABLES.items()))


def chunked_reference(net, dev):
    """(pan, ms, output) of a 256^2 real tile through the chunked PyTorch scan (whole-tensor
    path, PyTorch layers, fp32): the reference of the GPU engines' checks."""
    import torch

    pan, ms = tile_inputs(256, 1, dev, False)
    with torch.inference_mode():
        net.set_precision("fp32")
        net.set_scan("chunked", path="full")
        return pan, ms, net(pan, ms).float().cpu().numpy()


def tile_case(net, run, dev) -> tuple[float, float | None, np.ndarray]:
    """(median seconds, peak GiB, float32 output) of one whole-network call `run()`."""
    clear_caches(net)
    mem = peak_gib(run, dev)
    t = timed(run, dev)
    return t, mem, run().float().cpu().numpy()


def rel_l2(a, b) -> float:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def card_name(dev) -> str:
    import torch

    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"CPU {platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def fmt(x, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


# --------------------------------------------------------------------------------- data, model


def prepare() -> int:
    """Write the data folder: the osman pair, its Wald-degraded version, the shipped model."""
    import torch
    from osgeo import gdal

    from backend.degrade import wald_degrade
    from backend.model.store import load_model

    DATA.mkdir(parents=True, exist_ok=True)
    pan = gdal.Open(str(SHARED / "osman_pan.tif")).ReadAsArray().astype(np.float32)
    ms = gdal.Open(str(SHARED / "osman_ms.tif")).ReadAsArray().astype(np.float32)
    pan_lr, ms_lr = wald_degrade(pan, ms, 4, None)
    np.savez(DATA / "osman.npz", pan=pan, ms=ms, pan_lr=pan_lr, ms_lr=ms_lr)
    loaded = load_model("mmmamba-4band", device="cpu")
    state = {k: v.detach().cpu().numpy() for k, v in loaded.net.state_dict().items()}
    np.savez(DATA / "model4.npz", **state)
    (DATA / "model4.json").write_text(
        json.dumps({"name": loaded.card.name, "config": loaded.net.cfg.to_dict()}, indent=1)
    )
    print(f"wrote {sorted(p.name for p in DATA.iterdir())} to {DATA}")
    del torch
    return 0


def load_net(dev, quick: bool):
    """The shipped 4-band model from the data folder (no safetensors needed), else random."""
    import torch

    from backend.model.config import MMMambaConfig
    from backend.model.network import MMMamba

    meta = DATA / "model4.json"
    if quick:  # CPU smoke test: the tiny configuration keeps it short
        torch.manual_seed(0)
        return MMMamba(MMMambaConfig.tiny(4, 4)).to(dev).eval(), "random-init tiny config"
    if meta.exists():
        info = json.loads(meta.read_text())
        net = MMMamba(MMMambaConfig.from_dict(info["config"]))
        state = np.load(DATA / "model4.npz")
        net.load_state_dict({k: torch.from_numpy(state[k]) for k in state.files})
        name = f"{info['name']} (trained weights)"
    else:
        torch.manual_seed(0)
        net = MMMamba(MMMambaConfig())
        name = "random-init default config"
    return net.to(dev).eval(), name


def texture(size: int, quick: bool) -> tuple[np.ndarray, np.ndarray]:
    """Normalised PAN (size, size) and MS (4, size/4, size/4) with the osman pair's texture."""
    f = DATA / "osman.npz"
    if f.exists():
        d = np.load(f)
        pan, ms = d["pan"], d["ms"]
    else:  # smooth random texture
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:800, 0:800]
        pan = 500 + 200 * np.sin(xx / 9) * np.cos(yy / 13) + 40 * rng.standard_normal(xx.shape)
        ms = np.stack(
            [pan.reshape(200, 4, 200, 4).mean(axis=(1, 3)) * (0.5 + 0.2 * b) for b in range(4)]
        )
    pan = pan / np.percentile(pan, 99.5)
    ms = ms / np.percentile(ms, 99.5, axis=(1, 2), keepdims=True)
    reps = -(-size // pan.shape[0])
    pan = np.pad(pan, ((0, reps * pan.shape[0] - pan.shape[0]),) * 2, mode="symmetric")
    ms = np.pad(ms, ((0, 0),) + ((0, reps * ms.shape[1] - ms.shape[1]),) * 2, mode="symmetric")
    return (
        np.ascontiguousarray(pan[:size, :size], np.float32),
        np.ascontiguousarray(ms[:, : size // 4, : size // 4], np.float32),
    )


# ------------------------------------------------------------------------------------ sections


def clear_caches(net) -> None:
    """Drop cached scan orders (per-mixer int64 ones of the whole-tensor path, shared int32
    ones of the segmented path) so that each peak-memory figure holds only its own size."""
    import torch

    from backend.model import mixer

    for blk in net.blocks:
        blk.mixer._orders.clear()
    mixer._segment_orders.clear()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def forward_fn(net, pan, ms, precision: str, path: str = "auto"):
    import torch

    def run():
        net.set_precision(precision)
        net.set_scan("auto", path=path)
        with torch.inference_mode():
            return net(pan, ms)

    return run


def tile_inputs(size: int, batch: int, dev, quick: bool):
    import torch

    pan, ms = texture(size, quick)
    # different content per batch item: shifted by whole MS pixels
    p = torch.stack([torch.from_numpy(np.roll(pan, 44 * i, axis=1)) for i in range(batch)])
    m = torch.stack([torch.from_numpy(np.roll(ms, 11 * i, axis=2)) for i in range(batch)])
    return p[:, None].to(dev), m.to(dev)


def check(net, dev, card: str, quick: bool) -> None:
    import torch

    from backend.device import scan_engine
    from backend.fuse import fuse_arrays

    engine = scan_engine(dev)
    table("check", ["card", "what", "result"])
    size = 64 if quick else 256
    pan, ms = tile_inputs(size, 2, dev, quick)
    full = forward_fn(net, pan, ms, "fp32", "full")().float().cpu().numpy()
    clear_caches(net)
    seg_path = "segmented"
    seg = forward_fn(net, pan, ms, "fp32", seg_path)().float().cpu().numpy()
    err = rel_l2(seg, full)
    verdict = "ok" if err < 1e-4 else "MISMATCH"
    row(
        "check",
        [
            card,
            f"segmented vs whole-tensor path, {size}^2 x2, fp32, engine {engine}",
            f"rel L2 {err:.2e} ({verdict})",
        ],
        {"what": "segmented_vs_full", "err": err},
    )
    small_pan, small_ms = texture(128 if quick else 512, quick)
    kw = {"model": net, "tile": 64 if quick else 256, "overlap": 16 if quick else 32, "batch": 2}
    one = fuse_arrays(small_pan, small_ms, device=str(dev), **kw)
    two = fuse_arrays(small_pan, small_ms, device=f"{dev},{dev}", **kw)
    err2 = rel_l2(two, one)
    row(
        "check",
        [card, f"dispatcher: 2 workers on {dev} vs 1 (fuse_arrays)", f"rel L2 {err2:.2e}"],
        {"what": "two_workers", "err": err2},
    )
    if dev.type == "cuda":
        n = torch.cuda.device_count()
        row(
            "check",
            [
                card,
                "GPUs visible",
                f"{n} (multi-GPU scaling {'measurable' if n > 1 else 'not measured: one GPU'})",
            ],
        )


def tiles(
    net, dev, card: str, quick: bool, sizes: list[int], precisions: list[str], reserve: float
) -> dict:
    table(
        "tiles",
        [
            "card",
            "tile",
            "batch",
            "precision",
            "path",
            "ms/call",
            "Mpx/s",
            "peak GiB",
            "rel L2 vs fp32",
        ],
    )
    best: dict = {}
    for size in sizes:
        if left() < reserve + (10 if size <= 1024 else 25):
            log(f"tiles: stop before {size}^2 ({left():.0f} s left, {reserve:.0f} s reserved)")
            break
        pan, ms = tile_inputs(size, 1, dev, quick)
        ref = None
        variants = [(p, "auto") for p in precisions]
        if size in (512, 1024) or quick:
            variants.insert(0, ("fp32", "full"))  # the previous whole-tensor path, baseline
        for precision, path in variants:
            if left() < reserve:
                break
            try:
                clear_caches(net)
                fn = forward_fn(net, pan, ms, precision, path)
                mem = peak_gib(fn, dev)
                t = timed(fn, dev)
                out = fn().float().cpu().numpy()
                if precision == "fp32" and path == "auto":
                    ref = out
                err = rel_l2(out, ref) if ref is not None and precision != "fp32" else None
                mpx = size * size / t / 1e6
                row(
                    "tiles",
                    [
                        card,
                        f"{size}^2",
                        1,
                        precision,
                        path,
                        f"{t * 1e3:.1f}",
                        f"{mpx:.2f}",
                        fmt(mem),
                        fmt(err, ".2e"),
                    ],
                    {
                        "size": size,
                        "batch": 1,
                        "precision": precision,
                        "path": path,
                        "s": t,
                        "mpx_s": mpx,
                        "peak_gib": mem,
                        "rel_l2": err,
                    },
                )
                if path == "auto":
                    best.setdefault(precision, {})[size] = (mpx, err)
            except Exception as exc:
                import torch

                row(
                    "tiles",
                    [
                        card,
                        f"{size}^2",
                        1,
                        precision,
                        path,
                        f"{type(exc).__name__}: {str(exc)[:80]}",
                        "-",
                        "-",
                        "-",
                    ],
                )
                if dev.type == "cuda":
                    torch.cuda.empty_cache()
        del pan, ms
    return best


def pick_mixed(best: dict) -> str:
    """The faster mixed precision whose error stays under 1e-2 on every tile measured."""
    ok = []
    for p in ("bf16-scan", "bf16"):
        rows = best.get(p, {})
        if rows and all(e is not None and e < 1e-2 for _, e in rows.values()):
            ok.append((statistics.mean(m for m, _ in rows.values()), p))
    return max(ok)[1] if ok else "bf16"


def write_scene(folder: Path, size: int, use_gdal: bool) -> tuple[Path, Path, float]:
    """uint16 PAN (size, size) and MS (4, size/4, size/4) files with real texture."""
    t = time.perf_counter()
    pan, ms = texture(size, False)
    pan16 = (pan * 1000).clip(1, 65535).astype(np.uint16)
    ms16 = (ms * 1000).clip(1, 65535).astype(np.uint16)
    del pan, ms
    if use_gdal:
        from osgeo import gdal, osr

        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32649)
        paths = []
        for name, arr, px in (("pan.tif", pan16[None], 0.5), ("ms.tif", ms16, 2.0)):
            ds = gdal.GetDriverByName("GTiff").Create(
                str(folder / name),
                arr.shape[2],
                arr.shape[1],
                arr.shape[0],
                gdal.GDT_UInt16,
                ["TILED=YES", "BIGTIFF=IF_SAFER"],
            )
            ds.SetGeoTransform((500000.0, px, 0, 4000000.0, 0, -px))
            ds.SetProjection(srs.ExportToWkt())
            for b in range(arr.shape[0]):
                ds.GetRasterBand(b + 1).WriteArray(arr[b])
            ds = None
            paths.append(folder / name)
    else:
        import tifffile

        paths = [folder / "pan.tif", folder / "ms.tif"]
        tifffile.imwrite(paths[0], pan16)
        tifffile.imwrite(paths[1], ms16)
    return paths[0], paths[1], time.perf_counter() - t


class TiffSource:
    """`TileSource` over uncompressed TIFFs opened as memory maps (read per window)."""

    def __init__(self, pan_path: Path, ms_path: Path, ratio: int) -> None:
        import tifffile

        self.pan = tifffile.memmap(pan_path)
        self.ms = tifffile.memmap(ms_path)
        self.ratio = ratio
        self.height, self.width = self.pan.shape
        self.bands = self.ms.shape[0]

    @staticmethod
    def _cut(arr, window):
        h, w = arr.shape[-2:]
        out = np.zeros((*arr.shape[:-2], window.height, window.width), np.float32)
        valid = np.zeros((window.height, window.width), bool)
        r0, c0 = window.row_off, window.col_off
        r1, c1 = min(h, r0 + window.height), min(w, c0 + window.width)
        if r1 > r0 and c1 > c0:
            out[..., : r1 - r0, : c1 - c0] = arr[..., r0:r1, c0:c1]
            valid[: r1 - r0, : c1 - c0] = True
        return out, valid

    def read_pan(self, window):
        return self._cut(self.pan, window)

    def read_ms(self, window):
        return self._cut(self.ms, window)


def warm_up(fm, th: int, tw: int, bands: int, batch: int) -> float:
    """Run every replica once on a zero batch of the grid's tile shape, so the timed run does
    not include compiling the kernels for that shape (Triton specialises on sizes); returns the
    seconds it took."""
    from backend.fuse import tile_forward
    from backend.multi_device import MultiDeviceModel
    from backend.tile_stream import TileStream

    t = time.perf_counter()
    pan = np.zeros((batch, 1, th, tw), np.float32)
    ms = np.zeros((batch, bands, th // 4, tw // 4), np.float32)
    for replica in fm.replicas if isinstance(fm, MultiDeviceModel) else [fm]:
        stream = TileStream(replica.device, tile_forward(replica, 4))
        stream.fetch(stream.submit(pan, ms))
    return time.perf_counter() - t


def run_scene_tifffile(
    pan_path: Path, ms_path: Path, out_path: Path, net, devices: str, tile: int, batch: int
) -> dict:
    """The tiled engine end to end without GDAL: stats, tiles, blending, uint16 TIFF output."""
    import tifffile

    from backend.fuse import load_fusion_model, make_grid, run_fusion
    from backend.normalize import percentile_for, scene_stats

    t = time.perf_counter()
    src = TiffSource(pan_path, ms_path, 4)
    step = max(1, src.width // 1024)  # bounded sample, like pansharpen's
    pan_s = np.asarray(src.pan[::step, ::step], np.float32).ravel()
    ms_s = [
        np.asarray(b[:: max(1, step // 4), :: max(1, step // 4)], np.float32).ravel()
        for b in src.ms
    ]
    stats = scene_stats(pan_s, ms_s, percentile_for(None))
    fm = load_fusion_model(net, src.bands, 4, devices)
    grid = make_grid(src.width, src.height, 4, tile, None)
    compile_s = warm_up(fm, grid.tile_height, grid.tile_width, src.bands, batch)
    t += compile_s
    out = tifffile.memmap(out_path, shape=(src.bands, src.height, src.width), dtype=np.uint16)
    lock = threading.Lock()

    def sink(win, values):
        v = np.clip(np.rint(np.nan_to_num(values)), 0, 65535).astype(np.uint16)
        with lock:
            out[
                :, win.row_off : win.row_off + win.height, win.col_off : win.col_off + win.width
            ] = v

    ran = run_fusion(src, grid, fm, stats, sink, batch=batch)
    out.flush()
    out = None  # closes the memory map
    return {
        "seconds": time.perf_counter() - t,
        "warm-up s": round(compile_s, 1),
        "tiles": len(grid),
        "ran": ran,
        "overlap": grid.overlap,
        "tile_px": f"{grid.tile_width}x{grid.tile_height}",
    }


def scene(net, dev, card: str, quick: bool, runs: list[tuple], gdal_ok: bool = True) -> None:
    try:
        from osgeo import gdal  # noqa: F401

        use_gdal = gdal_ok
    except ImportError:
        use_gdal = False
    size = 256 if quick else 8192
    how = (
        "backend.pansharpen.pansharpen, GeoTIFF (GDAL) in and out"
        if use_gdal
        else "backend.fuse.run_fusion (the engine pansharpen uses; --no-gdal or no GDAL bindings), "
        "uncompressed TIFF in/out via tifffile"
    )
    table(
        "scene",
        [
            "card",
            "scene",
            "precision",
            "tile",
            "batch",
            "overlap",
            "tiles",
            "seconds",
            "Mpx/s end to end",
            "peak GiB",
            "path",
            "devices",
        ],
    )
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        pan_path, ms_path, t_write = write_scene(folder, size, use_gdal)
        log(f"scene {size}^2 written in {t_write:.1f} s ({how})")
        outs = {}
        for precision, tile, batch, *spec in runs:
            devices = spec[0] if spec else str(dev)
            if left() < (5 if quick else 45):
                log(f"scene: skip {precision} tile {tile} ({left():.0f} s left)")
                continue
            net.set_precision(precision)
            net.set_scan("auto")
            out_path = folder / f"out_{precision}_{tile}_{batch}_{devices.replace(':', '')}.tif"
            import torch

            if dev.type == "cuda":
                for i in range(torch.cuda.device_count()):
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats(i)
            if use_gdal:
                from backend.fuse import load_fusion_model, make_grid
                from backend.pansharpen import pansharpen

                g = make_grid(size, size, 4, tile, None)
                warm = warm_up(
                    load_fusion_model(net, 4, 4, devices), g.tile_height, g.tile_width, 4, batch
                )
                t = time.perf_counter()
                res = pansharpen(
                    pan_path, ms_path, out_path, model=net, device=devices, tile=tile, batch=batch
                )
                info = {
                    "seconds": time.perf_counter() - t,
                    "tiles": res.tiles,
                    "overlap": res.overlap,
                    "tile_px": str(res.tile),
                    "warm-up s": round(warm, 1),
                }
            else:
                info = run_scene_tifffile(pan_path, ms_path, out_path, net, devices, tile, batch)
            mem = (
                max(
                    torch.cuda.max_memory_allocated(i) / 2**30
                    for i in range(torch.cuda.device_count())
                )
                if dev.type == "cuda"
                else None
            )
            mpx = size * size / info["seconds"] / 1e6
            row(
                "scene",
                [
                    card,
                    f"{size}x{size}",
                    precision,
                    f"{tile} ({info['tile_px']})",
                    batch,
                    info["overlap"],
                    info["tiles"],
                    f"{info['seconds']:.1f}",
                    f"{mpx:.2f}",
                    fmt(mem),
                    "GDAL pansharpen" if use_gdal else "run_fusion + tifffile",
                    devices,
                ],
                {
                    "precision": precision,
                    "tile": tile,
                    "batch": batch,
                    **info,
                    "mpx_s": mpx,
                    "peak_gib": mem,
                    "gdal": use_gdal,
                    "devices": devices,
                },
            )
            outs[(precision, tile, batch, devices)] = out_path
        # every run against the first fp32 run, whatever the order of the runs
        ref_key = next((k for k in outs if k[0] == "fp32"), None)
        keys = [ref_key] + [k for k in outs if k != ref_key] if ref_key else []
        if len(keys) > 1:
            ref = _read_out(outs[ref_key], use_gdal)
            for k in keys[1:]:
                err = rel_l2(_read_out(outs[k], use_gdal), ref)
                row(
                    "scene",
                    [
                        card,
                        f"{size}x{size}",
                        k[0],
                        k[1],
                        k[2],
                        "-",
                        "-",
                        "-",
                        "-",
                        "-",
                        f"rel L2 vs fp32 tile {keys[0][1]}: {err:.2e}",
                        k[3],
                    ],
                    {"precision": k[0], "devices": k[3], "rel_l2_vs_fp32": err},
                )
    net.set_precision("fp32")


def _read_out(path: Path, use_gdal: bool) -> np.ndarray:
    if use_gdal:
        from osgeo import gdal

        return gdal.Open(str(path)).ReadAsArray().astype(np.float32)
    import tifffile

    return np.asarray(tifffile.memmap(path), np.float32)


def metrics(net, dev, card: str, quick: bool, mixed: list[str], name: str) -> None:
    from backend.degrade import sensor_gains
    from backend.fuse import fuse_arrays
    from backend.metrics import d_lambda_khan, d_s, ergas, hqnr, psnr, q2n, sam, scc

    f = DATA / "osman.npz"
    if not f.exists():
        log("metrics: no data folder (run --prepare first); skipped")
        return
    d = np.load(f)
    pan, ms, pan_lr, ms_lr = d["pan"], d["ms"], d["pan_lr"], d["ms_lr"]
    if quick:
        pan, ms = pan[:256, :256], ms[:, :64, :64]
        pan_lr, ms_lr = pan_lr[:64, :64], ms_lr[:, :16, :16]
    table(
        "metrics",
        [
            "card",
            "model",
            "precision",
            "Q2n",
            "SAM",
            "ERGAS",
            "sCC",
            "PSNR",
            "D_lambda",
            "D_s",
            "HQNR",
            "rel L2 full-res vs fp32",
        ],
    )
    ref = None
    arrays = {}
    for precision in ["fp32", *mixed]:
        net.set_precision(precision)
        net.set_scan("auto")
        rr = fuse_arrays(pan_lr, ms_lr, model=net, device=str(dev))
        fr = fuse_arrays(pan, ms, model=net, device=str(dev))
        # float16 for the full-resolution results keeps the file small enough to fetch
        arrays[f"{precision}_rr"], arrays[f"{precision}_fr"] = rr, fr.astype(np.float16)
        refms = ms.astype(np.float64)
        gains = sensor_gains(None, ms.shape[0])
        dl, ds_ = d_lambda_khan(fr, ms, 4, gains.ms, 32), d_s(fr, ms, pan, 4, 32)
        vals = {
            "Q2n": q2n(refms, rr, 32),
            "SAM": sam(refms, rr),
            "ERGAS": ergas(refms, rr, 4),
            "sCC": scc(refms, rr),
            "PSNR": psnr(refms, rr),
            "D_lambda": dl,
            "D_s": ds_,
            "HQNR": hqnr(dl, ds_),
        }
        if precision == "fp32":
            ref = fr
        err = rel_l2(fr, ref) if precision != "fp32" else None
        row(
            "metrics",
            [
                card,
                name,
                precision,
                *(
                    f"{vals[k]:.4f}"
                    for k in ("Q2n", "SAM", "ERGAS", "sCC", "PSNR", "D_lambda", "D_s", "HQNR")
                ),
                fmt(err, ".2e"),
            ],
            {"precision": precision, **vals, "rel_l2_fr": err},
        )
    net.set_precision("fp32")
    np.savez_compressed(OUT / "osman_fused.npz", **arrays)


def training(dev, card: str, quick: bool, batches: list[int]) -> None:
    import torch
    import torch.nn.functional as F

    from backend.model.config import MMMambaConfig
    from backend.model.network import MMMamba

    table("training", ["card", "batch x PAN", "precision", "ms/step", "Mpx/s", "peak GiB"])
    size = 32 if quick else 128
    for batch in batches:
        for precision in ("fp32", "bf16"):
            if left() < 15:
                return
            torch.manual_seed(0)
            cfg = MMMambaConfig.tiny(4, 4) if quick else MMMambaConfig()
            net = MMMamba(cfg).to(dev).train()
            opt = torch.optim.Adam(net.parameters(), lr=5e-4)
            g = torch.Generator().manual_seed(1)
            pan = torch.rand(batch, 1, size, size, generator=g).to(dev)
            ms = torch.rand(batch, 4, size // 4, size // 4, generator=g).to(dev)
            target = torch.rand(batch, 4, size, size, generator=g).to(dev)
            amp = precision == "bf16" and dev.type == "cuda"

            def step(net=net, opt=opt, pan=pan, ms=ms, target=target, amp=amp):
                opt.zero_grad(set_to_none=True)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                    loss = F.l1_loss(net(pan, ms).float(), target)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 4.0)
                opt.step()

            try:
                for _ in range(2):
                    step()
                mem = peak_gib(step, dev)
                t = timed(step, dev, reps=3 if quick else 8)
                mpx = batch * size * size / t / 1e6
                row(
                    "training",
                    [
                        card,
                        f"{batch} x {size}^2",
                        precision,
                        f"{t * 1e3:.1f}",
                        f"{mpx:.2f}",
                        fmt(mem),
                    ],
                    {
                        "batch": batch,
                        "size": size,
                        "precision": precision,
                        "s": t,
                        "mpx_s": mpx,
                        "peak_gib": mem,
                    },
                )
            except Exception as exc:
                row(
                    "training",
                    [
                        card,
                        f"{batch} x {size}^2",
                        precision,
                        f"{type(exc).__name__}: {str(exc)[:80]}",
                        "-",
                        "-",
                    ],
                )
            del net, opt


def variants(net, dev, card: str, quick: bool, precision: str) -> None:
    import torch

    from backend.model import mixer

    table(
        "variants",
        [
            "card",
            "tile",
            "batch",
            "precision",
            "variant",
            "ms/call",
            "Mpx/s",
            "peak GiB",
            "peak GiB per tile",
        ],
    )
    size1 = 64 if quick else 1024
    cases = [
        (size1, 1, "segment 2^15", {"seg": 1 << 15}),
        (size1, 1, "segment 2^16", {"seg": 1 << 16}),
        (size1, 1, "segment 2^18", {"seg": 1 << 18}),
        (size1, 1, "channels-last", {"cl": True}),
        (size1 // 2, 4, "batched tiles", {}),
        (size1 // 4, 16, "batched tiles", {}),
        (size1, 2, "batched tiles", {}),
    ]
    default_seg = mixer.SEGMENT_TOKENS
    for size, batch, label, opt in cases:
        if left() < 15:
            return
        try:
            # labels give the tokens per call; bf16 storage doubles SEGMENT_TOKENS' count
            per_call = 2 if precision == "bf16-scan" else 1
            mixer.SEGMENT_TOKENS = opt["seg"] // per_call if "seg" in opt else default_seg
            net.set_channels_last(opt.get("cl", False))
            pan, ms = tile_inputs(size, batch, dev, quick)
            clear_caches(net)
            fn = forward_fn(net, pan, ms, precision)
            mem = peak_gib(fn, dev)
            t = timed(fn, dev)
            mpx = batch * size * size / t / 1e6
            row(
                "variants",
                [
                    card,
                    f"{size}^2",
                    batch,
                    precision,
                    label,
                    f"{t * 1e3:.1f}",
                    f"{mpx:.2f}",
                    fmt(mem),
                    fmt(None if mem is None else mem / batch),
                ],
                {
                    "size": size,
                    "batch": batch,
                    "variant": label,
                    "precision": precision,
                    "s": t,
                    "mpx_s": mpx,
                    "peak_gib": mem,
                },
            )
        except Exception as exc:
            row(
                "variants",
                [
                    card,
                    f"{size}^2",
                    batch,
                    precision,
                    label,
                    f"{type(exc).__name__}: {str(exc)[:80]}",
                    "-",
                    "-",
                    "-",
                ],
            )
            if dev.type == "cuda":
                torch.cuda.empty_cache()
        finally:
            mixer.SEGMENT_TOKENS = default_seg
            net.set_channels_last(False)


def profile(net, dev, card: str, quick: bool, precision: str) -> None:
    import torch
    from torch.profiler import ProfilerActivity

    size = 64 if quick else 1024
    pan, ms = tile_inputs(size, 1, dev, quick)
    fn = forward_fn(net, pan, ms, precision)
    fn()
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with torch.profiler.profile(activities=acts) as prof:
        fn()
        sync(dev)
    key = "cuda_time_total" if dev.type == "cuda" else "cpu_time_total"
    text = prof.key_averages().table(sort_by=key, row_limit=14, max_name_column_width=60)
    print(f"profile {size}^2 {precision} on {card}:\n{text}", flush=True)
    (OUT / f"profile_{precision}.txt").write_text(text)


def main() -> int:
    global BUDGET
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prepare", action="store_true", help="write the data folder and exit")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (CPU smoke test)")
    ap.add_argument("--budget", type=float, default=230.0, help="seconds for all sections")
    ap.add_argument(
        "--end-epoch", type=float, default=None, help="finish by this time (seconds since epoch)"
    )
    ap.add_argument("--device", default=None)
    ap.add_argument("--no-gdal", action="store_true", help="scene through tifffile even with GDAL")
    ap.add_argument(
        "--no-fused", action="store_true", help="PyTorch layers around the scan (no fused layers)"
    )
    ap.add_argument("--sections", default="check,tiles,scene,metrics,training,variants,profile")
    ap.add_argument(
        "--scene-runs",
        default=None,
        help="scene runs as precision:tile:batch[:devices],... (default: a fixed set)",
    )
    args = ap.parse_args()
    if args.prepare:
        return prepare()
    global QUICK
    QUICK = args.quick
    BUDGET = args.budget
    if args.end_epoch is not None:  # what the build left of the command's time limit
        BUDGET = min(BUDGET, args.end_epoch - time.time() - (time.perf_counter() - T0))
    import torch

    dev = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda:0")
    card = card_name(dev)
    from backend.device import scan_engine

    try:
        engine = scan_engine(dev)
    except Exception as exc:
        engine = f"unavailable ({exc})"
    net, name = load_net(dev, args.quick)
    if args.no_fused:
        net.set_fused(False)
        name += ", PyTorch layers"
    log(
        f"card {card}; torch {torch.__version__}; numpy {np.__version__}; scan engine {engine}; "
        f"model {name}; budget {BUDGET:.0f} s; out {OUT}"
    )
    table("setup", ["card", "torch", "scan engine", "model", "python"])
    row("setup", [card, torch.__version__, engine, name, platform.python_version()])
    want = set(args.sections.split(","))
    q = args.quick
    sizes = [32, 64] if q else [256, 512, 1024, 2048]
    precisions = ["fp32", "bf16", "bf16-scan"]
    best: dict = {}
    if "check" in want:
        section("check", 10)(check)(net, dev, card, q)
    if "tiles" in want:
        reserve = 0 if q else 90  # for the scene, metrics and training sections
        best = section("tiles", 30)(tiles)(net, dev, card, q, sizes, precisions, reserve) or {}
    # without a tiles section to choose from: the storage-saving mixed precision
    mixed = pick_mixed(best) if best else "bf16-scan"
    log(f"mixed precision used below: {mixed}")
    if "scene" in want:
        runs = [("fp32", 1024, 1), (mixed, 1024, 1), (mixed, 2048, 1)]
        if dev.type == "cuda" and torch.cuda.device_count() > 1:
            # scaling over the GPUs of the host: the same runs on every GPU ("all")
            runs += [("fp32", 1024, 1, "all"), (mixed, 1024, 1, "all")]
        if q:
            runs = [("fp32", 64, 1), (mixed, 64, 2)]
        if args.scene_runs:
            runs = [
                (p, int(t), int(b), *rest)
                for p, t, b, *rest in (r.split(":") for r in args.scene_runs.split(","))
            ]
        section("scene", 30 if q else 60)(scene)(net, dev, card, q, runs, not args.no_gdal)
    if "metrics" in want:
        section("metrics", 10)(metrics)(net, dev, card, q, [mixed], name)
    if "training" in want:
        section("training", 15)(training)(dev, card, q, [2] if q else [16, 4])
    if "variants" in want:
        section("variants", 15)(variants)(net, dev, card, q, mixed)
    if "profile" in want:
        section("profile", 10)(profile)(net, dev, card, q, mixed)
    print("\n# Results (" + card + ")\n", flush=True)
    for name_, lines in TABLES.items():
        print(f"## {name_}\n" + "\n".join(lines) + "\n", flush=True)
    log("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

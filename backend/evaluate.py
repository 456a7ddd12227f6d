"""Quality assessment of pan-sharpening methods on one scene, with the toolbox metrics.

Reduced resolution (Wald's protocol): PAN and MS are degraded by the ratio with the sensor's MTF
filters, each method fuses the degraded pair and the result is compared with the original MS
(Q2n, Q, SAM, ERGAS, sCC, PSNR, SSIM). Full resolution: each method fuses the original pair and
is scored without a reference (D_lambda of Khan, D_s, HQNR). `evaluate` returns the figures and
writes an HTML report with JSON and CSV beside it; `add_cli` registers `python -m backend evaluate`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .classical import METHODS as CLASSICAL
from .classical.raster_pair import read_pair, restrict_windows
from .degrade import (
    KAISER_BETA,
    MTF_TAPS,
    canonical_sensor,
    interp23,
    sensor_gains,
    wald_degrade,
)
from .errors import InputError, MMMambaError, ModelFileError
from .io.window import Window
from .metrics import d_lambda_khan, d_s, ergas, hqnr, psnr, q2n, q_index, sam, scc, ssim
from .progress import Progress, check_cancelled
from .report import (
    FULL_METRICS,
    REDUCED_METRICS,
    ReportImages,
    best_methods,
    write_csv,
    write_json,
    write_report,
)

log = logging.getLogger(__name__)

METHOD_NAMES = ("exp", "brovey", "gsa", "mtf-glp-hpm", "gdal", "mmmamba")
"""Methods `evaluate` knows, in report order."""

DEFAULT_MAX_SIZE = 1024
"""Largest PAN side (pixels) assessed by default; larger scenes are cut to their centre."""

BLOCK = 32
"""Block size of Q2n, Q and D_s (all on the PAN grid), as in the toolboxes."""

THUMB = 256
"""Side of the thumbnail crops (pixels)."""

ZOOM = 64
"""Side of the zoomed detail (PAN pixels)."""

Fuser = Callable[[np.ndarray, np.ndarray], np.ndarray]


def parse_methods(methods: str | Sequence[str] | None) -> list[str]:
    """Method names from a comma-separated string or a sequence; None gives all of them.

    Raises:
        InputError: an unknown name or an empty list.
    """
    if methods is None:
        return list(METHOD_NAMES)
    items = methods.split(",") if isinstance(methods, str) else list(methods)
    names = []
    for item in items:
        name = item.strip().lower().replace("_", "-")
        if not name:
            continue
        if name not in METHOD_NAMES:
            raise InputError(f"Unknown method {item!r}: use some of {', '.join(METHOD_NAMES)}.")
        if name not in names:
            names.append(name)
    if not names:
        raise InputError(f"Give at least one method among {', '.join(METHOD_NAMES)}.")
    return names


def _default_rgb(n_bands: int) -> tuple[int, int, int]:
    """0-based display bands when the file does not say: toolbox band orders (B,G,R,NIR; WV 8)."""
    if n_bands >= 8:
        return (4, 2, 1)
    if n_bands >= 4:
        return (2, 1, 0)
    if n_bands == 3:
        return (0, 1, 2)
    return (0, 0, 0)


def _mmmamba_fuser(model: Any, device: str) -> Fuser:
    # Imported here: the network stack (torch) is only needed when MMMamba is assessed.
    try:
        from .fuse import fuse_arrays
    except ImportError as err:
        raise ModelFileError(f"The MMMamba engine is not available: {err}.") from err

    def run(pan: np.ndarray, ms: np.ndarray) -> np.ndarray:
        return np.asarray(fuse_arrays(pan, ms, model=model, device=device), dtype=np.float32)

    return run


def _detail_box(pan: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left of the `size` square of `pan` with the most gradient energy (step size/4)."""
    from scipy import ndimage

    h, w = pan.shape
    if h <= size or w <= size:
        return 0, 0
    energy = np.hypot(ndimage.sobel(pan, 0), ndimage.sobel(pan, 1))
    step = max(1, size // 4)
    best, pos = -1.0, (0, 0)
    for r in range(0, h - size + 1, step):
        for c in range(0, w - size + 1, step):
            e = float(energy[r : r + size, c : c + size].sum())
            if e > best:
                best, pos = e, (r, c)
    return pos


def _central(shape: tuple[int, int], size: int, multiple: int = 1) -> tuple[slice, slice]:
    h, w = shape
    sh = min(size, h) // multiple * multiple
    sw = min(size, w) // multiple * multiple
    r0 = (h - sh) // 2 // multiple * multiple
    c0 = (w - sw) // 2 // multiple * multiple
    return slice(r0, r0 + sh), slice(c0, c0 + sw)


def _load(
    pan: str | Path | np.ndarray,
    ms: str | Path | np.ndarray,
    ratio: int | None,
    window: Window | None,
    max_size: int | None,
) -> tuple[np.ndarray, np.ndarray, int, dict[str, Any], tuple[int, int, int] | None]:
    if isinstance(pan, str | Path) != isinstance(ms, str | Path):
        raise InputError("Give PAN and MS both as files or both as arrays.")
    if isinstance(pan, str | Path):
        pair = read_pair(pan, ms, ratio=ratio, window=window, max_size=max_size)  # type: ignore[arg-type]
        info = {
            "pan": str(pan),
            "ms": str(ms),
            "pan_window": list(astuple(pair.pan_window)),
            "ms_window": list(astuple(pair.ms_window)),
        }
        rgb = tuple(b - 1 for b in pair.rgb) if pair.rgb else None
        return pair.pan, pair.ms, pair.ratio, info, rgb  # type: ignore[return-value]
    p = np.asarray(pan, dtype=np.float32)
    m = np.asarray(ms, dtype=np.float32)
    if p.ndim != 2 or m.ndim != 3:
        raise InputError(f"Expected PAN (H, W) and MS (C, h, w), got {p.shape} and {m.shape}.")
    if min(m.shape) == 0:
        raise InputError(f"MS {m.shape} holds no pixel.")
    if ratio is None:
        if p.shape[0] % m.shape[1] or p.shape[0] // m.shape[1] != p.shape[1] / m.shape[2]:
            raise InputError(
                f"PAN {p.shape} is not an integer multiple of MS {m.shape[1:]}: give the ratio."
            )
        ratio = p.shape[0] // m.shape[1]
    if int(ratio) != ratio or ratio < 2:
        raise InputError(f"The resolution ratio must be an integer >= 2, got {ratio}.")
    if p.shape != (m.shape[1] * ratio, m.shape[2] * ratio):
        raise InputError(f"PAN {p.shape} is not {ratio} times MS {m.shape[1:]}.")
    pan_win, ms_win = restrict_windows(
        Window(0, 0, p.shape[1], p.shape[0]),
        Window(0, 0, m.shape[2], m.shape[1]),
        ratio,
        window,
        max_size,
    )
    p = p[pan_win.slices()]
    m = m[(slice(None), *ms_win.slices())]
    info = {"pan": "array", "ms": "array", "pan_window": list(astuple(pan_win))}
    return p, m, int(ratio), info, None


def evaluate(
    pan: str | Path | np.ndarray,
    ms: str | Path | np.ndarray,
    *,
    sensor: str | None = None,
    methods: str | Sequence[str] | None = None,
    report: str | Path | None = None,
    json: str | Path | None = None,
    csv: str | Path | None = None,
    ratio: int | None = None,
    model: Any = None,
    device: str = "auto",
    window: Window | None = None,
    max_size: int | None = DEFAULT_MAX_SIZE,
    rgb: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Assess pan-sharpening methods at reduced (Wald) and full resolution.

    Args:
        pan: PAN raster path, or array (H, W).
        ms: MS raster path, or array (C, H/ratio, W/ratio).
        sensor: Sensor name for the MTF gains (see `backend.degrade.SENSORS`); None: 'unknown'.
        methods: Names among `METHOD_NAMES` (sequence or comma-separated); None: all. When
            MMMamba is only implied (None) and no engine or model is available, it is skipped
            and the report says why; asked for explicitly, that raises `ModelFileError`.
        report: HTML report to write (JSON and CSV go beside it unless given).
        json: JSON file to write.
        csv: CSV file to write.
        ratio: Resolution ratio; default from the files' pixel sizes or the array shapes.
        model: MMMamba model (name, path or loaded model) for `backend.fuse.fuse_arrays`.
        device: Device for MMMamba ('auto', 'cpu', 'cuda', ...).
        window: Area to assess in PAN pixels (shrunk to whole MS pixels).
        max_size: Largest PAN side assessed; larger areas are cut to their centre (None: all).
        rgb: 1-based MS bands shown as red, green, blue in the report.
        progress: Progress and cancellation.

    Returns:
        `{"reduced": {method: {Q2n, Q, SAM, ERGAS, sCC, PSNR, SSIM}}, "full": {method:
        {D_lambda, D_s, HQNR}}, "best", "methods", "skipped", "runtime_s", "settings",
        "inputs", "outputs", "created", "version"}`.
    """
    names = parse_methods(methods)
    explicit = methods is not None
    pan_a, ms_a, r, inputs, file_rgb = _load(pan, ms, ratio, window, max_size)
    # Wald's protocol decimates MS by the ratio: keep whole coarse pixels.
    h, w = ms_a.shape[1] // r * r, ms_a.shape[2] // r * r
    if h < 8 * r or w < 8 * r:
        raise InputError(
            f"MS {ms_a.shape[1:]} is too small to assess at ratio {r}: give at least "
            f"{8 * r} x {8 * r} MS pixels ({8 * r * r} PAN pixels a side)."
        )
    ms_a = np.ascontiguousarray(ms_a[:, :h, :w])
    pan_a = np.ascontiguousarray(pan_a[: h * r, : w * r])
    n_bands = ms_a.shape[0]
    sensor_name = canonical_sensor(sensor)
    gains = sensor_gains(sensor_name, n_bands)
    if rgb is not None:
        if len(rgb) != 3 or not all(1 <= int(b) <= n_bands for b in rgb):
            raise InputError(f"Give three display bands between 1 and {n_bands}, got {list(rgb)}.")
        show = tuple(int(b) - 1 for b in rgb)
    else:
        show = file_rgb or _default_rgb(n_bands)

    fusers: dict[str, Fuser] = {}
    skipped: dict[str, str] = {}
    for name in names:
        if name == "mmmamba":
            try:
                fusers[name] = _mmmamba_fuser(model, device)
            except ModelFileError as err:
                if explicit:
                    raise
                skipped[name] = str(err)
                log.warning("MMMamba not assessed: %s", err)
        else:
            method = CLASSICAL[name]
            fusers[name] = lambda p, m, _f=method: _f(p, m, r, sensor_name)

    pan_lr, ms_lr = wald_degrade(pan_a, ms_a, r, sensor_name)
    ref = ms_a.astype(np.float64)

    fr_rows, fr_cols = _central(pan_a.shape, THUMB, r)
    fr_pan = pan_a[fr_rows, fr_cols]
    zoom_size = min(ZOOM, *fr_pan.shape)
    zr, zc = _detail_box(fr_pan, zoom_size)
    rr_rows, rr_cols = _central(ref.shape[1:], THUMB)
    images = ReportImages(
        rgb=show, fr_pan=fr_pan, zoom=(zr, zc, zoom_size), rr_ref=ms_a[:, rr_rows, rr_cols]
    )
    if "exp" not in fusers:
        images.fr["MS (interpolated)"] = interp23(ms_a, r)[:, fr_rows, fr_cols]
    # Spectral profile at the centre of the zoomed detail, in reduced-resolution pixels.
    prow = min(ref.shape[1] - 1, (fr_rows.start + zr + zoom_size // 2) // r)
    pcol = min(ref.shape[2] - 1, (fr_cols.start + zc + zoom_size // 2) // r)
    images.profile_pixel = (prow, pcol)
    images.profiles["reference"] = ref[:, prow, pcol]

    reduced: dict[str, dict[str, float]] = {}
    full: dict[str, dict[str, float]] = {}
    runtime: dict[str, float] = {}
    steps = 2 * max(1, len(fusers))
    done = 0
    for name, fuse in fusers.items():
        check_cancelled(progress)
        if progress is not None:
            progress.info(f"{name}: reduced-resolution fusion")
        t0 = time.perf_counter()
        try:
            fused_rr = fuse(pan_lr, ms_lr)
        except ModelFileError as err:
            if name != "mmmamba" or explicit:
                raise
            skipped[name] = str(err)
            log.warning("MMMamba not assessed: %s", err)
            done += 2
            continue
        t_rr = time.perf_counter() - t0
        reduced[name] = {
            "Q2n": q2n(ref, fused_rr, BLOCK),
            "Q": q_index(ref, fused_rr, BLOCK),
            "SAM": sam(ref, fused_rr),
            "ERGAS": ergas(ref, fused_rr, r),
            "sCC": scc(ref, fused_rr),
            "PSNR": psnr(ref, fused_rr),
            "SSIM": ssim(ref, fused_rr),
        }
        images.rr[name] = fused_rr[:, rr_rows, rr_cols]
        images.profiles[name] = np.asarray(fused_rr[:, prow, pcol], dtype=np.float64)
        rmse = np.sqrt(((fused_rr - ref) ** 2).mean(axis=(1, 2)))
        images.band_rel_rmse[name] = 100.0 * rmse / np.abs(ref.mean(axis=(1, 2)))
        del fused_rr
        done += 1
        if progress is not None:
            progress.set_fraction(done / steps)

        check_cancelled(progress)
        if progress is not None:
            progress.info(f"{name}: full-resolution fusion")
        t0 = time.perf_counter()
        fused = fuse(pan_a, ms_a)
        t_fr = time.perf_counter() - t0
        dl = d_lambda_khan(fused, ms_a, r, gains.ms, BLOCK)
        ds = d_s(fused, ms_a, pan_a, r, BLOCK)
        full[name] = {"D_lambda": dl, "D_s": ds, "HQNR": hqnr(dl, ds)}
        images.fr[name] = fused[:, fr_rows, fr_cols]
        del fused
        runtime[name] = t_rr + t_fr
        done += 1
        if progress is not None:
            progress.set_fraction(done / steps)
        log.info("%s: %s %s", name, reduced[name], full[name])

    assessed = [n for n in names if n in reduced]
    result: dict[str, Any] = {
        "reduced": reduced,
        "full": full,
        "best": {
            "reduced": {k: best_methods(reduced, k) for k in REDUCED_METRICS},
            "full": {k: best_methods(full, k) for k in FULL_METRICS},
        },
        "methods": assessed,
        "skipped": skipped,
        "runtime_s": runtime,
        "settings": {
            "sensor": sensor_name,
            "ratio": r,
            "ms_mtf_gains": [round(float(g), 4) for g in gains.ms],
            "pan_mtf_gain": gains.pan,
            "mtf_filter": (
                f"Gaussian matched to the gain at Nyquist, {MTF_TAPS} x {MTF_TAPS} taps, "
                f"Kaiser window beta {KAISER_BETA}, unit DC gain, replicated borders"
            ),
            "decimation": f"coarse pixel i = filtered fine pixel {r}*i + {r // 2}",
            "interpolation": "23-tap polynomial (degree-11 Lagrange), mirrored borders",
            "q2n_block": BLOCK,
            "uiqi_block": BLOCK,
            "d_s": (
                f"mean over bands of |Q(fused, PAN) - Q(interpolated MS, PAN_low)|, Q on "
                f"{BLOCK} x {BLOCK} blocks, PAN_low = 23-tap interpolation of PAN shrunk by "
                f"{r} with bicubic imresize (toolbox default), exponent 1"
            ),
            "d_lambda": "Khan: 1 - Q2n(interpolated MS, MTF-filtered fused)",
            "ssim_window": "Gaussian 11 x 11, sigma 1.5",
            "psnr_peak": "maximum of the reference",
            "border_cut": 0,
            "display_bands": [b + 1 for b in show],
        },
        "inputs": {
            **inputs,
            "pan_shape": list(pan_a.shape),
            "ms_shape": list(ms_a.shape),
            "reduced_pan_shape": list(pan_lr.shape),
            "reduced_ms_shape": list(ms_lr.shape),
        },
        "outputs": {},
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "version": __version__,
    }

    check_cancelled(progress)
    if report is not None:
        report = Path(report)
        json = report.with_suffix(".json") if json is None else json
        csv = report.with_suffix(".csv") if csv is None else csv
    if json is not None:
        result["outputs"]["json"] = str(json)
    if csv is not None:
        result["outputs"]["csv"] = str(csv)
    if report is not None:
        result["outputs"]["report"] = str(report)
    if json is not None:
        write_json(result, json)
    if csv is not None:
        write_csv(result, csv)
    if report is not None:
        write_report(result, report, images)
    if progress is not None:
        progress.set_fraction(1.0)
    return result


# ---- command line -----------------------------------------------------------------------------


def _format_table(result: dict[str, Any]) -> str:
    cols = [*REDUCED_METRICS, *FULL_METRICS]
    lines = ["method".ljust(12) + "".join(c.rjust(10) for c in cols)]
    for m in result["methods"]:
        vals = [result["reduced"][m].get(c) for c in REDUCED_METRICS]
        vals += [result["full"][m].get(c) for c in FULL_METRICS]
        lines.append(m.ljust(12) + "".join(f"{v:10.4f}" for v in vals))
    return "\n".join(lines)


def run_cli(args: argparse.Namespace) -> int:
    """Run `evaluate` from parsed arguments; print the table. Returns the exit status."""
    window = None
    if args.window:
        try:
            col, row, width, height = (int(v) for v in args.window.split(","))
        except ValueError:
            print("error: --window takes COL,ROW,WIDTH,HEIGHT in PAN pixels", file=sys.stderr)
            return 2
        window = Window(col, row, width, height)
    rgb = None
    if args.rgb:
        try:
            rgb = [int(v) for v in args.rgb.split(",")]
        except ValueError:
            print("error: --rgb takes three band numbers, e.g. 3,2,1", file=sys.stderr)
            return 2
    try:
        result = evaluate(
            args.pan,
            args.ms,
            sensor=args.sensor,
            methods=args.methods,
            report=args.report,
            json=args.json,
            csv=args.csv,
            ratio=args.ratio,
            model=args.model,
            device=args.device,
            window=window,
            max_size=args.max_size or None,
            rgb=rgb,
        )
    except MMMambaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(_format_table(result))
    for m, why in result["skipped"].items():
        print(f"{m} not assessed: {why}")
    for kind, path in result["outputs"].items():
        print(f"{kind}: {path}")
    return 0


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Register `evaluate` on an argparse sub-parser collection; returns the new parser.

    The parser's default `func` is `run_cli(args) -> int`.
    """
    p = subparsers.add_parser(
        "evaluate",
        help="assess pan-sharpening methods on a scene (toolbox metrics, HTML report)",
        description=(
            "Reduced-resolution (Wald protocol: Q2n, Q, SAM, ERGAS, sCC, PSNR, SSIM) and "
            "full-resolution (D_lambda, D_s, HQNR) assessment of pan-sharpening methods on one "
            "scene, with an HTML report and JSON/CSV tables."
        ),
    )
    p.add_argument("--pan", required=True, help="PAN raster")
    p.add_argument("--ms", required=True, help="MS raster over the same ground")
    p.add_argument(
        "--sensor", default=None, help="sensor for the MTF gains (e.g. WorldView-3, IKONOS)"
    )
    p.add_argument(
        "--methods",
        default=None,
        help=f"comma-separated methods (default all): {','.join(METHOD_NAMES)}",
    )
    p.add_argument("--report", required=True, help="HTML report to write")
    p.add_argument("--json", default=None, help="JSON file (default beside the report)")
    p.add_argument("--csv", default=None, help="CSV file (default beside the report)")
    p.add_argument("--ratio", type=int, default=None, help="resolution ratio (default from files)")
    p.add_argument("--model", default=None, help="MMMamba model name or file")
    p.add_argument("--device", default="auto", help="device for MMMamba (auto, cpu, cuda)")
    p.add_argument(
        "--window", default=None, help="area to assess in PAN pixels: COL,ROW,WIDTH,HEIGHT"
    )
    p.add_argument(
        "--max-size",
        type=int,
        default=DEFAULT_MAX_SIZE,
        help=f"largest PAN side assessed, centre crop beyond (default {DEFAULT_MAX_SIZE}, 0: all)",
    )
    p.add_argument("--rgb", default=None, help="1-based MS bands shown as R,G,B in the report")
    p.set_defaults(func=run_cli)
    return p

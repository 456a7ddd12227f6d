"""Quality-assessment outputs: a self-contained HTML report, and JSON / CSV tables beside it.

The HTML has no external resources: pictures are PNGs embedded as base64 data URIs, so the file
can be mailed or opened offline. matplotlib is imported only when a report is written.
"""

from __future__ import annotations

import base64
import csv as _csv
import html
import io
import json as _json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OutputError

REDUCED_METRICS = ("Q2n", "Q", "SAM", "ERGAS", "sCC", "PSNR", "SSIM")
FULL_METRICS = ("D_lambda", "D_s", "HQNR")
HIGHER_IS_BETTER = {
    "Q2n": True,
    "Q": True,
    "SAM": False,
    "ERGAS": False,
    "sCC": True,
    "PSNR": True,
    "SSIM": True,
    "D_lambda": False,
    "D_s": False,
    "HQNR": True,
}
_DECIMALS = {"SAM": 3, "ERGAS": 3, "PSNR": 2}


@dataclass
class ReportImages:
    """Pictures for the report, all cut from the same places for every method.

    Attributes:
        rgb: 0-based MS bands shown as red, green, blue.
        fr_pan: PAN crop (S, S) at full resolution.
        fr: Method -> fused crop (C, S, S) at full resolution.
        zoom: `(row, col, size)` of the zoomed detail inside the full-resolution crop.
        rr_ref: Reference MS crop (C, s, s) at reduced resolution.
        rr: Method -> fused crop (C, s, s) at reduced resolution.
        profile_pixel: `(row, col)` of the spectral profile in the reduced-resolution image.
        profiles: Name ('reference' and methods) -> spectrum (C,) at that pixel.
        band_rel_rmse: Method -> per-band RMSE / band mean (%) at reduced resolution.
    """

    rgb: tuple[int, int, int]
    fr_pan: np.ndarray
    fr: dict[str, np.ndarray] = field(default_factory=dict)
    zoom: tuple[int, int, int] = (0, 0, 0)
    rr_ref: np.ndarray | None = None
    rr: dict[str, np.ndarray] = field(default_factory=dict)
    profile_pixel: tuple[int, int] = (0, 0)
    profiles: dict[str, np.ndarray] = field(default_factory=dict)
    band_rel_rmse: dict[str, np.ndarray] = field(default_factory=dict)


def best_methods(table: Mapping[str, Mapping[str, float | None]], metric: str) -> list[str]:
    """Methods holding the best finite value of `metric` (ties all count), [] if none."""
    values = {
        m: v[metric]
        for m, v in table.items()
        if v.get(metric) is not None and math.isfinite(v[metric])
    }
    if not values:
        return []
    pick = max if HIGHER_IS_BETTER[metric] else min
    best = pick(values.values())
    return [m for m, v in values.items() if v == best]


def _finite_or_none(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    return value


def _atomic_write(path: Path, text: str) -> None:
    if not path.parent.is_dir():
        raise OutputError(f"The folder of {path} does not exist.")
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"Cannot write {path}: {err.strerror or err}.") from err


def write_json(result: Mapping[str, Any], path: str | Path) -> Path:
    """Write the assessment as JSON (NaN and infinity become null)."""
    path = Path(path)
    _atomic_write(path, _json.dumps(_finite_or_none(dict(result)), indent=2) + "\n")
    return path


def write_csv(result: Mapping[str, Any], path: str | Path) -> Path:
    """Write one row per method: `method`, the reduced- then full-resolution metrics, runtime."""
    path = Path(path)
    buf = io.StringIO()
    writer = _csv.writer(buf, lineterminator="\n")
    writer.writerow(["method", *REDUCED_METRICS, *FULL_METRICS, "runtime_s"])
    for method in result["methods"]:
        rr = result["reduced"].get(method, {})
        fr = result["full"].get(method, {})
        row: list[Any] = [method]
        for key, table in [(k, rr) for k in REDUCED_METRICS] + [(k, fr) for k in FULL_METRICS]:
            v = table.get(key)
            row.append("" if v is None or not math.isfinite(v) else repr(float(v)))
        t = result.get("runtime_s", {}).get(method)
        row.append("" if t is None else f"{t:.3f}")
        writer.writerow(row)
    _atomic_write(path, buf.getvalue())
    return path


# ---- pictures ---------------------------------------------------------------------------------


def _stretch_limits(img: np.ndarray, bands: Sequence[int]) -> np.ndarray:
    """(3, 2) display limits: 1st and 99th percentiles of each shown band of `img` (C, H, W)."""
    lims = np.empty((len(bands), 2))
    for i, b in enumerate(bands):
        lo, hi = np.nanpercentile(img[b], [1.0, 99.0])
        lims[i] = (lo, hi if hi > lo else lo + 1.0)
    return lims


def _to_rgb8(img: np.ndarray, bands: Sequence[int], limits: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 from the chosen bands of (C, H, W), one fixed stretch for all methods."""
    out = np.empty((*img.shape[1:], 3), dtype=np.uint8)
    for i, b in enumerate(bands):
        lo, hi = limits[i]
        x = np.nan_to_num((img[b] - lo) / (hi - lo), nan=0.0)
        out[..., i] = np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)
    return out


def _grey8(img: np.ndarray) -> np.ndarray:
    lo, hi = np.nanpercentile(img, [1.0, 99.0])
    x = np.clip((img - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
    return np.repeat(np.round(x * 255).astype(np.uint8)[..., None], 3, axis=2)


def _png(rgb8: np.ndarray, scale: int = 1) -> str:
    """Base64 PNG of an (H, W, 3) uint8 image, optionally enlarged by pixel repetition."""
    from matplotlib import image as mpimg

    if scale > 1:
        rgb8 = np.repeat(np.repeat(rgb8, scale, axis=0), scale, axis=1)
    buf = io.BytesIO()
    mpimg.imsave(buf, np.ascontiguousarray(rgb8), format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure_png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _profile_plot(images: ReportImages, methods: Sequence[str]) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    ref = images.profiles.get("reference")
    n_bands = len(ref) if ref is not None else 0
    x = np.arange(1, n_bands + 1)
    if ref is not None:
        ax1.plot(x, ref, color="black", linewidth=2.5, marker="o", label="reference")
    for m in methods:
        if m in images.profiles:
            ax1.plot(x, images.profiles[m], marker=".", linewidth=1.2, label=m)
    r, c = images.profile_pixel
    ax1.set_title(f"Spectrum at reduced-resolution pixel (row {r}, col {c})", fontsize=10)
    ax1.set_xlabel("band")
    ax1.set_ylabel("value")
    ax1.set_xticks(x)
    ax1.legend(fontsize=8)
    shown = [m for m in methods if m in images.band_rel_rmse]
    width = 0.8 / max(1, len(shown))
    for i, m in enumerate(shown):
        ax2.bar(x + (i - (len(shown) - 1) / 2) * width, images.band_rel_rmse[m], width, label=m)
    ax2.set_title("Per-band relative RMSE at reduced resolution (%)", fontsize=10)
    ax2.set_xlabel("band")
    ax2.set_xticks(x)
    ax2.legend(fontsize=8)
    return _figure_png(fig)


# ---- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:0.92em}
th,td{border:1px solid #bbb;padding:4px 8px;text-align:right}
th{background:#f0f0f0}td.method,th.method{text-align:left}
td.best{background:#d8f5d0;font-weight:bold}
td.time{color:#777}
.grid{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0}figure img{width:256px;height:256px;image-rendering:pixelated;border:1px solid #999}
figcaption{text-align:center;font-size:0.9em}
.note{color:#555;font-size:0.9em}
"""

# Marks the document once every embedded picture is decoded (a check for headless browsers).
_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  document.body.setAttribute('data-images-decoded',
    String(imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length));
});
"""


def _fmt(metric: str, v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "inf" if v is not None and v == math.inf else "–"
    return f"{v:.{_DECIMALS.get(metric, 4)}f}"


def _metric_table(result: Mapping[str, Any]) -> str:
    methods = result["methods"]
    arrow = {k: ("↑" if up else "↓") for k, up in HIGHER_IS_BETTER.items()}
    best = {k: best_methods(result["reduced"], k) for k in REDUCED_METRICS}
    best |= {k: best_methods(result["full"], k) for k in FULL_METRICS}
    head1 = (
        '<tr><th class="method" rowspan="2">Method</th>'
        f'<th colspan="{len(REDUCED_METRICS)}">Reduced resolution (Wald protocol, reference = '
        "original MS)</th>"
        f'<th colspan="{len(FULL_METRICS)}">Full resolution (no reference)</th>'
        '<th rowspan="2">Time (s)</th></tr>'
    )
    head2 = (
        "<tr>"
        + "".join(
            f"<th>{html.escape(k)} {arrow[k]}</th>" for k in (*REDUCED_METRICS, *FULL_METRICS)
        )
        + "</tr>"
    )
    rows = []
    for m in methods:
        cells = [f'<td class="method">{html.escape(m)}</td>']
        for k in (*REDUCED_METRICS, *FULL_METRICS):
            table = result["reduced"] if k in REDUCED_METRICS else result["full"]
            v = table.get(m, {}).get(k)
            cls = ' class="best" title="best in column"' if m in best[k] else ""
            cells.append(f"<td{cls}>{_fmt(k, v)}</td>")
        t = result.get("runtime_s", {}).get(m)
        cells.append(f'<td class="time">{"" if t is None else f"{t:.2f}"}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table id="metrics"><thead>{head1}{head2}</thead><tbody>{"".join(rows)}</tbody></table>'
        '<p class="note">↑ higher is better, ↓ lower is better; the best value of each column is '
        "highlighted. Time: reduced- plus full-resolution fusion on this machine.</p>"
    )


def _figure(b64: str, caption: str) -> str:
    cap = html.escape(caption)
    return (
        f'<figure><img src="data:image/png;base64,{b64}" alt="{cap}">'
        f"<figcaption>{cap}</figcaption></figure>"
    )


def _settings_table(settings: Mapping[str, Any]) -> str:
    rows = []
    for k, v in settings.items():
        if isinstance(v, list | tuple):
            v = ", ".join(str(x) for x in v)
        rows.append(
            f'<tr><td class="method">{html.escape(str(k))}</td>'
            f'<td class="method">{html.escape(str(v))}</td></tr>'
        )
    return f'<table id="settings"><tbody>{"".join(rows)}</tbody></table>'


def render_html(result: Mapping[str, Any], images: ReportImages | None) -> str:
    """The report as one HTML string (tables always; pictures when `images` is given)."""
    methods = list(result["methods"])
    inputs = result.get("inputs", {})
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>MMMamba pan-sharpening quality report</title>",
        f"<style>{_CSS}</style><script>{_SCRIPT}</script></head><body>",
        "<h1>Pan-sharpening quality report</h1>",
        '<p class="note">',
        f"PAN: {html.escape(str(inputs.get('pan', 'array')))}<br>",
        f"MS: {html.escape(str(inputs.get('ms', 'array')))}<br>",
        f"Assessed area: PAN {inputs.get('pan_shape')}, MS {inputs.get('ms_shape')}",
        f" &middot; created {html.escape(str(result.get('created', '')))}</p>",
        "<h2>Metrics</h2>",
        _metric_table(result),
    ]
    skipped = result.get("skipped", {})
    if skipped:
        items = "".join(
            f"<li>{html.escape(m)}: {html.escape(str(r))}</li>" for m, r in skipped.items()
        )
        parts.append(f'<p class="note">Not assessed:</p><ul class="note">{items}</ul>')
    if images is not None:
        r, c, size = images.zoom
        bands = images.rgb
        fr_lims = _stretch_limits(next(iter(images.fr.values())), bands) if images.fr else None
        parts.append("<h2>Full-resolution results</h2>")
        parts.append(
            '<p class="note">The same crop for every method; colours use one stretch for all '
            f"(bands {', '.join(str(b + 1) for b in bands)} as red, green, blue).</p>"
        )
        figs = [_figure(_png(_grey8(images.fr_pan)), "PAN")]
        figs += [_figure(_png(_to_rgb8(img, bands, fr_lims)), m) for m, img in images.fr.items()]
        parts.append(f'<div class="grid" id="thumbnails">{"".join(figs)}</div>')
        parts.append(
            f'<h2>Zoomed detail</h2><p class="note">{size} x {size} PAN pixels at row {r}, '
            f"column {c} of the crop, enlarged {max(1, 256 // max(size, 1))} times.</p>"
        )
        scale = max(1, 256 // max(size, 1))
        sl = (slice(r, r + size), slice(c, c + size))
        figs = [_figure(_png(_grey8(images.fr_pan[sl]), scale), "PAN")]
        figs += [
            _figure(_png(_to_rgb8(img[(slice(None), *sl)], bands, fr_lims), scale), m)
            for m, img in images.fr.items()
        ]
        parts.append(f'<div class="grid" id="zoom">{"".join(figs)}</div>')
        if images.rr_ref is not None:
            rr_lims = _stretch_limits(images.rr_ref, bands)
            parts.append(
                '<h2>Reduced-resolution results</h2><p class="note">Fusion of the degraded '
                "pair compared with the original MS (the reference).</p>"
            )
            figs = [_figure(_png(_to_rgb8(images.rr_ref, bands, rr_lims)), "reference")]
            figs += [
                _figure(_png(_to_rgb8(img, bands, rr_lims)), m) for m, img in images.rr.items()
            ]
            parts.append(f'<div class="grid" id="reduced">{"".join(figs)}</div>')
        if images.profiles:
            parts.append("<h2>Spectral profile</h2>")
            parts.append(
                f'<img id="profile" alt="spectral profile" '
                f'src="data:image/png;base64,{_profile_plot(images, methods)}">'
            )
    parts.append("<h2>Degradation and metric settings</h2>")
    parts.append(_settings_table(result.get("settings", {})))
    parts.append("</body></html>\n")
    return "".join(parts)


def write_report(
    result: Mapping[str, Any], path: str | Path, images: ReportImages | None = None
) -> Path:
    """Write the self-contained HTML report."""
    path = Path(path)
    _atomic_write(path, render_html(result, images))
    return path

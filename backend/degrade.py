"""Sensor MTF filters, Wald's degradation protocol and 23-tap polynomial interpolation.

Reduced-resolution assessment (Wald's protocol) degrades PAN and MS by the resolution ratio with
Gaussian filters whose gain at the Nyquist frequency of the coarser grid matches the sensor's MTF,
then decimates; the fused result of the degraded pair is compared with the original MS.

Grid convention (shared by `decimate` and `interp23`, as in the pan-sharpening toolboxes): the
coarse pixel `i` corresponds to the fine pixel `ratio * i + ratio // 2`. For odd ratios that is the
exact centre of the footprint; for even ratios it is half a fine pixel past it. Keeping the two
functions on the same convention is what makes "degrade then interpolate" free of shifts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.signal import fftconvolve

from .errors import InputError

log = logging.getLogger(__name__)

MTF_TAPS = 41
"""Size of the MTF kernels (taps per side), as in the pan-sharpening toolboxes."""

KAISER_BETA = 0.5
"""Shape of the Kaiser window that truncates the MTF kernels (MATLAB's `kaiser(N)` default)."""

LAGRANGE_NODES = 12
"""Samples used per interpolated value: degree-11 polynomial, i.e. the 23-tap half-band filter."""


class SensorGains(NamedTuple):
    """MTF gains at Nyquist of one sensor, fitted to a band count.

    Attributes:
        name: Canonical sensor name (a key of `SENSORS`).
        ms: Gain of every MS band, shape (C,).
        pan: Gain of the PAN band.
    """

    name: str
    ms: np.ndarray
    pan: float


# Gains at Nyquist from ../shared/data/README.md (toolbox values). A single MS value applies to
# every band; `None` for PAN means "not published", the 'unknown' PAN gain is used instead.
SENSORS: dict[str, tuple[tuple[float, ...], float | None]] = {
    "QuickBird": ((0.34, 0.32, 0.30, 0.22), 0.15),
    "IKONOS": ((0.26, 0.28, 0.29, 0.28), 0.17),
    "GeoEye-1": ((0.23,), 0.16),
    "WorldView-2": ((0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.27), 0.11),
    "WorldView-3": ((0.325, 0.355, 0.360, 0.350, 0.365, 0.360, 0.335, 0.315), 0.14),
    "Pleiades": ((0.28, 0.28, 0.29, 0.28), None),
    "SPOT-7": ((0.33,), None),
    "unknown": ((0.30,), 0.15),
}

_ALIASES = {
    "qb": "QuickBird",
    "quickbird": "QuickBird",
    "ik": "IKONOS",
    "ikonos": "IKONOS",
    "ge1": "GeoEye-1",
    "geoeye1": "GeoEye-1",
    "geoeye": "GeoEye-1",
    "wv2": "WorldView-2",
    "worldview2": "WorldView-2",
    "wv3": "WorldView-3",
    "worldview3": "WorldView-3",
    "phr": "Pleiades",
    "pleiades": "Pleiades",
    "spot7": "SPOT-7",
    "unknown": "unknown",
    "none": "unknown",
    "": "unknown",
}


def sensor_names() -> list[str]:
    """Canonical names accepted by `sensor_gains` (aliases such as 'WV3' or 'IK' work too)."""
    return list(SENSORS)


def canonical_sensor(name: str | None) -> str:
    """Map a sensor name or alias ('WV3', 'geoeye1', 'GeoEye-1', None) to its canonical name.

    Raises:
        InputError: the name is not in the sensor table.
    """
    if name is None:
        return "unknown"
    key = "".join(ch for ch in name.lower() if ch.isalnum())
    if key in _ALIASES:
        return _ALIASES[key]
    for canonical in SENSORS:
        if key == "".join(ch for ch in canonical.lower() if ch.isalnum()):
            return canonical
    raise InputError(
        f"Unknown sensor {name!r}: use one of {', '.join(SENSORS)} "
        "(or 'unknown' for generic MTF gains)."
    )


def sensor_gains(name: str | None, n_bands: int) -> SensorGains:
    """MTF gains at Nyquist of a sensor for an image of `n_bands` MS bands.

    A sensor whose table lists another band count (a 4-band product of an 8-band sensor, say)
    gets the mean of its MS gains on every band, with a warning: the band order is unknown then.

    Args:
        name: Sensor name or alias; None means 'unknown'.
        n_bands: Number of MS bands of the image.

    Returns:
        The canonical name, the (C,) MS gains and the PAN gain.
    """
    if n_bands < 1:
        raise InputError(f"An MS image needs at least one band, got {n_bands}.")
    canonical = canonical_sensor(name)
    ms_table, pan = SENSORS[canonical]
    if len(ms_table) == 1:
        ms = np.full(n_bands, ms_table[0])
    elif len(ms_table) == n_bands:
        ms = np.asarray(ms_table, dtype=np.float64)
    else:
        log.warning(
            "%s lists %d MS gains but the image has %d bands: using their mean %.3f on every band",
            canonical,
            len(ms_table),
            n_bands,
            float(np.mean(ms_table)),
        )
        ms = np.full(n_bands, float(np.mean(ms_table)))
    if pan is None:
        pan = SENSORS["unknown"][1]
        log.info("%s has no published PAN gain: using %.2f", canonical, pan)
    return SensorGains(canonical, ms, float(pan))


def _check_ratio(ratio: int) -> int:
    if int(ratio) != ratio or ratio < 1:
        raise InputError(f"The resolution ratio must be a positive integer, got {ratio}.")
    return int(ratio)


def _kaiser_2d(taps: int, beta: float) -> np.ndarray:
    """Circularly symmetric window made by rotating a 1-D Kaiser window (zero beyond radius 1)."""
    w1 = np.kaiser(taps, beta)
    t = np.linspace(-1.0, 1.0, taps)
    radius = np.hypot(t[:, None], t[None, :])
    half = taps // 2
    w2 = np.interp(radius, t[half:], w1[half:])
    w2[radius > 1.0] = 0.0
    return w2


@lru_cache(maxsize=64)
def _mtf_kernel_cached(gain: float, ratio: int, taps: int) -> np.ndarray:
    # Frequency-sampling design: a Gaussian frequency response sampled on the taps x taps DFT grid
    # (sample k <-> k / taps cycles per pixel), inverse DFT, then a Kaiser window. The Gaussian
    # width is set so that the response at the coarse grid's Nyquist frequency 1 / (2 ratio)
    # equals `gain`. (The toolboxes place that point at sample (taps - 1) / (2 ratio), which puts
    # the requested gain about 2.5 % below Nyquist; here it lands on Nyquist itself.)
    k_nyquist = taps / (2.0 * ratio)
    alpha = k_nyquist / math.sqrt(-2.0 * math.log(gain))
    k = np.arange(taps) - taps // 2
    g1 = np.exp(-(k**2) / (2.0 * alpha**2))
    response = np.outer(g1, g1)
    h = np.real(np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(response))))
    h *= _kaiser_2d(taps, KAISER_BETA)
    # Unit DC gain, so that filtering keeps every band's mean radiometry.
    h /= h.sum()
    h.setflags(write=False)
    return h


def mtf_kernel(gain: float, ratio: int, taps: int = MTF_TAPS) -> np.ndarray:
    """Gaussian low-pass kernel whose gain at the Nyquist frequency of the coarse grid is `gain`.

    Args:
        gain: Wanted amplitude response at 1 / (2 ratio) cycles per pixel, in (0, 1).
        ratio: Resolution ratio between the fine and the coarse grid.
        taps: Kernel size (odd).

    Returns:
        A (taps, taps) float64 kernel summing to 1 (read-only, cached).
    """
    ratio = _check_ratio(ratio)
    if not 0.0 < gain < 1.0:
        raise InputError(f"An MTF gain at Nyquist must lie in (0, 1), got {gain}.")
    if taps < 3 or taps % 2 == 0:
        raise InputError(f"The MTF kernel needs an odd number of taps >= 3, got {taps}.")
    return _mtf_kernel_cached(float(gain), ratio, int(taps))


def _filter_band(band: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    half = kernel.shape[0] // 2
    # Edge replication (as `imfilter(..., 'replicate')`) keeps the borders from darkening.
    padded = np.pad(band.astype(np.float64, copy=False), half, mode="edge")
    return fftconvolve(padded, kernel, mode="valid")


def mtf_filter(
    img: np.ndarray, gains: float | Sequence[float] | np.ndarray, ratio: int
) -> np.ndarray:
    """Low-pass every band with the MTF kernel of its gain (no decimation).

    Args:
        img: Image (C, H, W) or a single band (H, W).
        gains: One gain for every band, or one per band (C,).
        ratio: Resolution ratio the filters are designed for.

    Returns:
        The filtered image, same shape, float32 for float32 input, float64 otherwise.
    """
    single = img.ndim == 2
    cube = img[None] if single else img
    if cube.ndim != 3:
        raise InputError(f"Expected an image (C, H, W) or (H, W), got shape {img.shape}.")
    g = np.broadcast_to(np.asarray(gains, dtype=np.float64), (cube.shape[0],))
    out_dtype = np.float32 if img.dtype == np.float32 else np.float64
    out = np.empty(cube.shape, dtype=out_dtype)
    for b in range(cube.shape[0]):
        out[b] = _filter_band(cube[b], mtf_kernel(float(g[b]), ratio))
    return out[0] if single else out


def decimate(img: np.ndarray, ratio: int) -> np.ndarray:
    """Keep one pixel in `ratio` along each axis: coarse pixel i <- fine pixel ratio*i + ratio//2.

    Args:
        img: (..., H, W) array.
        ratio: Decimation factor.

    Returns:
        (..., H // ratio, W // ratio) view of `img`.
    """
    ratio = _check_ratio(ratio)
    h, w = img.shape[-2:]
    o = ratio // 2
    return img[..., o : o + ratio * (h // ratio) : ratio, o : o + ratio * (w // ratio) : ratio]


def wald_degrade(
    pan: np.ndarray, ms: np.ndarray, ratio: int, sensor: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Wald's protocol: MTF-filter and decimate PAN and MS by `ratio`.

    Args:
        pan: PAN band (H, W) with H = ratio * h and W = ratio * w.
        ms: MS image (C, h, w).
        ratio: Resolution ratio between PAN and MS.
        sensor: Sensor name for the MTF gains (None: 'unknown').

    Returns:
        `(pan_lr, ms_lr)` of shapes (H/ratio, W/ratio) and (C, h/ratio, w/ratio), float32.
    """
    ratio = _check_ratio(ratio)
    if pan.ndim != 2 or ms.ndim != 3:
        raise InputError(
            f"Expected PAN (H, W) and MS (C, h, w), got shapes {pan.shape} and {ms.shape}."
        )
    if pan.shape != (ms.shape[1] * ratio, ms.shape[2] * ratio):
        raise InputError(
            f"PAN {pan.shape} is not {ratio} times MS {ms.shape[1:]}: crop both to the same ground."
        )
    if min(ms.shape[1:]) < ratio:
        raise InputError(f"MS {ms.shape[1:]} is too small to degrade by {ratio}.")
    gains = sensor_gains(sensor, ms.shape[0])
    pan_lr = decimate(mtf_filter(pan.astype(np.float32), gains.pan, ratio), ratio)
    ms_lr = decimate(mtf_filter(ms.astype(np.float32), gains.ms, ratio), ratio)
    return np.ascontiguousarray(pan_lr), np.ascontiguousarray(ms_lr)


def lagrange_weights(t: float, n_nodes: int = LAGRANGE_NODES) -> np.ndarray:
    """Weights of the polynomial through `n_nodes` samples, evaluated at offset `t` in [0, 1).

    The nodes sit at offsets -(n/2 - 1) .. n/2 around the sample at offset 0. At t = 0.5 with 12
    nodes these are the coefficients of the classic 23-tap half-band interpolation filter.

    Returns:
        (n_nodes,) float64 weights summing to 1.
    """
    nodes = np.arange(n_nodes) - (n_nodes // 2 - 1)
    w = np.ones(n_nodes)
    for k in range(n_nodes):
        for j in range(n_nodes):
            if j != k:
                w[k] *= (t - nodes[j]) / (nodes[k] - nodes[j])
    return w


def _double_axis(x: np.ndarray, axis: int, first: bool) -> np.ndarray:
    """Double the sampling along `axis` with the 23-tap filter (originals kept exactly).

    `first=True` puts the originals on odd output positions (the midpoints before each sample are
    new), otherwise on even positions; successive doublings chain to the grid convention.
    """
    n = x.shape[axis]
    w = lagrange_weights(0.5)
    half = LAGRANGE_NODES // 2
    pad = [(0, 0)] * x.ndim
    pad[axis] = (half, half)
    xp = np.pad(x, pad, mode="reflect")
    # mids[j + 1] is the value halfway between x[j] and x[j + 1], for j = -1 .. n - 1.
    mids = np.zeros_like(np.take(xp, np.arange(n + 1), axis=axis))
    for k in range(LAGRANGE_NODES):
        mids += w[k] * np.take(xp, np.arange(k, k + n + 1), axis=axis)
    shape = list(x.shape)
    shape[axis] = 2 * n
    out = np.empty(shape, dtype=x.dtype)
    even = [slice(None)] * x.ndim
    odd = [slice(None)] * x.ndim
    even[axis] = slice(0, None, 2)
    odd[axis] = slice(1, None, 2)
    mid_sel = [slice(None)] * x.ndim
    if first:
        out[tuple(odd)] = x
        mid_sel[axis] = slice(0, n)
        out[tuple(even)] = mids[tuple(mid_sel)]
    else:
        out[tuple(even)] = x
        mid_sel[axis] = slice(1, n + 1)
        out[tuple(odd)] = mids[tuple(mid_sel)]
    return out


def _polyphase_axis(x: np.ndarray, axis: int, ratio: int) -> np.ndarray:
    """Upsample by any integer ratio: degree-11 Lagrange interpolation on the grid convention."""
    n = x.shape[axis]
    before, after = LAGRANGE_NODES // 2, LAGRANGE_NODES // 2 + 1
    pad = [(0, 0)] * x.ndim
    pad[axis] = (before, after)
    xp = np.pad(x, pad, mode="reflect")
    shape = list(x.shape)
    shape[axis] = ratio * n
    out = np.empty(shape, dtype=x.dtype)
    idx = np.arange(n)
    c = ratio // 2
    for q in range(ratio):
        # Fine pixel ratio*i + q sits at coarse coordinate i + (q - c) / ratio.
        base = idx if q >= c else idx - 1
        t = ((q - c) % ratio) / ratio
        sel = [slice(None)] * x.ndim
        sel[axis] = slice(q, None, ratio)
        if t == 0.0:
            out[tuple(sel)] = x
            continue
        w = lagrange_weights(t)
        acc = np.zeros_like(x)
        for k in range(LAGRANGE_NODES):
            # node offset k - (LAGRANGE_NODES // 2 - 1) from `base`, shifted by the padding
            src = base + k - (LAGRANGE_NODES // 2 - 1) + before
            acc += w[k] * np.take(xp, src, axis=axis)
        out[tuple(sel)] = acc
    return out


def interp23(ms: np.ndarray, ratio: int) -> np.ndarray:
    """Upsample MS by `ratio` with 23-tap polynomial interpolation (the toolboxes' EXP).

    Power-of-two ratios use successive doublings with the 23-tap half-band filter; other ratios
    use the same degree-11 polynomial evaluated at each fractional position. Borders are mirrored.
    Original samples are kept exactly: `decimate(interp23(x, r), r) == x`.

    Args:
        ms: (C, h, w) or (h, w) image.
        ratio: Upsampling factor.

    Returns:
        (C, h*ratio, w*ratio) (or (h*ratio, w*ratio)) array, float32 for float32 input,
        float64 otherwise.
    """
    ratio = _check_ratio(ratio)
    x = ms.astype(np.float32 if ms.dtype == np.float32 else np.float64)
    if min(x.shape[-2:]) < 2:
        raise InputError(f"Cannot interpolate an image of {x.shape[-2:]} pixels.")
    if ratio == 1:
        return x.copy()
    axes = (x.ndim - 2, x.ndim - 1)
    if ratio & (ratio - 1) == 0:
        steps = int(math.log2(ratio))
        for s in range(steps):
            for axis in axes:
                x = _double_axis(x, axis, first=(s == 0))
        return x
    for axis in axes:
        x = _polyphase_axis(x, axis, ratio)
    return x

"""Normalisation that works across sensors and bit depths: divide each band by a robust scale.

Every band (the PAN and each MS band) is divided by the 99.5th percentile of its valid pixels,
computed once per scene, so an 8-bit, 11-bit or 16-bit scene, or reflectances in [0, 1], all land
in roughly [0, 1] before the network; the network's output is multiplied back by the MS scales.
One scale per scene (not per tile) keeps neighbouring tiles consistent, and a percentile instead
of the maximum ignores saturated pixels and hot spots. Training uses the same functions, and model
cards record `NormStats.method` so a model is always fed as it was trained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .errors import ModelFileError

METHOD = "percentile"
DEFAULT_PERCENTILE = 99.5


@dataclass(frozen=True)
class NormStats:
    """Per-band scales of a scene: `normalised = value / scale`.

    Attributes:
        pan_scale: scale of the PAN band.
        ms_scales: one scale per MS band.
        method: "percentile" (the only method so far).
        percentile: which percentile of the valid pixels gave the scales.
    """

    pan_scale: float
    ms_scales: tuple[float, ...]
    method: str = METHOD
    percentile: float = DEFAULT_PERCENTILE

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly dict (for model cards and logs)."""
        d = asdict(self)
        d["ms_scales"] = list(self.ms_scales)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> NormStats:
        """Inverse of `to_dict`."""
        return cls(
            pan_scale=float(d["pan_scale"]),  # type: ignore[arg-type]
            ms_scales=tuple(float(v) for v in d["ms_scales"]),  # type: ignore[attr-defined]
            method=str(d.get("method", METHOD)),
            percentile=float(d.get("percentile", DEFAULT_PERCENTILE)),  # type: ignore[arg-type]
        )


def method_card(percentile: float = DEFAULT_PERCENTILE) -> dict[str, object]:
    """What a model card records under `normalisation`."""
    return {"method": METHOD, "percentile": percentile, "per_band": True, "per_scene": True}


def percentile_for(card_normalisation: dict[str, object] | None) -> float:
    """The percentile a model was trained with, from its card's `normalisation` entry.

    Cards without the entry get the default; an unknown method raises `ModelFileError`, since
    feeding a model differently scaled inputs silently degrades it.
    """
    if not card_normalisation:
        return DEFAULT_PERCENTILE
    method = card_normalisation.get("method", METHOD)
    if method != METHOD:
        raise ModelFileError(
            f"The model expects '{method}' normalisation, which this version does not know: "
            "update the plugin or use a model card with 'percentile' normalisation."
        )
    return float(card_normalisation.get("percentile", DEFAULT_PERCENTILE))  # type: ignore[arg-type]


def robust_scale(values: np.ndarray, percentile: float = DEFAULT_PERCENTILE) -> float:
    """The scale of one band from a sample of its valid pixel values (any shape, any dtype).

    Falls back to the largest magnitude when the percentile is 0 (a mostly-zero band), and to 1
    for an all-zero or empty sample, so the scale is always finite and positive.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 1.0
    s = float(np.percentile(np.abs(v), percentile))
    if not s > 0:
        s = float(np.abs(v).max())
    return s if s > 0 else 1.0


def scene_stats(
    pan_values: np.ndarray,
    ms_values: Sequence[np.ndarray],
    percentile: float = DEFAULT_PERCENTILE,
) -> NormStats:
    """Scales from samples of valid values: the PAN's and one array per MS band."""
    return NormStats(
        pan_scale=robust_scale(pan_values, percentile),
        ms_scales=tuple(robust_scale(v, percentile) for v in ms_values),
        percentile=percentile,
    )


def stats_from_arrays(
    pan: np.ndarray,
    ms: np.ndarray,
    pan_valid: np.ndarray | None = None,
    ms_valid: np.ndarray | None = None,
    percentile: float = DEFAULT_PERCENTILE,
) -> NormStats:
    """Scales of an in-memory scene.

    Args:
        pan: `(H, W)` PAN.
        ms: `(C, h, w)` MS.
        pan_valid, ms_valid: `(H, W)` and `(h, w)` validity masks (None: all valid).
    """
    p = pan if pan_valid is None else pan[pan_valid]
    bands = [b if ms_valid is None else b[ms_valid] for b in ms]
    return scene_stats(p, bands, percentile)


def normalize_pan(pan: np.ndarray, stats: NormStats) -> np.ndarray:
    """`(..., H, W)` PAN divided by its scale, as float32."""
    return (np.asarray(pan, dtype=np.float32) / np.float32(stats.pan_scale)).astype(np.float32)


def normalize_ms(ms: np.ndarray, stats: NormStats) -> np.ndarray:
    """`(..., C, h, w)` MS divided band-wise by its scales, as float32."""
    s = np.asarray(stats.ms_scales, dtype=np.float32)[:, None, None]
    return (np.asarray(ms, dtype=np.float32) / s).astype(np.float32)


def denormalize_ms(ms: np.ndarray, stats: NormStats) -> np.ndarray:
    """Inverse of `normalize_ms`: `(..., C, H, W)` times the MS scales, as float32."""
    s = np.asarray(stats.ms_scales, dtype=np.float32)[:, None, None]
    return np.multiply(np.asarray(ms, dtype=np.float32), s, dtype=np.float32)

"""Which input band feeds which band of a network: matching band names to a model's band list.

A model card lists its bands in the order the network takes them (mmmamba-4band: blue, green,
red, nir). Rasters often deliver another order (an RGB or RGBN GeoTIFF: red first). Feeding red
where the network expects blue costs quality, so when the input's bands are named (GDAL colour
interpretation or band description), each goes to the network band of the same name, and the
outputs are put back in the input's order.

Rules, for an input with at most as many bands as the model: named bands go to the model band of
the same name; unnamed bands (or names the model lacks) fill the remaining model bands in input
order; model bands still empty (fewer input bands) repeat the input band nearest in wavelength
(else the last input band). With no named band, or more input bands than the model has, the order
is left alone (`backend.sr.band_groups`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

NAMES = ("coastal", "blue", "green", "yellow", "red", "rededge", "nir", "nir2", "swir")
"""Band names understood, as used in model cards."""
_WAVELENGTH = {
    "coastal": 440,
    "blue": 490,
    "green": 560,
    "yellow": 605,
    "red": 665,
    "rededge": 715,
    "nir": 835,
    "nir1": 835,
    "nir2": 950,
    "swir": 1600,
}
"""Centre wavelengths (nm), only used to pick the band that stands in for a missing one."""
_PATTERNS = (
    ("rededge", r"red[\s_-]*edge|\bre\d?\b"),
    ("nir2", r"\bnir[\s_-]*2\b"),
    ("nir", r"\bnir[\s_-]*1?\b|near[\s_-]*infra[\s_-]*red|\bnear[\s_-]*ir\b"),
    ("swir", r"\bswir"),
    ("coastal", r"coastal|\baerosol"),
    ("yellow", r"\byellow\b"),
    ("blue", r"\bblue\b"),
    ("green", r"\bgreen\b"),
    ("red", r"\bred\b"),
)


def canonical_name(text: str | None) -> str | None:
    """The band name a description or colour interpretation stands for, or None.

    Examples: "Red" -> "red", "NIR" -> "nir", "Near Infrared" -> "nir", "Undefined" -> None.
    """
    if not text:
        return None
    t = text.strip().lower()
    if t == "nir1":
        return "nir"
    for name, pattern in _PATTERNS:
        if re.search(pattern, t):
            return name
    return None


def band_name(description: str | None, color_interp: str | None) -> str | None:
    """Name of a raster band from its description (first) or GDAL colour interpretation."""
    return canonical_name(description) or canonical_name(color_interp)


def model_band_names(bands: Sequence[str] | None) -> list[str | None] | None:
    """A model card's band list in canonical names (None entries for unknown ones)."""
    if not bands:
        return None
    return [canonical_name(b) for b in bands]


def match_bands(
    names: Sequence[str | None], model: Sequence[str | None]
) -> tuple[list[int], list[int]] | None:
    """Map named input bands onto a model's bands.

    Args:
        names: canonical name of each input band (None: unknown).
        model: canonical name of each model band (None: unknown).

    Returns:
        `(idx, keep)` as one group of `backend.sr.band_groups`: `idx[k]` is the input band fed
        to model band k, `keep[j]` the model band whose output is input band j. None when no
        input band is named, or the input has more bands than the model.
    """
    n, g = len(names), len(model)
    if n > g or not any(nm is not None and nm in model for nm in names):
        return None
    idx: list[int | None] = [None] * g
    keep: list[int | None] = [None] * n
    for j, nm in enumerate(names):
        if nm is not None and nm in model:
            k = model.index(nm)
            if idx[k] is None:
                idx[k], keep[j] = j, k
    free = [k for k in range(g) if idx[k] is None]
    for j in range(n):
        if keep[j] is None:
            k = free.pop(0)
            idx[k], keep[j] = j, k
    for k in free:
        idx[k] = _nearest(model[k], names)
    return [int(i) for i in idx if i is not None], [int(k) for k in keep if k is not None]


def _nearest(slot: str | None, names: Sequence[str | None]) -> int:
    """The input band nearest in wavelength to a model band, else the last input band."""
    want = _WAVELENGTH.get(slot or "")
    known = [(abs(_WAVELENGTH[nm] - want), j) for j, nm in enumerate(names) if nm in _WAVELENGTH]
    if want is None or not known:
        return len(names) - 1
    return min(known)[1]

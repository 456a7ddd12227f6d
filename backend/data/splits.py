"""Region-held-out splits: each scene is cut into disjoint horizontal strips.

Rows of the MS image (and the matching `ratio` times more PAN rows) go to

* `train`: the network learns from them;
* `val`: checkpoint and variant selection only;
* `test`: reported quality only, never used for training or selection.

Strips are cut *before* any degradation, so the MTF filter of Wald's protocol never mixes pixels
of two splits. Boundaries fall on multiples of `align` MS rows so that the reduced-resolution
MS of every strip has an integer size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..errors import InputError
from .scenes import Scene

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.6, 0.2, 0.2)


@dataclass(frozen=True)
class Strip:
    """MS rows `[row0, row1)` (full width) of one scene assigned to one split."""

    scene: str
    split: str
    row0: int
    row1: int

    @property
    def rows(self) -> int:
        """Number of MS rows."""
        return self.row1 - self.row0


def split_rows(
    n_rows: int,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    align: int = 8,
    min_rows: int = 32,
) -> dict[str, tuple[int, int]]:
    """Cut `n_rows` MS rows into train / val / test strips (top to bottom).

    Args:
        n_rows: MS rows of the scene.
        fractions: Shares of train, val and test; zero drops that split.
        align: Strip boundaries are multiples of this many rows (from the top).
        min_rows: Smallest strip kept for a split with a non-zero share.

    Returns:
        `{split: (row0, row1)}` for every split with rows; disjoint, covering `[0, n_rows)` up
        to a remainder of fewer than `align` rows that goes to the last strip.

    Raises:
        InputError: if the scene is too small for the requested strips.
    """
    if len(fractions) != 3 or min(fractions) < 0 or sum(fractions) <= 0:
        raise InputError(f"Split fractions must be three non-negative shares, got {fractions}.")
    total = sum(fractions)
    shares = [f / total for f in fractions]
    bounds = [0]
    acc = 0.0
    for share in shares[:-1]:
        acc += share
        bounds.append(int(round(acc * n_rows / align)) * align)
    bounds.append(n_rows)
    out: dict[str, tuple[int, int]] = {}
    for name, share, r0, r1 in zip(SPLITS, shares, bounds[:-1], bounds[1:], strict=True):
        if share == 0:
            continue
        if r1 - r0 < min_rows:
            raise InputError(
                f"A {name} strip of {r1 - r0} MS rows is too small (at least {min_rows}): "
                f"the scene has {n_rows} rows; use it for training only or change the fractions."
            )
        out[name] = (r0, r1)
    return out


def split_scene(
    scene: Scene,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    align: int = 8,
    min_rows: int = 32,
) -> list[Strip]:
    """Strips of one scene; a scene too small for three strips is used for training only.

    Returns:
        The scene's strips, top to bottom.
    """
    n_rows = int(scene.ms.shape[1])
    try:
        rows = split_rows(n_rows, fractions, align, min_rows)
    except InputError:
        log.info("scene %s has only %d MS rows: used whole for training", scene.name, n_rows)
        return [Strip(scene.name, "train", 0, n_rows)]
    return [Strip(scene.name, name, r0, r1) for name, (r0, r1) in rows.items()]


def crop_strip(scene: Scene, strip: Strip) -> Scene:
    """The part of `scene` inside `strip` (MS rows and the matching PAN rows), as a new Scene."""
    if strip.scene != scene.name:
        raise InputError(f"Strip of scene {strip.scene} applied to scene {scene.name}.")
    r = scene.ratio
    return Scene(
        name=f"{scene.name}[{strip.split}]",
        sensor=scene.sensor,
        pan=scene.pan[strip.row0 * r : strip.row1 * r].copy(),
        ms=scene.ms[:, strip.row0 : strip.row1].copy(),
        ratio=r,
        band_names=scene.band_names,
        bit_depth=scene.bit_depth,
        source=f"{scene.source} MS rows {strip.row0}:{strip.row1}",
    )


def describe_strips(strips: list[Strip]) -> list[dict[str, object]]:
    """JSON-friendly description of strips for model cards."""
    return [
        {"scene": s.scene, "split": s.split, "ms_rows": [s.row0, s.row1], "full_width": True}
        for s in strips
    ]

"""Measure tile seams: gradient energy across tile borders compared with inside tiles.

A seam is a jump between neighbouring tiles' predictions. It shows as extra gradient energy on
the pixels where tiles meet. Image content varies, so energies of the tiled result are compared
with those of a whole-scene (single tile) result on the same pixels:

* per line of pixels (a step between two columns, or two rows), `energy(tiled) / energy(whole)`;
  seams have vanished when no tile-edge line has a higher ratio than the lines inside tiles
  (`worst_line <= inside_line`): tiling changes every pixel's context a little, a seam changes
  the border lines much more;
* on average, `seam_index = (border / inside of tiled) / (border / inside of whole)`, 1 when
  tiling adds nothing at the borders (a hard seam of a random-initialised network gives ~20).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .io.tiling import TileGrid


@dataclass(frozen=True)
class SeamReport:
    """Gradient energies (mean squared differences between neighbouring pixels).

    Attributes:
        tiled_border, tiled_inside: energy of the tiled result on / away from tile borders.
        whole_border, whole_inside: the same pixels in the whole-scene result.
        worst_line: largest ratio, over the tile-edge lines, of the tiled result's energy across
            that line to the whole-scene result's energy across the same line (a hard seam on
            one line shows here even when averages dilute it).
        inside_line: the same ratio's largest value over lines away from any border: how much
            a line's energy varies between the two results anyway (the noise floor).
        max_abs_diff: largest |tiled - whole| (in the data's units).
    """

    tiled_border: float
    tiled_inside: float
    whole_border: float
    whole_inside: float
    worst_line: float
    inside_line: float
    max_abs_diff: float

    @property
    def tiled_ratio(self) -> float:
        """Border / inside energy of the tiled result."""
        return self.tiled_border / max(self.tiled_inside, 1e-30)

    @property
    def whole_ratio(self) -> float:
        """Border / inside energy of the whole-scene result (the content's own ratio)."""
        return self.whole_border / max(self.whole_inside, 1e-30)

    @property
    def seam_index(self) -> float:
        """`tiled_ratio / whole_ratio`: 1 means no seam; a hard seam gives well above 1."""
        return self.tiled_ratio / max(self.whole_ratio, 1e-30)


def border_steps(starts: list[int], tile: int, length: int, half_width: int = 1) -> np.ndarray:
    """Which of the `length - 1` steps between neighbouring pixels lie on a tile border.

    A border is every step inside an overlap (where blending moves from one tile to the next)
    and every step within `half_width` pixels of a tile edge (where a hard seam would be).
    """
    mask = np.zeros(max(length - 1, 0), bool)
    ends = [s + tile for s in starts]
    for k in range(len(starts) - 1):
        lo, hi = starts[k + 1], min(ends[k], length)
        mask[lo : max(hi - 1, lo)] = True  # steps p -> p + 1 with both pixels in the overlap
    for edge in (*starts, *ends):
        if 0 < edge < length:
            mask[max(edge - 1 - half_width, 0) : edge + half_width] = True
    return mask


def _gradients(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared differences along x `(C, H, W-1)` and y `(C, H-1, W)`, NaN-safe (NaN -> 0)."""
    x = np.nan_to_num(img.astype(np.float64))
    return np.diff(x, axis=2) ** 2, np.diff(x, axis=1) ** 2


def seam_report(
    tiled: np.ndarray, whole: np.ndarray, grid: TileGrid, half_width: int = 1
) -> SeamReport:
    """Compare a tiled and a whole-scene result `(C, H, W)` on the tile borders of `grid`.

    Args:
        tiled, whole: results of the same scene and model.
        grid: the tiling of the tiled run.
        half_width: steps within this many pixels of a tile edge count as border.
    """
    gx_t, gy_t = _gradients(tiled)
    gx_w, gy_w = _gradients(whole)
    h, w = tiled.shape[1:]
    xb = border_steps(grid.col_starts, grid.tile_width, w, half_width)
    yb = border_steps(grid.row_starts, grid.tile_height, h, half_width)

    def split(gx: np.ndarray, gy: np.ndarray) -> tuple[float, float]:
        border = np.concatenate([gx[:, :, xb].ravel(), gy[:, yb, :].ravel()])
        inside = np.concatenate([gx[:, :, ~xb].ravel(), gy[:, ~yb, :].ravel()])
        return float(border.mean()) if border.size else 0.0, float(inside.mean())

    tb, ti = split(gx_t, gy_t)
    wb, wi = split(gx_w, gy_w)
    # per line (a step between two pixel columns or rows): energy tiled / energy whole
    worst = inside = 0.0
    for axis, starts, tile, border in (
        (2, grid.col_starts, grid.tile_width, xb),
        (1, grid.row_starts, grid.tile_height, yb),
    ):
        gt, gw = (gx_t, gx_w) if axis == 2 else (gy_t, gy_w)
        other = (0, 1) if axis == 2 else (0, 2)
        ratio = gt.mean(axis=other) / np.maximum(gw.mean(axis=other), 1e-30)
        length = border.size + 1
        edges = [e - 1 for e in {e for s in starts for e in (s, s + tile)} if 0 < e < length]
        if edges:
            worst = max(worst, float(ratio[edges].max()))
        if (~border).any():
            inside = max(inside, float(ratio[~border].max()))
    diff = np.nan_to_num(np.abs(tiled.astype(np.float64) - whole.astype(np.float64)))
    return SeamReport(tb, ti, wb, wi, worst, inside, float(diff.max()))

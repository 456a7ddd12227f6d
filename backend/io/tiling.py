"""Overlapping tiles, smooth blending weights, and a streaming accumulator of finished pixels.

Why tiles overlap: the network's scan and its channel attention see a whole tile, so a pixel's
output depends on the tile it sits in. Neighbouring tiles therefore disagree slightly, most near
their borders (less context there). Tiles overlap, and in each overlap the two predictions are
blended with weights that fall smoothly (raised cosine) from 1 inside a tile to ~0 at its border,
so the disagreement turns into a gradual transition instead of a step.

How the last partial tile is covered: tiles keep one size; the number of tiles along an axis is
the smallest that covers the axis with at least the requested overlap, and their starts are spread
evenly from 0 to `length - tile`, so the last tile ends exactly on the edge (its overlap with the
previous tile is simply larger). Axes shorter than a tile get one tile of the axis length.

Tile size per axis: the requested size is an upper bound. An axis gets the smallest size (a
multiple of 16 and of the alignment) with which the same number of tiles still covers it with the
requested overlap, so little work goes into overlap beyond what the tile count forces: 8192 px in
tiles of 1024 with 64 px overlap are 9 tiles of 976 (91 % of the pixels of 9 tiles of 1024).
Sizes divisible by 16 keep the GPU kernels' aligned, vectorised memory accesses (measured on an
H200: tiles of 968 ran 15-20 % slower per pixel than tiles of 976).

Memory: `BlendAccumulator` keeps a float buffer only for cells (pieces between tile edges) that
some tile still has to contribute to, and emits each cell as soon as it is final, so memory is
bounded by about one tile plus one row of overlap strips, never by the scene.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .window import Window


def tile_starts(length: int, tile: int, overlap: int, align: int = 1) -> list[int]:
    """Start offsets of tiles of size `tile` covering `[0, length)` with at least `overlap`.

    Args:
        length: axis length in pixels (already padded to a multiple of `align`).
        tile: tile size, a multiple of `align`.
        overlap: minimum overlap between neighbours, a multiple of `align`, `< tile`.
        align: every start is a multiple of this (the PAN/MS ratio keeps MS pixels whole).
    """
    if length <= tile:
        return [0]
    step = tile - overlap
    n = math.ceil((length - overlap) / step)
    last = length - tile
    # Floor-rounding each evenly spread start to `align` keeps every gap <= step (as `step` and
    # `last` are multiples of `align`), hence every overlap >= `overlap`.
    starts = [(k * last // (n - 1)) // align * align for k in range(n)]
    starts[-1] = last
    return starts


SIZE_MULTIPLE = 16


def balanced_tile(length: int, tile: int, overlap: int, align: int = 1) -> int:
    """Smallest tile size (a multiple of `SIZE_MULTIPLE` and `align`), at most `tile`, that
    covers `length` with as many tiles as `tile` needs, at least `overlap` apart; `length` if it
    fits in one tile."""
    if length <= tile:
        return length
    n = math.ceil((length - overlap) / (tile - overlap))
    need = -(-(length + (n - 1) * overlap) // n)  # n * t - (n - 1) * overlap >= length
    m = math.lcm(SIZE_MULTIPLE, align)
    return min(tile, -(-need // m) * m)


@dataclass(frozen=True)
class TileGrid:
    """Tiles over a `width x height` area (in PAN pixels), aligned to `align` pixels."""

    width: int
    height: int
    tile: int
    overlap: int
    align: int = 1

    def __post_init__(self) -> None:
        if self.tile % self.align or self.overlap % self.align:
            raise ValueError("tile and overlap must be multiples of align")
        if not 0 <= self.overlap < self.tile:
            raise ValueError("overlap must be in [0, tile)")

    @property
    def padded_width(self) -> int:
        """Width rounded up to a multiple of `align` (tiles may read that far, padded)."""
        return -(-self.width // self.align) * self.align

    @property
    def padded_height(self) -> int:
        """Height rounded up to a multiple of `align`."""
        return -(-self.height // self.align) * self.align

    @property
    def col_starts(self) -> list[int]:
        """Column offsets of the tile columns."""
        return tile_starts(self.padded_width, self.tile_width, self.overlap, self.align)

    @property
    def row_starts(self) -> list[int]:
        """Row offsets of the tile rows."""
        return tile_starts(self.padded_height, self.tile_height, self.overlap, self.align)

    @property
    def tile_width(self) -> int:
        """Width of every tile: `balanced_tile` of the padded width (at most `tile`)."""
        return balanced_tile(self.padded_width, self.tile, self.overlap, self.align)

    @property
    def tile_height(self) -> int:
        """Height of every tile."""
        return balanced_tile(self.padded_height, self.tile, self.overlap, self.align)

    def __len__(self) -> int:
        return len(self.col_starts) * len(self.row_starts)

    def windows(self) -> Iterator[Window]:
        """Tiles in row-major order; they may reach `align - 1` pixels past the area (padding)."""
        for r in self.row_starts:
            for c in self.col_starts:
                yield Window(c, r, self.tile_width, self.tile_height)

    def weights(self, window: Window) -> np.ndarray:
        """Blending weights `(h, w)` of a tile: 1 inside, raised-cosine ramps across overlaps."""
        wx = _axis_weights(window.col_off, window.width, self.col_starts, self.tile_width)
        wy = _axis_weights(window.row_off, window.height, self.row_starts, self.tile_height)
        return np.outer(wy, wx).astype(np.float32)


def _axis_weights(start: int, size: int, starts: list[int], tile: int) -> np.ndarray:
    """1-D weights: ramps over the actual overlap with the previous and the next tile.

    A neighbour pair uses the same ramp length over their common overlap, so `sin^2 + cos^2 = 1`
    makes the two weights sum to one there; weights never reach 0 (the `+ 0.5`), so every pixel
    of the area keeps a positive total weight.
    """
    w = np.ones(size, dtype=np.float64)
    k = starts.index(start)
    if k > 0:
        n = starts[k - 1] + tile - start  # overlap with the previous tile
        if n > 0:
            t = (np.arange(n) + 0.5) / n
            w[:n] *= np.sin(0.5 * np.pi * t) ** 2
    if k + 1 < len(starts):
        n = start + tile - starts[k + 1]  # overlap with the next tile
        if n > 0:
            t = (np.arange(n) + 0.5) / n
            w[size - n :] *= np.cos(0.5 * np.pi * t) ** 2
    return w


class BlendAccumulator:
    """Accumulates weighted tile predictions and yields each piece of the area once it is final.

    The area is cut at every tile edge into *cells*; a cell is final when every tile covering it
    has been added. Only cells still waiting for a tile hold memory.
    """

    def __init__(self, grid: TileGrid, bands: int) -> None:
        self.grid = grid
        self.bands = bands
        self._xcuts = _cuts(grid.col_starts, grid.tile_width, grid.width)
        self._ycuts = _cuts(grid.row_starts, grid.tile_height, grid.height)
        # How many tiles still have to touch each cell.
        self._pending = np.zeros((len(self._ycuts) - 1, len(self._xcuts) - 1), dtype=np.int32)
        for win in grid.windows():
            ys, xs = self._cell_range(win)
            self._pending[ys, xs] += 1
        self._acc: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def _cell_range(self, win: Window) -> tuple[slice, slice]:
        ys = slice(
            int(np.searchsorted(self._ycuts, win.row_off, "left")),
            int(np.searchsorted(self._ycuts, min(win.row_end, self.grid.height), "left")),
        )
        xs = slice(
            int(np.searchsorted(self._xcuts, win.col_off, "left")),
            int(np.searchsorted(self._xcuts, min(win.col_end, self.grid.width), "left")),
        )
        return ys, xs

    def _cell(self, i: int, j: int) -> Window:
        return Window(
            int(self._xcuts[j]),
            int(self._ycuts[i]),
            int(self._xcuts[j + 1] - self._xcuts[j]),
            int(self._ycuts[i + 1] - self._ycuts[i]),
        )

    def add(
        self, win: Window, pred: np.ndarray, weight: np.ndarray
    ) -> Iterator[tuple[Window, np.ndarray, np.ndarray]]:
        """Add one tile's prediction and yield the cells it completes.

        Args:
            win: the tile (from `grid.windows()`).
            pred: `(C, h, w)` prediction of the tile, NaN where invalid.
            weight: `(h, w)` blending weights (`grid.weights(win)`), 0 where `pred` is invalid.

        Yields:
            `(cell window, values (C, h', w') float32, weight sum (h', w'))`; values are the
            weighted mean, NaN where no tile had a valid prediction.
        """
        ys, xs = self._cell_range(win)
        for i in range(ys.start, ys.stop):
            for j in range(xs.start, xs.stop):
                cell = self._cell(i, j)
                r, c = cell.relative_to(win).slices()
                w = weight[r, c]
                if self._pending[i, j] == 1 and (i, j) not in self._acc:
                    # the only tile over this cell: its weighted mean is its prediction (most of
                    # a tile's pixels; no products, sums or division)
                    self._pending[i, j] = 0
                    mean = np.where(w > 0, pred[:, r, c], np.float32(np.nan))
                    yield cell, np.asarray(mean, np.float32), w.astype(np.float32, copy=False)
                    continue
                p = np.where(w > 0, pred[:, r, c], 0.0) * w
                if (i, j) in self._acc:
                    acc, wsum = self._acc[(i, j)]
                    acc += p
                    wsum += w
                else:
                    acc, wsum = p.astype(np.float32), w.astype(np.float32)
                self._pending[i, j] -= 1
                if self._pending[i, j] == 0:
                    self._acc.pop((i, j), None)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        mean = np.where(wsum > 0, acc / np.maximum(wsum, 1e-30), np.nan)
                    yield cell, mean.astype(np.float32), wsum
                else:
                    self._acc[(i, j)] = (acc, wsum)

    @property
    def pending_cells(self) -> int:
        """Number of cells still held in memory."""
        return len(self._acc)


def _cuts(starts: list[int], tile: int, length: int) -> np.ndarray:
    edges = {0, length}
    for s in starts:
        edges.update((min(s, length), min(s + tile, length)))
    return np.array(sorted(edges), dtype=np.int64)

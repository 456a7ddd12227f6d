"""Tile layout, blending weights and the streaming accumulator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backend.io.tiling import (
    SIZE_MULTIPLE,
    BlendAccumulator,
    TileGrid,
    balanced_tile,
    tile_starts,
)
from backend.io.window import Window


@pytest.mark.parametrize(
    ("length", "tile", "overlap", "align"),
    [
        (1000, 256, 32, 4),
        (256, 256, 32, 4),
        (100, 256, 32, 4),
        (1284, 512, 64, 4),
        (999, 96, 48, 3),
    ],
)
def test_tiles_cover_with_overlap(length: int, tile: int, overlap: int, align: int) -> None:
    padded = -(-length // align) * align
    starts = tile_starts(padded, tile, overlap, align)
    size = min(tile, padded)
    assert starts[0] == 0 and starts[-1] + size == padded  # the last tile ends on the edge
    assert all(s % align == 0 for s in starts)
    gaps = np.diff(starts)
    assert (gaps > 0).all()
    assert (size - gaps >= overlap).all()  # every overlap at least the requested one


def test_grid_tiles_have_one_size() -> None:
    grid = TileGrid(width=1030, height=700, tile=256, overlap=32, align=4)
    wins = list(grid.windows())
    # 5 columns of 240 (not 256) still cover 1032 px with 32 px overlap; 3 rows need 256
    assert {(w.width, w.height) for w in wins} == {(240, 256)}
    assert len(wins) == len(grid) == 15
    assert max(w.col_end for w in wins) == grid.padded_width == 1032
    assert min(240 - np.diff(grid.col_starts)) >= 32


@pytest.mark.parametrize(
    ("length", "tile", "overlap", "align"),
    [
        (8192, 1024, 64, 4),
        (1032, 256, 32, 4),
        (700, 256, 32, 4),
        (999, 96, 48, 3),
        (5000, 512, 0, 4),
    ],
)
def test_balanced_tile_keeps_the_tile_count_and_overlap(
    length: int, tile: int, overlap: int, align: int
) -> None:
    """The balanced tile is no larger than asked, needs no more tiles and is the smallest such."""
    t = balanced_tile(length, tile, overlap, align)
    m = math.lcm(SIZE_MULTIPLE, align)
    assert t <= tile and (t % m == 0 or t == tile)
    full, short = tile_starts(length, tile, overlap, align), tile_starts(length, t, overlap, align)
    assert len(short) == len(full)
    assert (t - np.diff(short) >= overlap).all() and short[-1] + t == length
    if t - m > overlap:  # the smallest such size
        assert len(tile_starts(length, t - m, overlap, align)) > len(full)


def test_weights_sum_to_one_across_neighbours() -> None:
    grid = TileGrid(width=700, height=300, tile=256, overlap=64, align=4)
    total = np.zeros((grid.padded_height, grid.padded_width))
    for win in grid.windows():
        total[win.slices()] += grid.weights(win)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


def _run(grid: TileGrid, predict) -> tuple[np.ndarray, int, int]:
    out = np.full((1, grid.height, grid.width), np.nan, np.float32)
    count = np.zeros((grid.height, grid.width), int)
    acc = BlendAccumulator(grid, 1)
    peak = 0
    for win in grid.windows():
        for cell, values, _ in acc.add(win, predict(win), grid.weights(win)):
            out[:, cell.row_off : cell.row_end, cell.col_off : cell.col_end] = values
            count[cell.slices()] += 1
        peak = max(peak, acc.pending_cells)
    return out, count, peak


def test_accumulator_emits_every_pixel_once_and_reproduces_consistent_tiles() -> None:
    grid = TileGrid(width=901, height=517, tile=128, overlap=32, align=4)
    rng = np.random.default_rng(0)
    image = rng.random((grid.padded_height, grid.padded_width)).astype(np.float32)

    def predict(win: Window) -> np.ndarray:
        return image[None, win.row_off : win.row_end, win.col_off : win.col_end].copy()

    out, count, peak = _run(grid, predict)
    assert (count == 1).all()
    np.testing.assert_allclose(out[0], image[: grid.height, : grid.width], atol=1e-6)
    # memory: only about one row of overlap strips is pending, never the whole scene
    n_cols = len(grid.col_starts)
    assert peak <= 3 * n_cols + 3


def test_cells_of_one_tile_are_its_prediction_and_overlaps_a_blend() -> None:
    """Pixels only one tile covers come out exactly as that tile predicted them (NaN where
    invalid); overlap pixels are a weighted mean strictly between the two predictions."""
    grid = TileGrid(width=300, height=200, tile=128, overlap=32, align=4)
    rng = np.random.default_rng(3)
    preds = {}

    def predict(win: Window) -> np.ndarray:
        p = rng.random((1, win.height, win.width)).astype(np.float32) + 1.0
        p[0, :3, :3] = np.nan  # an invalid corner
        preds[(win.col_off, win.row_off)] = p
        return p

    acc = BlendAccumulator(grid, 1)
    out = np.full((1, grid.height, grid.width), -1.0, np.float32)
    for win in grid.windows():
        pred = predict(win)
        weight = grid.weights(win) * np.isfinite(pred[0])
        for cell, values, _ in acc.add(win, pred, weight):
            out[:, cell.row_off : cell.row_end, cell.col_off : cell.col_end] = values
    cover = np.zeros((grid.height, grid.width), int)
    for win in grid.windows():
        cover[win.slices()] += 1
    for (c0, r0), p in preds.items():
        sl = (slice(r0, r0 + p.shape[1]), slice(c0, c0 + p.shape[2]))
        only = cover[sl] == 1
        np.testing.assert_array_equal(out[0][sl][only], p[0][only])  # bit for bit, NaN too
    assert np.isnan(out[0, :3, :3]).all()
    assert (out[0][cover > 1] > 1.0).all() and (out[0][cover > 1] < 2.0).all()


def test_blending_turns_tile_disagreement_into_a_gradual_transition() -> None:
    grid = TileGrid(width=600, height=128, tile=128, overlap=64, align=4)
    offsets = {s: 10.0 * k for k, s in enumerate(grid.col_starts)}  # each tile off by +10

    def predict(win: Window) -> np.ndarray:
        return np.full((1, win.height, win.width), offsets[win.col_off], np.float32)

    out, _, _ = _run(grid, predict)
    jumps = np.abs(np.diff(out[0, 0]))
    # a hard seam would jump by 10 in one pixel; the raised-cosine ramp spreads it over the
    # overlap: max slope = 10 * pi / 2 / overlap (overlaps here are >= 64)
    assert jumps.max() <= 10 * np.pi / 2 / 64 + 1e-3
    assert out[0, 0, 0] == pytest.approx(0.0) and out[0, 0, -1] == pytest.approx(
        offsets[grid.col_starts[-1]]
    )


def test_invalid_pixels_come_out_nan() -> None:
    grid = TileGrid(width=200, height=200, tile=128, overlap=32, align=4)
    acc = BlendAccumulator(grid, 2)
    out = np.zeros((2, 200, 200), np.float32)
    for win in grid.windows():
        pred = np.ones((2, win.height, win.width), np.float32)
        w = grid.weights(win)
        w[:10] = 0  # first rows of every tile invalid...
        pred[:, :10] = np.nan
        for cell, values, _ in acc.add(win, pred, w):
            out[:, cell.row_off : cell.row_end, cell.col_off : cell.col_end] = values
    # ...but rows covered by another tile with valid data stay valid
    assert np.isnan(out[:, :10]).all()
    assert not np.isnan(out[:, 10:]).any()

"""Tile seams on a real scene: a tiled run shows no more gradient energy on tile borders than a
whole-scene run does, while tiles without overlap do (so the measurement can fail)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.fuse import default_overlap, fuse_arrays, make_grid
from backend.io.grid import MSGridReader, plan_grid
from backend.io.raster import inspect_raster, open_raster, read_band
from backend.io.window import Window
from backend.seams import seam_report
from tests.backend.raster_fixtures import tiny_model

TILE = 96


@pytest.fixture(scope="module")
def scene(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    """A crop of the georeferenced pair, MS resampled onto the PAN grid, sized so that tiles of
    `TILE` with the default overlap fill it exactly (3 x 3 tiles)."""
    d = shared_data / "pansharpening"
    pan_ds, ms_ds = open_raster(d / "osman_pan.tif"), open_raster(d / "osman_ms.tif")
    ms_info = inspect_raster(ms_ds)
    plan = plan_grid(inspect_raster(pan_ds), ms_info)
    size = TILE + 2 * (TILE - default_overlap(TILE, 4))
    pan, _ = read_band(pan_ds.GetRasterBand(1), Window(0, 0, size, size))
    ms, _ = MSGridReader(ms_ds, ms_info, plan).read(Window(0, 0, size // 4, size // 4))
    return pan, ms


@pytest.mark.slow
def test_no_seams_with_default_overlap(scene, tmp_path: Path) -> None:
    pan, ms = scene
    model = tiny_model(tmp_path)
    size = pan.shape[0]
    whole = fuse_arrays(pan, ms, model=model, device="cpu", tile=size, overlap=0)
    tiled = fuse_arrays(pan, ms, model=model, device="cpu", tile=TILE)
    grid = make_grid(size, size, 4, TILE, None)
    assert len(grid) == 9 and grid.col_starts[1] == TILE - grid.overlap  # the layout measured
    rep = seam_report(tiled, whole, grid)
    # Per line of pixels, energy(tiled) / energy(whole): no tile-edge line stands out more than
    # the lines inside tiles do (the tiled run's context differs everywhere, not only at
    # borders), and on average borders gain less than 10 % relative to inside (a hard seam
    # gives 20 x, below).
    assert rep.worst_line <= rep.inside_line, rep
    assert rep.seam_index < 1.1, rep

    # tiles without overlap do show seams: the measurement can fail. (Tiles are spread evenly,
    # so a crop of exactly 2 x 2 tiles is needed for the overlap to really be 0.)
    p2, m2 = pan[: 2 * TILE, : 2 * TILE], ms[:, : TILE // 2, : TILE // 2]
    whole2 = fuse_arrays(p2, m2, model=model, device="cpu", tile=2 * TILE, overlap=0)
    hard = fuse_arrays(p2, m2, model=model, device="cpu", tile=TILE, overlap=0)
    grid0 = make_grid(2 * TILE, 2 * TILE, 4, TILE, 0)
    assert grid0.col_starts == [0, TILE]
    rep0 = seam_report(hard, whole2, grid0)
    assert rep0.seam_index > 2.0 and rep0.worst_line > rep0.inside_line, rep0

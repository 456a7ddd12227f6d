"""Atomic GeoTIFF writer: georeferencing, band properties, options, COG, nothing left on failure."""

from __future__ import annotations

import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from backend.errors import OutputError
from backend.io.raster import BandInfo
from backend.io.window import Window
from backend.io.writer import AtomicGeoTiffWriter, check_output_path, parse_creation_options
from tests.backend.raster_fixtures import srs_wkt

GT = (500000.0, 0.5, 0.0, 4000000.0, 0.0, -0.5)


def _bands(n: int = 3) -> list[BandInfo]:
    ci = [gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand]
    return [
        BandInfo(i + 1, "uint16", None, f"band {i + 1}", ci[i], metadata={"wavelength": str(i)})
        for i in range(n)
    ]


def _write(path: Path, data: np.ndarray, **kw) -> Path:
    c, h, w = data.shape
    with AtomicGeoTiffWriter(
        path,
        width=w,
        height=h,
        dtype=str(data.dtype),
        bands=_bands(c),
        geotransform=GT,
        crs_wkt=srs_wkt(32649),
        nodata=kw.pop("nodata", 0),
        **kw,
    ) as wr:
        # two windows, like two tiles
        wr.write(Window(0, 0, w // 2, h), data[:, :, : w // 2])
        wr.write(Window(w // 2, 0, w - w // 2, h), data[:, :, w // 2 :])
        return wr.commit()


def test_writes_georeferenced_tiled_compressed(tmp_path: Path) -> None:
    data = np.arange(3 * 600 * 700, dtype=np.uint16).reshape(3, 600, 700)
    out = _write(tmp_path / "out.tif", data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]
    ds = gdal.Open(str(out))
    assert ds.GetGeoTransform() == GT
    assert "32649" in ds.GetProjection()
    np.testing.assert_array_equal(ds.ReadAsArray(), data)
    b = ds.GetRasterBand(2)
    assert b.GetNoDataValue() == 0
    assert b.GetDescription() == "band 2"
    assert b.GetColorInterpretation() == gdal.GCI_GreenBand
    assert b.GetMetadataItem("wavelength") == "1"
    assert b.GetBlockSize() == [512, 512]
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE"


def test_creation_options_override_defaults(tmp_path: Path) -> None:
    data = np.ones((1, 64, 64), np.uint16)
    out = _write(tmp_path / "o.tif", data, creation_options=["COMPRESS=LZW", "BLOCKXSIZE=256"])
    ds = gdal.Open(str(out))
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "LZW"
    assert ds.GetRasterBand(1).GetBlockSize()[0] == 256


def test_fast_deflate_by_default_and_other_levels_or_codecs_on_request(tmp_path: Path) -> None:
    """The default is DEFLATE level 1 on all CPUs; `ZLEVEL=9` makes a smaller file of the same
    pixels; another codec drops the DEFLATE level."""
    g = np.random.default_rng(1)
    ramp = np.add.outer(np.arange(600), np.arange(700)) % 700
    data = np.stack([ramp + g.integers(0, 3, ramp.shape) for _ in range(3)]).astype(np.uint16)
    sizes = {}
    cases = [("fast", None), ("l1", ["ZLEVEL=1"]), ("l9", ["ZLEVEL=9"])]
    cases.append(("zstd", ["COMPRESS=ZSTD"]))
    for name, opts in cases:
        folder = tmp_path / name
        folder.mkdir()
        out = _write(folder / "o.tif", data, creation_options=opts)
        ds = gdal.Open(str(out))
        np.testing.assert_array_equal(ds.ReadAsArray(), data)
        sizes[name] = out.stat().st_size
        codec = ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE")
        assert codec == ("ZSTD" if name == "zstd" else "DEFLATE")
    assert sizes["fast"] == sizes["l1"] and sizes["l9"] < sizes["fast"]


def test_cog_layout(tmp_path: Path) -> None:
    data = np.random.default_rng(0).integers(0, 2000, (3, 1100, 1100)).astype(np.uint16)
    out = _write(tmp_path / "cog.tif", data, cog=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cog.tif"]
    ds = gdal.Open(str(out))
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    assert ds.GetRasterBand(1).GetOverviewCount() >= 1
    assert ds.GetGeoTransform() == GT
    np.testing.assert_array_equal(ds.ReadAsArray(), data)


def test_failure_leaves_nothing_and_keeps_old_output(tmp_path: Path) -> None:
    old = tmp_path / "out.tif"
    old.write_bytes(b"previous result")
    with (
        pytest.raises(RuntimeError, match="boom"),
        AtomicGeoTiffWriter(
            old,
            width=32,
            height=32,
            dtype="uint16",
            bands=_bands(1),
            geotransform=GT,
            crs_wkt=None,
            nodata=None,
        ) as wr,
    ):
        wr.write(Window(0, 0, 32, 16), np.ones((1, 16, 32), np.uint16))
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]
    assert old.read_bytes() == b"previous result"


def test_replaces_output_and_stale_sidecar(tmp_path: Path) -> None:
    out = tmp_path / "out.tif"
    out.write_bytes(b"old")
    Path(str(out) + ".aux.xml").write_text("<PAMDataset/>")
    _write(out, np.ones((1, 16, 16), np.uint16))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]
    assert gdal.Open(str(out)).RasterCount == 1


def test_output_folder_missing(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "out.tif")


def test_output_parent_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        check_output_path(f / "out.tif")


def test_output_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"):
        check_output_path(tmp_path)


@pytest.fixture
def immutable_folder(tmp_path: Path):
    """A folder that refuses new files even for root (chattr +i), if the file system allows."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not available")
    res = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot make a folder immutable here: {res.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_read_only_folder_is_refused_even_for_root(immutable_folder: Path) -> None:
    with pytest.raises(OutputError, match="read-only|refuses new files"):
        check_output_path(immutable_folder / "out.tif")
    assert list(immutable_folder.iterdir()) == []


def test_bad_creation_option() -> None:
    with pytest.raises(OutputError, match="KEY=VALUE"):
        parse_creation_options(["COMPRESS"])
    assert parse_creation_options(["compress=zstd", "ZLEVEL = 9"]) == {
        "COMPRESS": "zstd",
        "ZLEVEL": "9",
    }


def _cells(h: int, w: int, rng: np.random.Generator) -> list[Window]:
    """A partition of (h, w) into uneven cells (like the tiled engine's), shuffled by rows."""
    ys = sorted({0, h, *rng.integers(1, h, 6).tolist()})
    xs = sorted({0, w, *rng.integers(1, w, 5).tolist()})
    cells = [Window(x0, y0, x1 - x0, y1 - y0) for y0, y1 in pairwise(ys) for x0, x1 in pairwise(xs)]
    order = rng.permutation(len(cells))
    return [cells[i] for i in order]


def _write_cells(path: Path, data: np.ndarray, cells: list[Window], nodata=0) -> Path:
    c, h, w = data.shape
    with AtomicGeoTiffWriter(
        path, width=w, height=h, dtype=str(data.dtype), bands=_bands(c), geotransform=GT,
        crs_wkt=srs_wkt(32649), nodata=nodata,
    ) as wr:  # fmt: skip
        for win in cells:
            wr.write(win, data[:, win.row_off : win.row_end, win.col_off : win.col_end])
        return wr.commit()


@pytest.mark.parametrize("budget", [256 * 2**20, 3 * 2**20, 0])
def test_windows_in_any_order_give_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """Strips buffered until complete (or, past the memory budget, windows written through):
    the pixels are the data's, and the file is no larger than one written in one piece."""
    from backend.io import writer

    rng = np.random.default_rng(budget % 7)
    data = rng.integers(0, 4000, (3, 1300, 1100)).astype(np.uint16)
    ref = _write_cells(tmp_path / "ref.tif", data, [Window(0, 0, 1100, 1300)])
    monkeypatch.setattr(writer, "STRIP_BUFFER_BYTES", budget)
    out = _write_cells(tmp_path / "cells.tif", data, _cells(1300, 1100, rng))
    np.testing.assert_array_equal(gdal.Open(str(out)).ReadAsArray(), data)
    assert out.stat().st_size <= ref.stat().st_size * 1.01


def test_rewritten_and_missing_pixels(tmp_path: Path) -> None:
    """A window written again after its strip went to GDAL keeps the last values; pixels never
    written read as nodata."""
    data = np.full((1, 600, 300), 7, np.uint16)
    top = Window(0, 0, 300, 512)
    with AtomicGeoTiffWriter(
        tmp_path / "o.tif", width=300, height=600, dtype="uint16", bands=_bands(1),
        geotransform=GT, crs_wkt=srs_wkt(32649), nodata=9,
    ) as wr:  # fmt: skip
        wr.write(top, data[:, :512])  # completes the first strip
        wr.write(Window(10, 20, 5, 5), np.full((1, 5, 5), 3, np.uint16))
        wr.write(Window(0, 512, 300, 50), data[:, 512:562])  # rows 562-599 never written
        with pytest.raises(ValueError, match="do not fit"):
            wr.write(Window(290, 0, 20, 5), np.zeros((1, 5, 20), np.uint16))
        out = wr.commit()
    got = gdal.Open(str(out)).ReadAsArray()
    assert (got[20:25, 10:15] == 3).all() and got[0, 0] == 7 and got[561, 299] == 7
    assert (got[562:] == 9).all()

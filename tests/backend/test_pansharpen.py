"""`pansharpen()` on real GeoTIFF scenes and on bad input (tiny random network, small crops)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from osgeo import gdal

from backend.errors import Cancelled, InputError, ModelFileError, OutputError
from backend.fuse import default_tile, fuse_arrays
from backend.pansharpen import pansharpen, to_output
from tests.backend.raster_fixtures import pan_ms_pair, tiny_model, write_raster

FAST = {"device": "cpu", "tile": 64, "overlap": 16}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {4: tiny_model(folder, 4), 8: tiny_model(folder, 8)}


@pytest.fixture(scope="module")
def osman(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 128 x 128 PAN crop of the georeferenced pair and the MS crop covering it."""
    d = shared_data / "pansharpening"
    out = tmp_path_factory.mktemp("osman")
    pan, ms = out / "pan.tif", out / "ms.tif"
    gdal.Translate(str(pan), str(d / "osman_pan.tif"), srcWin=[200, 240, 128, 128])
    gdal.Translate(str(ms), str(d / "osman_ms.tif"), srcWin=[48, 58, 36, 36])
    return pan, ms


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_real_georeferenced_scene(osman, models, tmp_path: Path) -> None:
    pan, ms = osman
    out = tmp_path / "sharp.tif"
    infos: list[str] = []

    class Rec:
        def set_fraction(self, f: float) -> None:
            infos.append(f"{f:.2f}")

        def info(self, m: str) -> None:
            infos.append(m)

        def is_cancelled(self) -> bool:
            return False

    res = pansharpen(pan, ms, out, model=models[4], progress=Rec(), **FAST)
    assert _files(tmp_path) == ["sharp.tif"]
    ds, pds, mds = gdal.Open(str(out)), gdal.Open(str(pan)), gdal.Open(str(ms))
    assert ds.RasterCount == 4 and res.ratio == 4
    assert (ds.RasterXSize, ds.RasterYSize) == (128, 128)  # the MS crop covers the PAN crop
    assert "32649" in ds.GetProjection()
    assert ds.GetGeoTransform() == pytest.approx(pds.GetGeoTransform())
    assert ds.GetRasterBand(1).DataType == gdal.GDT_UInt16
    assert [ds.GetRasterBand(i).GetColorInterpretation() for i in (1, 2, 3)] == [
        mds.GetRasterBand(i).GetColorInterpretation() for i in (1, 2, 3)
    ]
    assert ds.GetRasterBand(1).GetNoDataValue() is None  # no nodata in, none out
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE"
    arr = ds.ReadAsArray().astype(float)
    assert arr.std() > 0 and res.valid_fraction == 1.0
    # the result stays in the MS's radiometric range (a random network, so loosely)
    assert 0.2 * mds.ReadAsArray().mean() < arr.mean() < 5 * mds.ReadAsArray().mean()
    assert res.warp_reason and any("Resampling the MS" in m for m in infos)
    assert "1.00" in infos  # progress reached the end


@pytest.mark.parametrize(
    ("name", "ms_key", "bands", "dtype"),
    [
        ("wv2_imgWV2.mat", "I_MS", 8, "uint16"),
        ("geoeye1_imgGE1.mat", "I_MS", 4, "uint8"),
        ("wv3_example.mat", "I_MS_LR", 8, "uint16"),
    ],
)
def test_mat_scenes_as_geotiff(shared_data, models, tmp_path, name, ms_key, bands, dtype) -> None:
    """The toolbox scenes written to GeoTIFF with a synthetic north-up geotransform."""
    mat = scipy.io.loadmat(shared_data / "pansharpening" / name)
    pan = mat["I_PAN"][:128, :128]
    ms = np.moveaxis(mat[ms_key][:32, :32], -1, 0)
    gt = (300000.0, 0.5, 0.0, 5000000.0, 0.0, -0.5)
    pan_p = write_raster(tmp_path / "pan.tif", pan, geotransform=gt)
    ms_p = write_raster(tmp_path / "ms.tif", ms, geotransform=(gt[0], 2.0, 0.0, gt[3], 0.0, -2.0))
    res = pansharpen(pan_p, ms_p, tmp_path / "out.tif", model=models[bands], device="cpu", tile=128)
    ds = gdal.Open(str(res.path))
    assert ds.RasterCount == bands and res.tiles == 1
    assert gdal.GetDataTypeName(ds.GetRasterBand(1).DataType).lower() in (dtype, "byte")
    assert ds.GetGeoTransform() == pytest.approx(gt)
    assert "32649" in ds.GetProjection()
    out = ds.ReadAsArray()
    assert out.dtype == np.dtype(dtype) and out.std() > 0


def test_float32_output_and_nodata_never_reaches_the_network(models, tmp_path: Path) -> None:
    """Nodata areas come out as nodata, and their numeric value does not change valid pixels."""
    results = []
    for k, nd in enumerate((0, 9999)):
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        pan_p, ms_p, pan, ms = pan_ms_pair(folder, size=96, ms_nodata=nd, pan_nodata=nd)
        ms[:, :, :5] = nd  # MS collar: 20 PAN columns
        pan[70:, :] = nd  # PAN collar: the last 26 rows
        write_raster(ms_p, ms, geotransform=(500000.0, 2.0, 0, 4000000.0, 0, -2.0), nodata=nd)
        write_raster(pan_p, pan, geotransform=(500000.0, 0.5, 0, 4000000.0, 0, -0.5), nodata=nd)
        res = pansharpen(pan_p, ms_p, folder / "out.tif", model=models[4], dtype="float32", **FAST)
        ds = gdal.Open(str(res.path))
        assert ds.GetRasterBand(1).DataType == gdal.GDT_Float32
        assert ds.GetRasterBand(1).GetNoDataValue() == nd
        arr = ds.ReadAsArray()
        assert not np.isnan(arr).any()
        invalid = np.zeros((96, 96), bool)
        invalid[:, :20] = True
        invalid[70:, :] = True
        assert (arr[:, invalid] == nd).all()
        assert (arr[:, ~invalid] != nd).all()
        results.append(arr[:, ~invalid])
    # identical valid pixels whether nodata was 0 or 9999: nodata was never fed as a number
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-3)


def test_other_crs_is_warped_and_said(osman, models, tmp_path: Path) -> None:
    pan, ms = osman
    ms_geo = tmp_path / "ms_ll.tif"
    gdal.Warp(str(ms_geo), str(ms), dstSRS="EPSG:4326", resampleAlg="cubic")
    res = pansharpen(pan, ms_geo, tmp_path / "o.tif", model=models[4], device="cpu", tile=128)
    assert "differs from PAN CRS" in res.warp_reason
    ds = gdal.Open(str(res.path))
    assert "32649" in ds.GetProjection()
    # the warped footprint is not a rectangle on the PAN grid: outside it is nodata
    assert ds.GetRasterBand(1).GetNoDataValue() == 0
    assert res.valid_fraction > 0.8


def test_pan_larger_than_ms_gives_the_intersection(models, tmp_path: Path) -> None:
    pan_p, _, pan, _ = pan_ms_pair(tmp_path, size=96)
    ms = np.full((4, 12, 10), 500, np.uint16)
    ms_p = write_raster(
        tmp_path / "ms_part.tif", ms, geotransform=(500008.0, 2.0, 0, 3999996.0, 0, -2.0)
    )
    res = pansharpen(pan_p, ms_p, tmp_path / "o.tif", model=models[4], **FAST)
    ds = gdal.Open(str(res.path))
    assert (ds.RasterXSize, ds.RasterYSize) == (40, 48)
    assert ds.GetGeoTransform() == pytest.approx((500008.0, 0.5, 0, 3999996.0, 0, -0.5))


def test_batch_gives_the_same_result(models, tmp_path: Path) -> None:
    pan, ms, _, _ = pan_ms_pair(tmp_path, size=96)
    a = pansharpen(pan, ms, tmp_path / "a.tif", model=models[4], batch=1, **FAST)
    b = pansharpen(pan, ms, tmp_path / "b.tif", model=models[4], batch=4, **FAST)
    x = gdal.Open(str(a.path)).ReadAsArray().astype(int)
    y = gdal.Open(str(b.path)).ReadAsArray().astype(int)
    assert np.abs(x - y).max() <= 1


def test_cancel_leaves_nothing(osman, models, tmp_path: Path) -> None:
    pan, ms = osman

    class CancelAfterTwo:
        calls = 0

        def set_fraction(self, f: float) -> None:
            pass

        def info(self, m: str) -> None:
            pass

        def is_cancelled(self) -> bool:
            self.calls += 1
            return self.calls > 2

    old = tmp_path / "out.tif"
    old.write_bytes(b"old result")
    with pytest.raises(Cancelled):
        pansharpen(pan, ms, old, model=models[4], progress=CancelAfterTwo(), **FAST)
    assert _files(tmp_path) == ["out.tif"] and old.read_bytes() == b"old result"


def test_fuse_arrays_matches_pansharpen_on_aligned_data(models, tmp_path: Path) -> None:
    pan_p, ms_p, pan, ms = pan_ms_pair(tmp_path, size=96)
    res = pansharpen(pan_p, ms_p, tmp_path / "o.tif", model=models[4], dtype="float32", **FAST)
    ref = gdal.Open(str(res.path)).ReadAsArray()
    got = fuse_arrays(pan, ms, model=models[4], **FAST)
    assert got.dtype == np.float32 and got.shape == (4, 96, 96)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-2)


def test_default_tile_follows_the_device(tmp_path: Path, models: dict[int, Path]) -> None:
    """No tile given: 1024 on a GPU, 512 on a CPU, balanced to the scene (2 x 2 tiles of 352
    cover 640 px with 64 px overlap)."""
    assert default_tile("cpu") == default_tile(torch.device("cpu")) == 512
    assert default_tile("cuda:1") == default_tile(torch.device("cuda", 0)) == 1024
    pan_p, ms_p, _, _ = pan_ms_pair(tmp_path, size=640)
    res = pansharpen(pan_p, ms_p, tmp_path / "o.tif", model=models[4], device="cpu")
    assert res.tile == 352 and res.tiles == 4 and res.overlap == 64


def test_to_output_clips_rounds_and_keeps_nodata_free() -> None:
    values = np.array([[[-5.0, 0.4, 70000.0, np.nan, 1.0]]], np.float32)
    out = to_output(values, "uint16", nodata=0)
    # clipped to the type's range; a valid pixel that rounds to the nodata value moves to 1
    assert out.tolist() == [[[1, 1, 65535, 0, 1]]]
    f = to_output(values, "float32", nodata=-9999.0)
    assert f[0, 0, 3] == -9999.0 and f[0, 0, 2] == 70000.0
    assert to_output(np.array([[[300.7]]], np.float32), "uint8", None).item() == 255
    # NaN in one band only: the whole pixel is nodata (or 0 without nodata), in every band
    two = np.array([[[5.2, np.nan]], [[np.nan, 7.0]]], np.float32)
    assert to_output(two, "uint16", nodata=9).tolist() == [[[9, 9]], [[9, 9]]]
    assert to_output(two, "int16", None).tolist() == [[[0, 0]], [[0, 0]]]


# ---- bad input: a clear message and nothing written ------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    src = tmp_path / "in"
    src.mkdir()
    pan_p, ms_p, _, _ = pan_ms_pair(src, size=64)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    return pan_p, ms_p, out_dir


def _refused(exc_type, match, pan, ms, out_dir: Path, **kw) -> None:
    with pytest.raises(exc_type, match=match):
        pansharpen(pan, ms, out_dir / "o.tif", device="cpu", **kw)
    assert _files(out_dir) == []


def test_bad_no_overlap(pair, models) -> None:
    pan, _, out_dir = pair
    far = write_raster(
        out_dir.parent / "far.tif",
        np.ones((4, 16, 16), np.uint16),
        geotransform=(700000.0, 2.0, 0, 4000000.0, 0, -2.0),
    )
    _refused(InputError, "do not overlap", pan, far, out_dir, model=models[4])


def test_bad_multiband_pan_without_band(pair, models) -> None:
    pan, ms, out_dir = pair
    pan3 = out_dir.parent / "pan3.tif"
    arr = gdal.Open(str(pan)).ReadAsArray()
    write_raster(pan3, np.stack([arr, arr, arr]), geotransform=(500000.0, 0.5, 0, 4e6, 0, -0.5))
    _refused(InputError, "has 3 bands.*--pan-band", pan3, ms, out_dir, model=models[4])
    _refused(InputError, "out of range", pan3, ms, out_dir, model=models[4], pan_band=4)
    res = pansharpen(pan3, ms, out_dir / "ok.tif", model=models[4], pan_band=2, **FAST)
    assert res.bands == 4


def test_bad_band_count_no_model_fits(pair, models) -> None:
    pan, _, out_dir = pair
    ms3 = write_raster(
        out_dir.parent / "ms3.tif",
        np.ones((3, 16, 16), np.uint16),
        geotransform=(500000.0, 2.0, 0, 4000000.0, 0, -2.0),
    )
    _refused(ModelFileError, "3.*--model", pan, ms3, out_dir)  # the default model: none fits
    _refused(
        ModelFileError, "expects 4 MS bands but the MS has 3", pan, ms3, out_dir, model=models[4]
    )


@pytest.mark.parametrize(("ms_px", "match"), [(0.75, "below 2"), (1.25, "far from an integer")])
def test_bad_ratio(pair, models, ms_px, match) -> None:
    pan, _, out_dir = pair
    ms = write_raster(
        out_dir.parent / "msr.tif",
        np.ones((4, 40, 40), np.uint16),
        geotransform=(500000.0, ms_px, 0, 4000000.0, 0, -ms_px),
    )
    _refused(InputError, match, pan, ms, out_dir, model=models[4])


def test_bad_unreadable_files(pair, models) -> None:
    pan, ms, out_dir = pair
    junk = out_dir.parent / "junk.tif"
    junk.write_bytes(b"\x00not a tiff at all")
    _refused(InputError, "cannot be read as a raster", junk, ms, out_dir, model=models[4])
    _refused(InputError, "does not exist", pan, out_dir.parent / "missing.tif", out_dir)
    csv = out_dir.parent / "table.csv"
    csv.write_text("a,b\n1,2\n")
    _refused(InputError, "MS raster", pan, csv, out_dir, model=models[4])


def test_bad_output_folder(pair, models, tmp_path: Path) -> None:
    pan, ms, out_dir = pair
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        pansharpen(pan, ms, a_file / "o.tif", model=models[4], **FAST)
    with pytest.raises(OutputError, match="does not exist"):
        pansharpen(pan, ms, tmp_path / "nowhere" / "o.tif", model=models[4], **FAST)
    assert not (tmp_path / "nowhere").exists()


def test_bad_read_only_output_folder(pair, models) -> None:
    pan, ms, out_dir = pair
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not available")
    if subprocess.run(["chattr", "+i", str(out_dir)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder immutable on this file system")
    try:
        _refused(OutputError, "read-only|refuses new files", pan, ms, out_dir, model=models[4])
    finally:
        subprocess.run(["chattr", "-i", str(out_dir)], check=True)


def test_bad_all_nodata(pair, models) -> None:
    pan, ms, out_dir = pair
    empty_pan = write_raster(
        out_dir.parent / "nd_pan.tif",
        np.zeros((64, 64), np.uint16),
        geotransform=(500000.0, 0.5, 0, 4000000.0, 0, -0.5),
        nodata=0,
    )
    _refused(InputError, "PAN raster .* no valid pixel", empty_pan, ms, out_dir, model=models[4])
    nan_ms = write_raster(
        out_dir.parent / "nan_ms.tif",
        np.full((4, 16, 16), np.nan, np.float32),
        geotransform=(500000.0, 2.0, 0, 4000000.0, 0, -2.0),
    )
    _refused(InputError, "MS raster .* no valid pixel", pan, nan_ms, out_dir, model=models[4])


def test_bad_valid_areas_do_not_meet(pair, models) -> None:
    """PAN valid only in the west half, MS only in the east half: nothing to write."""
    pan, ms, out_dir = pair
    p = gdal.Open(str(pan)).ReadAsArray()
    p[:, 32:] = 0
    pan_w = write_raster(
        out_dir.parent / "pan_w.tif", p, geotransform=(500000.0, 0.5, 0, 4e6, 0, -0.5), nodata=0
    )
    m = gdal.Open(str(ms)).ReadAsArray()
    m[:, :, :8] = 0
    ms_e = write_raster(
        out_dir.parent / "ms_e.tif", m, geotransform=(500000.0, 2.0, 0, 4e6, 0, -2.0), nodata=0
    )
    _refused(InputError, "no valid pixel in common", pan_w, ms_e, out_dir, model=models[4], tile=64)


def test_bad_rotated_geotransform(pair, models) -> None:
    pan, _, out_dir = pair
    rot = write_raster(
        out_dir.parent / "rot.tif",
        np.ones((4, 16, 16), np.uint16),
        geotransform=(500000.0, 2.0, 0.3, 4000000.0, 0.3, -2.0),
    )
    _refused(InputError, "rotated geotransform", pan, rot, out_dir, model=models[4])


def test_bad_corrupt_model(pair, models, tmp_path: Path) -> None:
    pan, ms, out_dir = pair
    bad = tmp_path / "bad.safetensors"
    raw = bytearray(models[4].read_bytes())
    raw[-20] ^= 0xFF  # one flipped byte in the weights
    bad.write_bytes(bytes(raw))
    shutil.copy(models[4].with_suffix(".json"), bad.with_suffix(".json"))
    _refused(ModelFileError, "checksum", pan, ms, out_dir, model=bad)
    half = tmp_path / "half.safetensors"
    half.write_bytes(b"garbage")
    half.with_suffix(".json").write_text("{ not json")
    _refused(ModelFileError, "cannot be read", pan, ms, out_dir, model=half)


def test_bad_output_is_an_input(pair, models) -> None:
    pan, ms, _ = pair
    before = pan.read_bytes()
    with pytest.raises(OutputError, match="is the PAN input"):
        pansharpen(pan, ms, pan, model=models[4], **FAST)
    assert pan.read_bytes() == before


def test_gdal_exceptions_mode_still_gives_typed_errors(pair, models, tmp_path: Path) -> None:
    """A host process (another plugin, a script) may have turned GDAL exceptions on."""
    pan, ms, out_dir = pair
    broken = tmp_path / "broken.tif"
    broken.write_bytes(pan.read_bytes()[:300])
    was = gdal.GetUseExceptions()
    gdal.UseExceptions()
    try:
        _refused(InputError, "broken.tif", broken, ms, out_dir, model=models[4])
        res = pansharpen(pan, ms, out_dir / "ok.tif", model=models[4], **FAST)
        assert res.valid_fraction == 1.0
    finally:
        if not was:
            gdal.DontUseExceptions()

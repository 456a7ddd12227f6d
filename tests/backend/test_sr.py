"""Zero-shot super-resolution (`backend.sr`) on real imagery with a tiny network.

Inputs are small crops of the real rasters in ../shared/data, written as GeoTIFFs into a temporary
folder; the network is a tiny random MMMamba saved as a model file, so every run is a real run of
the whole pipeline (GDAL in, network, tiling, atomic GDAL out) in a few seconds on a CPU.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, osr

from backend.errors import InputError, OutputError
from tests.conftest import REPO

torch = pytest.importorskip("torch")

from backend.model.config import MMMambaConfig  # noqa: E402
from backend.model.network import MMMamba  # noqa: E402
from backend.model.store import ModelCard, load_model, save_model  # noqa: E402
from backend.normalize import robust_scale  # noqa: E402
from backend.sr import band_groups, super_resolve  # noqa: E402
from backend.sr_adapt import CPU_LAYERS, centred_degrade  # noqa: E402
from backend.sr_guide import SyntheticPanReader, synthesize_pan  # noqa: E402

RGBN = "ms_only/rgbn_5m_uint8.tif"
LANDSAT = "ms_only/landsat7_RGB.byte.tif"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random 4-band network saved as a model file (weights + card)."""
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(ms_bands=4, ratio=4))
    path = tmp_path_factory.mktemp("model") / "tiny-sr.safetensors"
    save_model(path, net, ModelCard(name="tiny-sr"))
    return path


def crop(shared_data: Path, name: str, out: Path, win: tuple[int, int, int, int], **kw) -> Path:
    """Write a crop `(col, row, width, height)` of a shared raster to `out`."""
    ds = gdal.Translate(str(out), str(shared_data / name), srcWin=list(win), **kw)
    assert ds is not None
    ds = None
    return out


def read(path: Path) -> tuple[np.ndarray, gdal.Dataset]:
    ds = gdal.Open(str(path))
    return ds.ReadAsArray(), ds


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture()
def rgbn(shared_data: Path, tmp_path: Path) -> Path:
    """48 x 40 pixels of the 4-band 5 m scene (uint8, EPSG:32618)."""
    return crop(shared_data, RGBN, tmp_path / "rgbn.tif", (200, 150, 48, 40))


def test_band_groups_keep_every_band_once() -> None:
    assert band_groups(3, 4) == [([0, 1, 2, 2], [0, 1, 2])]
    assert band_groups(4, 4) == [([0, 1, 2, 3], [0, 1, 2, 3])]
    assert band_groups(6, 4) == [([0, 1, 2, 3], [0, 1, 2, 3]), ([2, 3, 4, 5], [2, 3])]
    for n in range(1, 14):
        kept = [idx[k] for idx, keep in band_groups(n, 4) for k in keep]
        assert kept == list(range(n))


def test_centred_degrade_puts_coarse_values_at_block_centres() -> None:
    # On a linear ramp any symmetric blur is exact, so the coarse value must be the ramp at the
    # centre of its s x s block: (s*i + (s-1)/2).
    for s in (2, 3, 4):
        h = w = 16 * s
        ramp = np.add.outer(np.arange(h, dtype=np.float64), 0.5 * np.arange(w))
        low = centred_degrade(ramp, s, 0.3)
        centres = s * np.arange(16) + (s - 1) / 2
        want = np.add.outer(centres, 0.5 * centres)
        inner = slice(3, -3)  # away from the replicated borders of the filter
        np.testing.assert_allclose(low[inner, inner], want[inner, inner], atol=1e-3)


def test_synthetic_pan_by_windows_equals_whole_image(rgbn: Path) -> None:
    values, _ = read(rgbn)
    values = values.astype(np.float32)
    scales = tuple(float(robust_scale(b)) for b in values)
    whole = synthesize_pan(values / np.asarray(scales, np.float32)[:, None, None], 2)

    def read_lr(win):
        out = np.zeros((4, win.height, win.width), np.float32)
        valid = np.zeros((win.height, win.width), bool)
        r0, c0 = max(win.row_off, 0), max(win.col_off, 0)
        r1, c1 = min(win.row_end, 40), min(win.col_end, 48)
        out[:, r0 - win.row_off : r1 - win.row_off, c0 - win.col_off : c1 - win.col_off] = values[
            :, r0:r1, c0:c1
        ]
        valid[r0 - win.row_off : r1 - win.row_off, c0 - win.col_off : c1 - win.col_off] = True
        return out, valid

    from backend.io.window import Window

    reader = SyntheticPanReader(read_lr, 48, 40, scales, 2)
    for win in (Window(0, 0, 48, 40), Window(40, 30, 56, 50), Window(64, 48, 40, 40)):
        pan, valid = reader.read(win)
        inside = win.intersection(Window(0, 0, 96, 80))
        rows, cols = inside.relative_to(win).slices()
        np.testing.assert_allclose(pan[rows, cols], whole[inside.slices()], atol=1e-5)
        assert valid[rows, cols].all()
        assert valid.sum() == inside.width * inside.height


def test_unguided_output_grid_bands_and_type(rgbn: Path, tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "sr.tif"
    res = super_resolve(rgbn, out, scale=3, adapt_steps=0, model=tiny_model, device="cpu", tile=96)
    src = gdal.Open(str(rgbn))
    values, ds = read(out)
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (48 * 3, 40 * 3, 4)
    assert values.dtype == np.uint8
    sgt, ogt = src.GetGeoTransform(), ds.GetGeoTransform()
    assert ogt[0] == sgt[0] and ogt[3] == sgt[3]
    assert ogt[1] == pytest.approx(sgt[1] / 3) and ogt[5] == pytest.approx(sgt[5] / 3)
    a, b = osr.SpatialReference(src.GetProjection()), osr.SpatialReference(ds.GetProjection())
    assert a.IsSame(b)
    assert res.mode == "unguided" and res.scale == 3 and res.adapt == []
    assert res.tiles > 1  # 144 x 120 output in 96-pixel tiles: blending really ran


def test_adapt_steps_zero_is_plain_inference(
    shared_data: Path, tiny_model: Path, tmp_path: Path
) -> None:
    lr_path = crop(
        shared_data, RGBN, tmp_path / "f32.tif", (120, 60, 40, 32), outputType=gdal.GDT_Float32
    )
    out = tmp_path / "sr.tif"
    super_resolve(
        lr_path,
        out,
        scale=2,
        adapt_steps=0,
        model=tiny_model,
        device="cpu",
        tile=512,
        ensemble=1,
        backproject=0,
    )
    got, _ = read(out)
    lr, _ = read(lr_path)
    scales = np.array([robust_scale(b) for b in lr], np.float32)[:, None, None]
    ms = (lr / scales).astype(np.float32)
    pan = synthesize_pan(ms, 2)
    net = load_model(tiny_model).net
    net.cfg.ratio = 2
    with torch.no_grad():
        want = net(torch.from_numpy(pan)[None, None], torch.from_numpy(ms)[None])[0].numpy()
    want = want * scales
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_unguided_adaptation_reduces_its_training_loss(
    rgbn: Path, tiny_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sr.tif"
    res = super_resolve(rgbn, out, scale=2, adapt_steps=10, model=tiny_model, device="cpu")
    assert len(res.adapt) == 1
    rep = res.adapt[0]
    assert rep.steps == 10
    assert rep.train_last < rep.train_first
    assert rep.loss_after <= rep.loss_before
    assert out.is_file()


def test_guided_run_uses_the_guide_grid_and_band(
    shared_data: Path, tiny_model: Path, tmp_path: Path
) -> None:
    # Guide: the 5 m scene itself (2-band crop, band 2 = NIR); input: the same ground at 10 m.
    guide = crop(shared_data, RGBN, tmp_path / "guide.tif", (200, 150, 64, 48), bandList=[3, 4])
    lr = tmp_path / "lr.tif"
    ds = gdal.Translate(
        str(lr),
        str(shared_data / RGBN),
        srcWin=[200, 150, 64, 48],
        width=32,
        height=24,
        resampleAlg="average",
        bandList=[1, 2, 3],
    )
    assert ds is not None
    ds = None
    out = tmp_path / "sr.tif"
    res = super_resolve(
        lr,
        out,
        scale=None,
        guide=guide,
        guide_band=2,
        adapt_steps=2,
        model=tiny_model,
        device="cpu",
    )
    values, o = read(out)
    g = gdal.Open(str(guide))
    assert (o.RasterXSize, o.RasterYSize, o.RasterCount) == (64, 48, 3)
    assert o.GetGeoTransform() == pytest.approx(g.GetGeoTransform())
    assert res.mode == "guided" and res.scale == 2 and res.band_groups == [[0, 1, 2]]
    assert res.adapt[0].steps == 2
    assert values.dtype == np.uint8


def test_nodata_propagates_from_input_and_guide(
    shared_data: Path, tiny_model: Path, tmp_path: Path
) -> None:
    lr = crop(shared_data, RGBN, tmp_path / "lr.tif", (300, 200, 40, 32))
    ds = gdal.Open(str(lr), gdal.GA_Update)
    arr = ds.ReadAsArray()
    arr = np.maximum(arr, 1)  # no accidental nodata
    arr[:, 5:9, 10:16] = 0
    for b in range(4):
        ds.GetRasterBand(b + 1).WriteArray(arr[b])
        ds.GetRasterBand(b + 1).SetNoDataValue(0)
    ds = None
    guide = tmp_path / "guide.tif"
    ds = gdal.Translate(
        str(guide),
        str(lr),
        width=80,
        height=64,
        resampleAlg="bilinear",
        bandList=[4],
        outputType=gdal.GDT_Float32,
        noData="none",
    )
    garr = ds.ReadAsArray()
    garr[40:50, 60:70] = -1.0
    ds.GetRasterBand(1).WriteArray(garr)
    ds.GetRasterBand(1).SetNoDataValue(-1.0)
    ds = None
    expected = np.zeros((64, 80), bool)
    expected[10:18, 20:32] = True  # input hole at x2
    out_u = tmp_path / "u.tif"
    res = super_resolve(lr, out_u, scale=2, adapt_steps=0, model=tiny_model, device="cpu")
    values, o = read(out_u)
    assert res.nodata == 0 and o.GetRasterBand(1).GetNoDataValue() == 0
    np.testing.assert_array_equal((values == 0).all(axis=0), expected)
    assert not (values[:, ~expected] == 0).any()
    out_g = tmp_path / "g.tif"
    super_resolve(lr, out_g, scale=2, guide=guide, adapt_steps=0, model=tiny_model, device="cpu")
    values, _ = read(out_g)
    expected[40:50, 60:70] = True  # plus the guide's hole
    np.testing.assert_array_equal((values == 0).all(axis=0), expected)


def test_three_band_input_runs_through_a_four_band_model(
    shared_data: Path, tiny_model: Path, tmp_path: Path
) -> None:
    lr = crop(shared_data, LANDSAT, tmp_path / "rgb.tif", (300, 300, 40, 36))
    out = tmp_path / "sr.tif"
    res = super_resolve(lr, out, scale=4, adapt_steps=1, model=tiny_model, device="cpu")
    values, o = read(out)
    assert values.shape == (3, 144, 160)
    assert res.band_groups == [[0, 1, 2]] and res.adapt[0].steps == 1


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("scale5", "Scale 5 is not supported"),
        ("not_covering", "does not cover"),
        ("non_integer", "divided by an integer"),
        ("scale_mismatch", "Scale 4 was asked for"),
        ("shifted", "shifted"),
        ("other_crs", "reproject the guide"),
        ("both_budgets", "not both"),
        ("band_out_of_range", "--guide-band 3 is out of range"),
    ],
)
def test_bad_inputs_raise_and_write_nothing(
    case: str, message: str, rgbn: Path, tiny_model: Path, tmp_path: Path
) -> None:
    work = tmp_path / "out"
    work.mkdir()
    src = gdal.Open(str(rgbn))
    x0, px, _, y0, _, py = src.GetGeoTransform()
    kw: dict = {"scale": 2, "adapt_steps": 0}

    def guide_like(width: int, height: int, gt: tuple, epsg: int = 32618) -> Path:
        path = tmp_path / "guide.tif"
        ds = gdal.GetDriverByName("GTiff").Create(str(path), width, height, 2, gdal.GDT_Byte)
        ds.SetGeoTransform(gt)
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
        ds.GetRasterBand(1).Fill(100)
        ds = None
        return path

    if case == "scale5":
        kw["scale"] = 5
    elif case == "not_covering":
        kw["guide"] = guide_like(90, 80, (x0, px / 2, 0, y0, 0, py / 2))
    elif case == "non_integer":
        kw["guide"] = guide_like(120, 100, (x0, px / 2.5, 0, y0, 0, py / 2.5))
    elif case == "scale_mismatch":
        kw["guide"] = guide_like(96, 80, (x0, px / 2, 0, y0, 0, py / 2))
        kw["scale"] = 4
    elif case == "shifted":
        kw["guide"] = guide_like(100, 84, (x0 - px / 8, px / 2, 0, y0, 0, py / 2))
    elif case == "other_crs":
        kw["guide"] = guide_like(96, 80, (x0, px / 2, 0, y0, 0, py / 2), epsg=32617)
    elif case == "both_budgets":
        kw["adapt_seconds"] = 5.0
        kw["adapt_steps"] = 3
    elif case == "band_out_of_range":
        kw["guide"] = guide_like(96, 80, (x0, px / 2, 0, y0, 0, py / 2))
        kw["guide_band"] = 3
    with pytest.raises(InputError, match=message):
        super_resolve(rgbn, work / "sr.tif", model=tiny_model, device="cpu", **kw)
    assert leftovers(work) == []


def test_output_onto_the_input_is_refused(rgbn: Path, tiny_model: Path) -> None:
    before = rgbn.read_bytes()
    with pytest.raises(OutputError, match="is the input raster"):
        super_resolve(rgbn, rgbn, scale=2, adapt_steps=0, model=tiny_model, device="cpu")
    assert rgbn.read_bytes() == before


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", "sr", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_runs_and_fails_with_one_line(rgbn: Path, tiny_model: Path, tmp_path: Path) -> None:
    if not (REPO / "backend" / "cli.py").is_file():
        pytest.skip("backend/cli.py is not there yet")
    out = tmp_path / "cli.tif"
    ok = _cli(
        "--input",
        str(rgbn),
        "--scale",
        "2",
        "--out",
        str(out),
        "--adapt-steps",
        "0",
        "--model",
        str(tiny_model),
        "--device",
        "cpu",
    )
    assert ok.returncode == 0, ok.stderr
    assert gdal.Open(str(out)).RasterXSize == 96
    bad = _cli("--input", str(rgbn), "--scale", "5", "--out", str(tmp_path / "bad.tif"))
    assert bad.returncode != 0
    assert "Scale 5 is not supported" in bad.stderr + bad.stdout
    assert not (tmp_path / "bad.tif").exists()


def test_array_entry_point_matches_the_file_one(
    shared_data: Path, tiny_model: Path, tmp_path: Path
) -> None:
    from backend.sr import super_resolve_arrays

    lr_path = crop(
        shared_data, RGBN, tmp_path / "f32.tif", (10, 20, 40, 36), outputType=gdal.GDT_Float32
    )
    out = tmp_path / "sr.tif"
    kw = {"scale": 2, "adapt_steps": 2, "model": tiny_model, "device": "cpu", "tile": 48}
    torch.manual_seed(0)
    res = super_resolve(lr_path, out, **kw)
    from_file, _ = read(out)
    lr, _ = read(lr_path)
    torch.manual_seed(0)
    from_arrays, reports = super_resolve_arrays(lr, **kw)
    assert reports[0].loss_after == pytest.approx(res.adapt[0].loss_after, rel=1e-4)
    np.testing.assert_allclose(from_arrays, from_file, rtol=1e-4, atol=1e-3)


def test_trunk_then_head_is_the_network() -> None:
    from backend.sr_adapt import head, trunk

    torch.manual_seed(1)
    net = MMMamba(MMMambaConfig.tiny(ms_bands=3, ratio=2)).eval()
    pan, ms = torch.rand(2, 1, 22, 26), torch.rand(2, 3, 11, 13)  # not window multiples
    with torch.no_grad():
        np.testing.assert_allclose(
            head(net, *trunk(net, pan, ms))[..., :22, :26].numpy(), net(pan, ms).numpy(), atol=1e-5
        )


@pytest.mark.parametrize("layers", ["head", "tail", "all"])
def test_adaptation_of_either_layer_set_lowers_its_loss(rgbn: Path, layers: str) -> None:
    from backend.sr_adapt import adapt_network, make_region

    values, _ = read(rgbn)
    ms = (values / 255.0).astype(np.float32)
    region = make_region(ms, np.ones(ms.shape[1:], bool), 2)
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(ms_bands=4, ratio=2))
    rep = adapt_network(net, [region], 2, steps=6, layers=layers, patch=32)
    assert rep.layers == layers and rep.steps == 6
    assert rep.train_last < rep.train_first
    # judged on target pixels it never trained on: the kept weights are the best seen
    assert rep.loss_after < rep.loss_before and rep.best_step == 6


def test_time_budget_and_cancellation(rgbn: Path, tiny_model: Path, tmp_path: Path) -> None:
    from backend.errors import Cancelled
    from backend.sr import super_resolve_arrays

    lr, _ = read(rgbn)
    out, reports = super_resolve_arrays(
        lr, scale=2, adapt_seconds=2.0, model=tiny_model, device="cpu"
    )
    assert out.shape == (4, 80, 96) and np.isfinite(out).all()
    assert len(reports) == 1 and reports[0].layers == CPU_LAYERS  # CPU: frozen scan features
    _, none = super_resolve_arrays(lr, scale=2, adapt_seconds=0, model=tiny_model, device="cpu")
    assert none == []

    class CancelDuringAdaptation:
        def __init__(self) -> None:
            self.calls = 0

        def set_fraction(self, fraction: float) -> None:
            self.calls += 1

        def info(self, message: str) -> None:
            pass

        def is_cancelled(self) -> bool:
            return self.calls >= 2

    work = tmp_path / "cancel"
    work.mkdir()
    with pytest.raises(Cancelled):
        super_resolve(
            rgbn,
            work / "sr.tif",
            scale=2,
            adapt_steps=50,
            model=tiny_model,
            device="cpu",
            progress=CancelDuringAdaptation(),
        )
    assert leftovers(work) == []

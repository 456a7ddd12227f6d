"""Band matching, geometric self-ensemble, deeper frozen-feature adaptation and guide matching of
zero-shot super-resolution, on real imagery crops with tiny networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

torch = pytest.importorskip("torch")

from backend.model.config import MMMambaConfig  # noqa: E402
from backend.model.network import MMMamba  # noqa: E402
from backend.model.store import ModelCard, save_model  # noqa: E402
from backend.sr import band_groups, super_resolve, super_resolve_arrays  # noqa: E402
from backend.sr_adapt import adapt_network, head, make_region, tail, trunk  # noqa: E402
from backend.sr_bands import band_name, canonical_name, match_bands  # noqa: E402
from backend.sr_ensemble import dihedral, dihedral_inverse, ensemble_forward  # noqa: E402

RGBN = "ms_only/rgbn_5m_uint8.tif"
BGRN = ["blue", "green", "red", "nir"]


@pytest.fixture(scope="module")
def named_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random 4-band network whose card lists its bands as blue, green, red, nir."""
    torch.manual_seed(3)
    net = MMMamba(MMMambaConfig.tiny(ms_bands=4, ratio=4))
    path = tmp_path_factory.mktemp("model") / "tiny-bgrn.safetensors"
    save_model(path, net, ModelCard(name="tiny-bgrn", bands=BGRN))
    return path


def test_band_names_from_descriptions_and_colour_interpretation() -> None:
    assert [canonical_name(t) for t in ("Red", "Green", "Blue", "Undefined", "Gray")] == [
        "red",
        "green",
        "blue",
        None,
        None,
    ]
    assert canonical_name("Near Infrared") == "nir" and canonical_name("NIR1") == "nir"
    assert canonical_name("Red Edge") == "rededge"
    assert band_name("nir", "Undefined") == "nir" and band_name("", "Blue") == "blue"


def test_band_matching_feeds_the_model_order_and_keeps_the_input_order() -> None:
    # R, G, B, unnamed -> network (B, G, R, N): the unnamed band takes the free NIR slot
    idx, keep = match_bands(["red", "green", "blue", None], BGRN)
    assert idx == [2, 1, 0, 3] and keep == [2, 1, 0, 3]
    # every input band comes back once, at its own place
    assert [idx[k] for k in keep] == [0, 1, 2, 3]
    # RGB: the missing NIR slot repeats the band nearest in wavelength (red)
    idx, keep = match_bands(["red", "green", "blue"], BGRN)
    assert idx == [2, 1, 0, 0] and [idx[k] for k in keep] == [0, 1, 2]
    # nothing named, or more bands than the model: the order is left alone
    assert match_bands([None] * 4, BGRN) is None
    assert match_bands(["red"] * 5, BGRN) is None
    assert band_groups(4, 4) == [([0, 1, 2, 3], [0, 1, 2, 3])]


def _write(path: Path, values: np.ndarray, names: list[int], like: gdal.Dataset) -> Path:
    ds = gdal.GetDriverByName("GTiff").Create(
        str(path), values.shape[2], values.shape[1], values.shape[0], gdal.GDT_Byte
    )
    ds.SetGeoTransform(like.GetGeoTransform())
    ds.SetProjection(like.GetProjection())
    for b, (v, ci) in enumerate(zip(values, names, strict=True)):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(v)
        band.SetColorInterpretation(ci)
    ds = None
    return path


def test_band_order_round_trip(shared_data: Path, named_model: Path, tmp_path: Path) -> None:
    """An RGBN file and the same pixels stored as BGRN give the same bands, each in its place."""
    src = gdal.Open(str(shared_data / RGBN))
    rgbn = src.ReadAsArray(150, 120, 40, 32)
    ci = [gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand, gdal.GCI_Undefined]
    sub = gdal.Translate("", src, format="MEM", srcWin=[150, 120, 40, 32])
    a = _write(tmp_path / "rgbn.tif", rgbn, ci, sub)
    b = _write(tmp_path / "bgrn.tif", rgbn[[2, 1, 0, 3]], [ci[i] for i in (2, 1, 0, 3)], sub)
    kw = {"scale": 2, "adapt_steps": 0, "model": named_model, "device": "cpu", "ensemble": 1}
    kw["backproject"] = 0
    super_resolve(a, tmp_path / "a.tif", **kw)
    super_resolve(b, tmp_path / "b.tif", **kw)
    out_a = gdal.Open(str(tmp_path / "a.tif")).ReadAsArray()
    out_b = gdal.Open(str(tmp_path / "b.tif")).ReadAsArray()
    # equal up to the rounding to uint8 of float results computed in another band order
    diff = np.abs(out_a.astype(int) - out_b[[2, 1, 0, 3]].astype(int))
    assert diff.max() <= 1 and diff.mean() < 1e-3
    # and it matters: without band names the network sees red where it expects blue
    lr = rgbn.astype(np.float32)
    named, _ = super_resolve_arrays(lr, band_names=["red", "green", "blue", None], **kw)
    unnamed, _ = super_resolve_arrays(lr, **kw)
    np.testing.assert_allclose(np.clip(named, 0, 255), out_a, atol=0.51)  # file: uint8
    assert np.abs(named - unnamed).mean() > 0.1


def test_dihedral_views_invert_and_the_ensemble_is_equivariant() -> None:
    x = torch.rand(2, 3, 5, 7)
    assert len({tuple(dihedral(x, k).flatten().tolist()) for k in range(8)}) == 8
    for k in range(8):
        assert torch.equal(dihedral_inverse(dihedral(x, k), k), x)
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(ms_bands=4, ratio=2)).eval()
    pan, ms = torch.rand(1, 1, 24, 32), torch.rand(1, 4, 12, 16)
    with torch.no_grad():
        one = ensemble_forward(net, pan, ms, 1)
        full = ensemble_forward(net, pan, ms, 8)
        assert full.shape == one.shape == (1, 4, 24, 32)
        assert torch.equal(one, net(pan, ms))
        # the network alone is not equivariant (directional scans), its 8-view mean is
        k = 5
        turned = net(dihedral(pan, k), dihedral(ms, k))
        assert (dihedral_inverse(turned, k) - one).abs().max() > 1e-3
        turned_mean = ensemble_forward(net, dihedral(pan, k), dihedral(ms, k), 8)
        np.testing.assert_allclose(dihedral_inverse(turned_mean, k), full, atol=1e-5)


def test_tail_split_is_the_network() -> None:
    torch.manual_seed(1)
    net = MMMamba(MMMambaConfig.tiny(ms_bands=3, ratio=2)).eval()
    pan, ms = torch.rand(2, 1, 22, 26), torch.rand(2, 3, 11, 13)
    with torch.no_grad():
        got = head(net, *tail(net, *trunk(net, pan, ms, "tail")))[..., :22, :26]
        np.testing.assert_allclose(got.numpy(), net(pan, ms).numpy(), atol=1e-5)


@pytest.mark.parametrize("layers", ["head", "tail"])
def test_frozen_adaptation_trains_its_layers_only(shared_data: Path, layers: str) -> None:
    values = gdal.Open(str(shared_data / RGBN)).ReadAsArray(200, 150, 48, 40)
    ms = (values / 255.0).astype(np.float32)
    region = make_region(ms, np.ones(ms.shape[1:], bool), 2)
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(ms_bands=4, ratio=2))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rep = adapt_network(net, [region], 2, steps=8, layers=layers, patch=32, views=4)
    assert rep.layers == layers and rep.train_last < rep.train_first
    changed = {k for k, v in net.state_dict().items() if not torch.equal(v, before[k])}
    last = f"blocks.{len(net.blocks) - 1}."
    tail_changed = {k for k in changed if k.startswith(last + "ffn") or "norm2" in k}
    head_changed = {k for k in changed if k.startswith(("fusion", "head_"))}
    assert head_changed, "the head must train"
    if rep.best_step:
        assert (len(tail_changed) > 0) == (layers == "tail")
    frozen = changed - tail_changed - head_changed
    assert frozen == set(), f"frozen weights moved: {sorted(frozen)}"


def test_guide_matching_brings_the_guide_to_the_input_luminance(shared_data: Path) -> None:
    from backend.normalize import stats_from_arrays
    from backend.sr import _matched_guide

    ms = gdal.Open(str(shared_data / RGBN)).ReadAsArray(100, 100, 40, 40).astype(np.float32)
    guide = np.kron(ms[3], np.ones((2, 2), np.float32)) * 7.0 + 100.0  # NIR, other units
    stats = stats_from_arrays(guide, ms)

    def read(_win):
        return guide, np.ones(guide.shape, bool)

    matched, _ = _matched_guide(read, guide.ravel(), ms.reshape(4, -1), stats)(None)
    pan_n = matched / stats.pan_scale
    lum = (ms / np.asarray(stats.ms_scales, np.float32)[:, None, None]).mean(axis=0)
    assert pan_n.mean() == pytest.approx(lum.mean(), rel=1e-3)
    assert pan_n.std() == pytest.approx(lum.std(), rel=2e-2)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_back_projection_makes_the_output_consistent_with_the_input(
    shared_data: Path, scale: int
) -> None:
    from backend.sr_adapt import centred_degrade
    from backend.sr_backproject import back_project, degrade

    ref = gdal.Open(str(shared_data / RGBN)).ReadAsArray(40, 60, 96, 96).astype(np.float32) / 255
    lr = centred_degrade(ref, scale, 0.3)
    # the torch degradation is the one adaptation trains with
    got = degrade(torch.from_numpy(ref)[None], scale, [0.3] * 4)[0].numpy()
    np.testing.assert_allclose(got, lr, atol=1e-5)
    from backend.model.upsample import upsample_ms

    lr_t = torch.from_numpy(lr)[None]
    sr = upsample_ms(lr_t, scale)  # a blurry first guess
    before = (degrade(sr, scale, [0.3] * 4) - lr_t).abs().mean()
    bp = back_project(sr, lr_t, scale, [0.3] * 4, 5)
    after = (degrade(bp, scale, [0.3] * 4) - lr_t).abs().mean()
    assert after < 0.5 * before
    # and here it brings the guess closer to the truth
    truth = torch.from_numpy(ref)[None]
    assert (bp - truth).abs().mean() < (sr - truth).abs().mean()

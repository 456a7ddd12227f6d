"""The MMMamba network on small real-size inputs: shapes, finiteness, padding, determinism."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from backend.errors import InputError
from backend.model import layers, mixer
from backend.model.config import MMMambaConfig
from backend.model.network import MMMamba
from backend.model.upsample import upsample_ms


def _net(ms_bands: int = 4, ratio: int = 4, seed: int = 0) -> MMMamba:
    torch.manual_seed(seed)
    return MMMamba(MMMambaConfig.tiny(ms_bands, ratio)).eval()


def _inputs(ms_bands: int, ratio: int, h: int, w: int, batch: int = 1, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    ms = torch.rand(batch, ms_bands, h, w, generator=g)
    pan = torch.rand(batch, 1, h * ratio, w * ratio, generator=g)
    return pan, ms


@pytest.mark.parametrize(
    ("ms_bands", "ratio", "h", "w"),
    [(1, 2, 5, 7), (3, 3, 4, 5), (4, 4, 3, 6), (8, 4, 4, 4), (16, 8, 2, 3), (4, 8, 1, 1)],
)
def test_output_shape_and_finite_for_any_bands_ratio_and_size(
    ms_bands: int, ratio: int, h: int, w: int
) -> None:
    net = _net(ms_bands, ratio)
    pan, ms = _inputs(ms_bands, ratio, h, w, batch=2)
    with torch.no_grad():
        out = net(pan, ms)
    assert out.shape == (2, ms_bands, h * ratio, w * ratio)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()
    # the global residual makes the output differ from the upsampled MS, but not wildly
    up = upsample_ms(ms, ratio)
    assert 0 < (out - up).abs().mean() < 10


def test_default_config_size_and_forward() -> None:
    torch.manual_seed(0)
    net = MMMamba().eval()
    n_params = sum(p.numel() for p in net.parameters())
    assert 250_000 < n_params < 400_000  # about 0.3 M with 4 bands
    pan, ms = _inputs(4, 4, 4, 4)
    with torch.no_grad():
        out = net(pan, ms)
    assert out.shape == (1, 4, 16, 16) and torch.isfinite(out).all()


def test_deterministic() -> None:
    net = _net(3, 3)
    pan, ms = _inputs(3, 3, 5, 6)
    with torch.no_grad():
        a, b = net(pan, ms), net(pan, ms)
        c = _net(3, 3)(pan, ms)  # same seed, same weights, same output
    assert torch.equal(a, b)
    assert torch.equal(a, c)


def test_internal_padding_equals_reflect_padding_then_crop() -> None:
    """15 x 21 is not a multiple of the 4-pixel window: the network pads by reflection and
    crops. Padding by hand and running the aligned network must give exactly that crop."""
    net = _net(3, 3)
    pan, ms = _inputs(3, 3, 5, 7)
    with torch.no_grad():
        out = net(pan, ms)
        up = upsample_ms(ms, 3)
        pad = (0, 3, 0, 1)  # 15 x 21 -> 16 x 24
        ref = net.forward_aligned(F.pad(pan, pad, mode="reflect"), F.pad(up, pad, mode="reflect"))
    assert out.shape == (1, 3, 15, 21)
    assert torch.equal(out, ref[..., :15, :21])


def test_batch_items_are_independent() -> None:
    net = _net(4, 2)
    pan, ms = _inputs(4, 2, 6, 4, batch=3)
    with torch.no_grad():
        both = net(pan, ms)
        one = net(pan[1:2], ms[1:2])
    assert torch.allclose(both[1:2], one, atol=1e-5, rtol=1e-5)


def test_streamed_inference_equals_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inference processes large maps in strips and streams the scan by stretches of tokens;
    with small thresholds that path runs here on a small map and must match training's path."""
    monkeypatch.setattr(layers, "STRIP_MIN_PIXELS", 64)
    monkeypatch.setattr(layers, "STRIP_PIXELS", 7 * 20)
    monkeypatch.setattr(mixer, "STREAM_TOKENS", 300)
    net = _net(4, 4)
    pan, ms = _inputs(4, 4, 6, 5)
    with torch.no_grad():
        streamed = net(pan, ms)
    full = net(pan, ms).detach()  # gradients on: whole-tensor path
    assert torch.allclose(streamed, full, atol=1e-5, rtol=1e-5)


def test_chunked_network_equals_oracle_network() -> None:
    net = _net(4, 4)
    pan, ms = _inputs(4, 4, 3, 3)
    with torch.no_grad():
        net.set_scan("oracle")
        ref = net(pan, ms)
        net.set_scan("chunked", chunk=5)
        got = net(pan, ms)
    assert torch.allclose(got, ref.float(), atol=1e-5, rtol=1e-5)


def test_training_step_on_cpu() -> None:
    net = _net(4, 4).train()
    pan, ms = _inputs(4, 4, 4, 4, batch=2)
    target = torch.rand(2, 4, 16, 16)
    loss = F.l1_loss(net(pan, ms), target)
    loss.backward()
    grads = {n: p.grad for n, p in net.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    for name in ("A_log", "dt_bias", "x_proj_weight", "in_proj_pan.weight"):
        g = next(v for k, v in grads.items() if k.endswith(name))
        assert g.abs().sum() > 0, name


def test_training_gradients_of_the_chunked_scan_match_the_oracle() -> None:
    """Every parameter's gradient through the chunked scan's backward pass (recomputed stretch
    by stretch) equals the one autograd finds through the float64 sequential oracle."""
    net = _net(4, 4).train()
    pan, ms = _inputs(4, 4, 4, 4, batch=2)
    target = torch.rand(2, 4, 16, 16, generator=torch.Generator().manual_seed(3))

    def grads() -> dict[str, torch.Tensor]:
        net.zero_grad(set_to_none=True)
        F.l1_loss(net(pan, ms), target).backward()
        return {n: p.grad.clone() for n, p in net.named_parameters()}

    net.set_scan("oracle")
    ref = grads()
    net.set_scan("chunked", chunk=5)
    got = grads()
    for name, g in got.items():
        err = (g - ref[name]).norm() / ref[name].norm().clamp_min(1e-12)
        assert err < 1e-4, (name, float(err))


def test_wrong_inputs_are_refused() -> None:
    net = _net(4, 4)
    pan, ms = _inputs(4, 4, 4, 4)
    with pytest.raises(InputError):
        net(pan, ms[:, :3])  # band count
    with pytest.raises(InputError):
        net(pan[..., :15], ms)  # not ratio x MS
    with pytest.raises(InputError):
        net(pan.repeat(1, 2, 1, 1), ms)  # two-band PAN


def test_config_round_trip_and_validation() -> None:
    cfg = MMMambaConfig(ms_bands=8, ratio=2)
    assert MMMambaConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.d_inner == 85 and cfg.dt_rank == 2
    with pytest.raises(InputError):
        MMMambaConfig(ms_bands=17)
    with pytest.raises(InputError):
        MMMambaConfig(upsample="lanczos")


def test_mixer_streamed_and_full_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mixer alone: inference path (strips, stretches of tokens, token-major buffers) equals
    the whole-tensor path on a non-square map, as does the in-place residual form."""
    monkeypatch.setattr(layers, "STRIP_MIN_PIXELS", 16)
    monkeypatch.setattr(layers, "STRIP_PIXELS", 3 * 12)
    monkeypatch.setattr(mixer, "STREAM_TOKENS", 50)
    torch.manual_seed(3)
    mix = mixer.MIMixer(width=8, d_inner=12, d_state=4, dt_rank=1, window=4)
    m, p = torch.randn(2, 8, 8, 12), torch.randn(2, 8, 8, 12)
    full_m, full_p = mix(m, p)  # gradients on: whole-tensor path
    with torch.no_grad():
        st_m, st_p = mix(m, p)
        norm = layers.BiasFreeLayerNorm2d(8)
        ref_m, ref_p = mix(norm(m), norm(p))
        res_m, res_p = mix.residual(m.clone(), p.clone(), norm, norm)
    assert torch.allclose(st_m, full_m, atol=1e-5) and torch.allclose(st_p, full_p, atol=1e-5)
    assert torch.allclose(res_m, m + ref_m, atol=1e-5)
    assert torch.allclose(res_p, p + ref_p, atol=1e-5)

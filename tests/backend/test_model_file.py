"""Model files: safetensors + JSON card round trip, and refusal of anything that does not match."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from backend.errors import InputError, ModelFileError, OutputError
from backend.model.config import MMMambaConfig
from backend.model.network import MMMamba
from backend.model.registry import list_models, resolve_model
from backend.model.store import ModelCard, load_model, save_model, sha256_file


def _card(name: str = "tiny4") -> ModelCard:
    return ModelCard(
        name=name,
        bands=["blue", "green", "red", "nir"],
        sensors=["WorldView-2"],
        normalisation={"method": "p99.5", "per_band": True},
        training={"scenes": ["a", "b"], "epochs": 1},
        metrics={"val": {"Q2n": 0.9, "SAM": 3.1}},
        description="tiny test model",
    )


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, MMMamba, ModelCard]:
    torch.manual_seed(0)
    net = MMMamba(MMMambaConfig.tiny(4, 4)).eval()
    card = save_model(tmp_path / "tiny4.safetensors", net, _card())
    return tmp_path / "tiny4.safetensors", net, card


def _rewrite_card(weights: Path, **changes) -> None:
    cpath = weights.with_suffix(".json")
    d = json.loads(cpath.read_text())
    d.update(changes)
    cpath.write_text(json.dumps(d))


def test_round_trip_restores_card_and_outputs(saved) -> None:
    path, net, card = saved
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny4.json", "tiny4.safetensors"]
    assert card.sha256 == sha256_file(path)
    loaded = load_model(path)
    assert loaded.card == card  # every stored field, `path` aside
    assert loaded.card.config == net.cfg.to_dict() and loaded.card.ratio == 4
    assert not loaded.net.training
    pan, ms = torch.rand(1, 1, 8, 12), torch.rand(1, 4, 2, 3)
    with torch.no_grad():
        assert torch.equal(loaded.net(pan, ms), net(pan, ms))
    # the card is plain JSON that a person can read
    assert json.loads(path.with_suffix(".json").read_text())["bands"][3] == "nir"


def test_tampered_weights_are_refused(saved) -> None:
    path = saved[0]
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(path)


def test_wrong_keys_are_refused_even_with_a_matching_checksum(saved) -> None:
    path, net, _ = saved
    tensors = {k: v.contiguous() for k, v in net.state_dict().items()}
    tensors["extra.weight"] = torch.zeros(3)
    del tensors["head_out.bias"]
    save_file(tensors, str(path))
    _rewrite_card(path, sha256=sha256_file(path))
    with pytest.raises(ModelFileError, match="missing.*head_out.bias.*unexpected.*extra.weight"):
        load_model(path)


def test_wrong_shapes_are_refused(saved) -> None:
    path = saved[0]
    cfg = MMMambaConfig.tiny(4, 4).to_dict()
    cfg["d_state"] = 6  # card says N = 6, weights have N = 4
    _rewrite_card(path, config=cfg)
    with pytest.raises(ModelFileError, match="shape"):
        load_model(path)


def test_invalid_or_unknown_config_is_refused(saved) -> None:
    path = saved[0]
    cfg = MMMambaConfig.tiny(4, 4).to_dict()
    _rewrite_card(path, config={**cfg, "heads": 2})
    with pytest.raises(ModelFileError, match="unknown keys"):
        load_model(path)
    _rewrite_card(path, config={**cfg, "ms_bands": 40})
    with pytest.raises(ModelFileError, match="invalid config"):
        load_model(path)


class _Trap:
    """Unpickling this object would create a file next to the model."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_is_never_unpickled(saved) -> None:
    path = saved[0]
    marker = path.parent / "unpickled"
    path.write_bytes(pickle.dumps({"w": _Trap(marker)}))
    _rewrite_card(path, sha256=sha256_file(path))  # even with a valid checksum
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not marker.exists()


def test_missing_card_or_weights_are_refused(saved) -> None:
    path = saved[0]
    path.with_suffix(".json").unlink()
    with pytest.raises(ModelFileError, match="card"):
        load_model(path)
    with pytest.raises(ModelFileError, match="not found"):
        load_model(path.parent / "nothing.safetensors")


def test_save_refuses_bad_targets(tmp_path: Path) -> None:
    net = MMMamba(MMMambaConfig.tiny(4, 4))
    with pytest.raises(InputError):
        save_model(tmp_path / "m.pt", net, _card())
    with pytest.raises(InputError):
        save_model(tmp_path / "m.safetensors", net, ModelCard(name="m", bands=["a", "b"]))
    with pytest.raises(OutputError):
        save_model(tmp_path / "no" / "m.safetensors", net, _card())
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_registry_finds_models_by_name_path_and_band_count(saved) -> None:
    path, _, _ = saved
    folder = path.parent
    save_model(
        folder / "tiny3.safetensors",
        MMMamba(MMMambaConfig.tiny(3, 4)),
        ModelCard(name="tiny3", bands=["b", "g", "r"]),
    )
    names = {c.name for c in list_models([folder])}
    assert {"tiny3", "tiny4"} <= names
    assert resolve_model("tiny3", extra_dirs=[folder]) == folder / "tiny3.safetensors"
    assert resolve_model(str(path.with_suffix(".json"))) == path
    chosen = resolve_model(None, ms_bands=3, extra_dirs=[folder])
    assert load_model(chosen).card.ms_bands == 3
    with pytest.raises(ModelFileError, match="No installed model takes 15-band"):
        resolve_model(None, ms_bands=15, extra_dirs=[folder])
    with pytest.raises(ModelFileError, match="No model named"):
        resolve_model("nope", extra_dirs=[folder])
    assert load_model("tiny4", extra_dirs=(folder,)).card.name == "tiny4"

"""Model files: weights in safetensors beside a JSON model card; never pickle.

`X.safetensors` holds the state dict; `X.json` holds the `ModelCard`, whose `sha256` is the
checksum of `X.safetensors`. Loading checks the checksum, the config and every key and shape
before any weight reaches the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch

from ..errors import InputError, ModelFileError, OutputError
from .config import MMMambaConfig
from .network import MMMamba

log = logging.getLogger(__name__)

CARD_FORMAT = "mmmamba-model-card/1"


@dataclass
class ModelCard:
    """What a model is, what it expects and how it was made (stored as `X.json`).

    Attributes:
        name: Short unique name (the file stem by convention).
        config: `MMMambaConfig.to_dict()` of the network.
        bands: MS band names in the order the network expects them.
        sensors: Sensor(s) the model was trained on.
        ratio: PAN/MS resolution ratio.
        normalisation: How inputs are normalised (method and parameters).
        training: Training data and recipe.
        metrics: Validation metrics (reduced and/or full resolution).
        sha256: Hex checksum of the weights file.
        description: One or two sentences for users.
        format: Card format version.
        path: Where the weights were found (set when loaded or listed; not stored).
    """

    name: str
    config: dict[str, Any] = field(default_factory=dict)
    bands: list[str] = field(default_factory=list)
    sensors: list[str] = field(default_factory=list)
    ratio: int = 4
    normalisation: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    description: str = ""
    format: str = CARD_FORMAT
    path: Path | None = field(default=None, compare=False)

    @property
    def ms_bands(self) -> int:
        """Number of MS bands the network takes."""
        return int(self.config.get("ms_bands", len(self.bands)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary (without `path`)."""
        d = asdict(self)
        d.pop("path")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], path: Path | None = None) -> ModelCard:
        """Build from a parsed card; unknown keys are kept out with a warning."""
        known = {f.name for f in fields(cls)} - {"path"}
        extra = sorted(set(d) - known)
        if extra:
            log.warning("model card %s: ignoring unknown keys %s", path, extra)
        if "name" not in d:
            raise ModelFileError(f"The model card {path} has no 'name'; it is not a model card.")
        return cls(**{k: v for k, v in d.items() if k in known}, path=path)


@dataclass
class LoadedModel:
    """A network ready for inference (eval mode) with its card."""

    net: MMMamba
    card: ModelCard


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            h.update(piece)
    return h.hexdigest()


def card_path(weights: Path) -> Path:
    """The card beside a weights file: `X.safetensors` -> `X.json`."""
    return weights.with_suffix(".json")


def save_model(path: str | Path, net: MMMamba, card: ModelCard) -> ModelCard:
    """Write `X.safetensors` and `X.json` atomically (temporary files, then rename).

    Args:
        path: Target weights path ending in `.safetensors`.
        net: The network; its config is written into the card.
        card: Card to store; `config`, `ratio` and `sha256` are filled in here.

    Returns:
        The card as written (with its checksum and `path`).
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise InputError(f"Model files end in .safetensors, got {path.name}.")
    cfg = net.cfg
    bands = list(card.bands) or [f"B{i + 1}" for i in range(cfg.ms_bands)]
    if len(bands) != cfg.ms_bands:
        raise InputError(f"The card names {len(bands)} bands but the network takes {cfg.ms_bands}.")
    tensors = {
        k: v.detach().to("cpu", torch.float32).contiguous() for k, v in net.state_dict().items()
    }
    if not path.parent.is_dir():
        raise OutputError(f"Folder {path.parent} does not exist; create it first.")
    tmp_w = tmp_c = None
    try:
        fd, tmp_w = tempfile.mkstemp(suffix=".safetensors.tmp", dir=path.parent)
        os.close(fd)
        save_file(tensors, tmp_w, metadata={"format": "pt", "card_format": CARD_FORMAT})
        card = replace(
            card,
            config=cfg.to_dict(),
            ratio=cfg.ratio,
            bands=bands,
            sha256=sha256_file(Path(tmp_w)),
        )
        fd, tmp_c = tempfile.mkstemp(suffix=".json.tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(card.to_dict(), f, indent=2, sort_keys=False)
            f.write("\n")
        os.replace(tmp_w, path)
        tmp_w = None
        os.replace(tmp_c, card_path(path))
        tmp_c = None
    except OSError as exc:
        raise OutputError(f"Cannot write the model to {path}: {exc}.") from exc
    finally:
        for t in (tmp_w, tmp_c):
            if t is not None and os.path.exists(t):
                os.remove(t)
    log.info("saved model %s (%s)", card.name, path)
    return replace(card, path=path)


def read_card(path: str | Path) -> ModelCard:
    """Read the card of a weights file (`X.safetensors` or `X.json`) without checking weights."""
    path = Path(path)
    weights = path.with_suffix(".safetensors") if path.suffix == ".json" else path
    cpath = card_path(weights)
    try:
        d = json.loads(cpath.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(
            f"The model card {cpath} is missing; a model is a .safetensors file with its .json."
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"The model card {cpath} cannot be read: {exc}.") from exc
    if not isinstance(d, dict):
        raise ModelFileError(f"The model card {cpath} is not a JSON object.")
    return ModelCard.from_dict(d, path=weights)


def load_model(
    path_or_name: str | Path | None = None,
    device: str | torch.device = "cpu",
    ms_bands: int | None = None,
    extra_dirs: tuple[str | Path, ...] = (),
) -> LoadedModel:
    """Load and verify a model.

    Args:
        path_or_name: A `.safetensors` (or `.json`) path, a shipped model name, or None for the
            shipped model that fits `ms_bands`.
        device: Where to put the network.
        ms_bands: Band count used to pick a shipped model when `path_or_name` is None.
        extra_dirs: More folders of models to search by name.

    Returns:
        The network in eval mode and its card.

    Raises:
        ModelFileError: Missing files, checksum mismatch (tampered or truncated weights), an
            invalid config, or weights whose keys or shapes do not match the config.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .registry import resolve_model

    weights = resolve_model(path_or_name, ms_bands=ms_bands, extra_dirs=extra_dirs)
    card = read_card(weights)
    if not weights.is_file():
        raise ModelFileError(f"The weights file {weights} is missing.")
    digest = sha256_file(weights)
    if digest != card.sha256:
        raise ModelFileError(
            f"The weights {weights.name} do not match the checksum in their card "
            "(modified or damaged file); reinstall or re-export the model."
        )
    try:
        cfg = MMMambaConfig.from_dict(card.config)
    except (TypeError, InputError) as exc:
        raise ModelFileError(f"The model card {weights.name} has an invalid config: {exc}") from exc
    try:
        tensors = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"The weights {weights.name} cannot be read: {exc}.") from exc
    net = MMMamba(cfg)
    expected = net.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ModelFileError(
            f"The weights {weights.name} do not fit the config in their card: missing "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected "
            f"{unexpected[:5]}{'...' if len(unexpected) > 5 else ''}."
        )
    bad = [k for k, v in expected.items() if tuple(tensors[k].shape) != tuple(v.shape)]
    if bad:
        k = bad[0]
        raise ModelFileError(
            f"The weights {weights.name} do not fit the config in their card: {k} has shape "
            f"{tuple(tensors[k].shape)}, expected {tuple(expected[k].shape)}"
            f"{f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''}."
        )
    net.load_state_dict({k: v.to(torch.float32) for k, v in tensors.items()}, strict=True)
    net.eval()
    net.to(device)
    log.info("loaded model %s from %s", card.name, weights)
    return LoadedModel(net=net, card=card)

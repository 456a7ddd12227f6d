"""Model files: weights in safetensors beside a JSON model card; never pickle.

`X.safetensors` holds the state dict; `X.json` holds the `ModelCard`, whose `sha256` is the
checksum of `X.safetensors`. Loading checks the checksum, the config and every key and shape
before any weight reaches the network.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..errors import InputError, ModelFileError, OutputError
from .card import CARD_FORMAT, ModelCard, card_path, read_card, sha256_file
from .config import MMMambaConfig
from .network import MMMamba

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A network ready for inference (eval mode) with its card."""

    net: MMMamba
    card: ModelCard


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

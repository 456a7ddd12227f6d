"""Shipped and user models: `resources/models/<name>.safetensors` + `<name>.json`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from ..errors import MMMambaError, ModelFileError

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"


def _search_dirs(extra_dirs: Iterable[str | Path]) -> list[Path]:
    return [MODELS_DIR, *(Path(d) for d in extra_dirs)]


def list_models(extra_dirs: Iterable[str | Path] = ()) -> list:
    """Cards of every model found (shipped first, then `extra_dirs`), with `card.path` set.

    Returns:
        list[ModelCard], each `path` pointing at its `.safetensors` file. Unreadable cards are
        skipped with a warning.
    """
    from .card import read_card

    cards = []
    for folder in _search_dirs(extra_dirs):
        if not folder.is_dir():
            continue
        for cpath in sorted(folder.glob("*.json")):
            weights = cpath.with_suffix(".safetensors")
            if not weights.is_file():
                continue
            try:
                cards.append(read_card(weights))
            except MMMambaError as exc:
                log.warning("skipping model %s: %s", weights, exc)
    return cards


def _looks_like_path(s: str) -> bool:
    return s.endswith((".safetensors", ".json")) or "/" in s or "\\" in s


def resolve_model(
    name_or_path: str | Path | None = None,
    ms_bands: int | None = None,
    extra_dirs: Iterable[str | Path] = (),
) -> Path:
    """Find the weights file of a model.

    Args:
        name_or_path: A path to `X.safetensors` or `X.json`, a model name (card name or file
            stem), or None for the first shipped model whose band count is `ms_bands`.
        ms_bands: Band count of the MS input (used when `name_or_path` is None).
        extra_dirs: More folders of models.

    Returns:
        Path to the `.safetensors` file.

    Raises:
        ModelFileError: If nothing matches.
    """
    if isinstance(name_or_path, Path) or (
        isinstance(name_or_path, str)
        and (_looks_like_path(name_or_path) or Path(name_or_path).is_file())
    ):
        p = Path(name_or_path)
        if p.suffix == ".json":
            p = p.with_suffix(".safetensors")
        if not p.is_file():
            raise ModelFileError(f"Model file {p} not found.")
        return p
    cards = list_models(extra_dirs)
    if name_or_path is not None:
        for card in cards:
            if name_or_path in (card.name, card.path.stem):
                return card.path
        names = ", ".join(sorted({c.name for c in cards})) or "none"
        raise ModelFileError(
            f"No model named {name_or_path!r}; available: {names}. Pass a .safetensors path "
            "for a model of your own."
        )
    fitting = [c for c in cards if ms_bands is None or c.ms_bands == ms_bands]
    if not fitting:
        have = ", ".join(f"{c.name} ({c.ms_bands} bands)" for c in cards) or "none"
        raise ModelFileError(
            f"No installed model takes {ms_bands}-band MS (installed: {have}). Fine-tune or "
            "train one for this sensor and pass its .safetensors file."
        )
    return fitting[0].path

"""The model card: what a model is, what it expects and how it was made (`X.json`).

Torch-free on purpose: listing models (e.g. to fill a QGIS dialog) must not import PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ModelFileError

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

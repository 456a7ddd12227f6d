"""The configuration that fully describes an MMMamba network (saved in every model card)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import InputError, ModelFileError

UPSAMPLE_MODES = ("bicubic", "bilinear", "nearest")


@dataclass
class MMMambaConfig:
    """Hyper-parameters of the network; enough to rebuild it before loading weights.

    Attributes:
        ms_bands: Number of MS bands C (1 to 16).
        ratio: Integer PAN/MS resolution ratio r (2, 3, 4, 8, ...).
        width: Base feature width F.
        n_blocks: Number of MMMamba blocks.
        d_state: State size N of the selective scan.
        expand: Inner width factor of the mixer: d_inner = int(expand * F).
        window: Side of the square windows of the multimodal interleaved scan.
        n_hin: Number of half instance-norm residual blocks per encoder.
        upsample: How MS is brought to the PAN grid inside the network.
    """

    ms_bands: int = 4
    ratio: int = 4
    width: int = 32
    n_blocks: int = 5
    d_state: int = 8
    expand: float = 2.66
    window: int = 4
    n_hin: int = 3
    upsample: str = "bicubic"

    def __post_init__(self) -> None:
        self.validate()

    @property
    def d_inner(self) -> int:
        """Channels of one direction of the mixer's scan (85 for F = 32)."""
        return int(self.expand * self.width)

    @property
    def dt_rank(self) -> int:
        """Rank of the low-rank projection that produces the scan's step sizes."""
        return math.ceil(self.width / 16)

    def validate(self) -> None:
        """Raise `InputError` if a value cannot describe a working network."""
        if not 1 <= int(self.ms_bands) <= 16:
            raise InputError(f"ms_bands must be between 1 and 16, got {self.ms_bands}.")
        if int(self.ratio) < 1:
            raise InputError(f"ratio must be a positive integer, got {self.ratio}.")
        for name in ("width", "n_blocks", "d_state", "window", "n_hin"):
            if int(getattr(self, name)) < (0 if name in ("n_blocks", "n_hin") else 1):
                raise InputError(f"{name} must be positive, got {getattr(self, name)}.")
        if self.width % 2:
            raise InputError(f"width must be even (half instance norm), got {self.width}.")
        if self.d_inner < 1:
            raise InputError(f"expand * width must be at least 1, got {self.expand * self.width}.")
        if self.upsample not in UPSAMPLE_MODES:
            raise InputError(f"upsample must be one of {UPSAMPLE_MODES}, got {self.upsample!r}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dictionary of the fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MMMambaConfig:
        """Rebuild a config from `to_dict` output; unknown keys raise `ModelFileError`."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ModelFileError(
                f"The model card's config has unknown keys {unknown}; the file was written by a "
                "newer or different program version."
            )
        return cls(**d)

    @classmethod
    def tiny(cls, ms_bands: int = 4, ratio: int = 4) -> MMMambaConfig:
        """A very small network for fast CPU tests (a few thousand parameters)."""
        return cls(
            ms_bands=ms_bands, ratio=ratio, width=8, n_blocks=1, d_state=4, expand=2.0, n_hin=1
        )

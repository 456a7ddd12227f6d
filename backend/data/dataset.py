"""Wald-protocol training pairs and a sampler of augmented random crops.

Wald's protocol: the PAN and MS of a strip are both degraded by the ratio with the sensor's
MTF-matched filters; the network learns to turn the degraded pair back into the original MS.
Inputs are normalised exactly as at inference (`backend.normalize`, statistics of the inputs the
network sees: here the degraded pair), and the target is divided by the same MS scales, so the
network's output is denormalised by those scales as in `fuse_arrays`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

from ..degrade import wald_degrade
from ..errors import InputError
from ..normalize import NormStats, normalize_ms, normalize_pan, stats_from_arrays
from .scenes import Scene

log = logging.getLogger(__name__)


@dataclass
class WaldPair:
    """One normalised reduced-resolution training example (a whole strip).

    Attributes:
        name: Scene/strip name.
        pan: `(H, W)` degraded PAN, normalised.
        ms: `(C, H / r, W / r)` degraded MS, normalised.
        target: `(C, H, W)` original MS, normalised with the MS scales of `ms`.
        ratio: Resolution ratio r.
        stats: Scales used for the normalisation.
    """

    name: str
    pan: np.ndarray
    ms: np.ndarray
    target: np.ndarray
    ratio: int
    stats: NormStats

    @property
    def area(self) -> int:
        """PAN pixels of the reduced-resolution pair (its weight when sampling)."""
        return int(self.pan.shape[0] * self.pan.shape[1])

    def tensors(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
        """`(pan (1, 1, H, W), ms (1, C, h, w), target (1, C, H, W))` float32 tensors."""
        return (
            torch.from_numpy(self.pan)[None, None].to(device),
            torch.from_numpy(self.ms)[None].to(device),
            torch.from_numpy(self.target)[None].to(device),
        )


def make_wald_pair(scene: Scene) -> WaldPair:
    """Degrade a scene (or strip) by its ratio with its sensor's MTF and normalise it.

    Raises:
        InputError: if the scene is too small to be degraded by its ratio.
    """
    r = scene.ratio
    _, h, w = scene.ms.shape
    if h % r or w % r or h < r or w < r:
        raise InputError(
            f"{scene.name}: MS {h}x{w} must be a multiple of the ratio {r} for Wald's protocol."
        )
    pan_lr, ms_lr = wald_degrade(scene.pan, scene.ms, r, scene.sensor)
    pan_lr = np.asarray(pan_lr, dtype=np.float32)
    ms_lr = np.asarray(ms_lr, dtype=np.float32)
    if pan_lr.shape != (h, w) or ms_lr.shape != (scene.n_bands, h // r, w // r):
        raise InputError(
            f"{scene.name}: degradation gave PAN {pan_lr.shape} and MS {ms_lr.shape}, "
            f"expected {(h, w)} and {(scene.n_bands, h // r, w // r)}."
        )
    stats = stats_from_arrays(pan_lr, ms_lr)
    return WaldPair(
        name=scene.name,
        pan=normalize_pan(pan_lr, stats),
        ms=normalize_ms(ms_lr, stats),
        target=normalize_ms(scene.ms, stats),
        ratio=r,
        stats=stats,
    )


def augment(
    pan: torch.Tensor, ms: torch.Tensor, target: torch.Tensor, flip: bool, k: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The same horizontal flip and `k` quarter turns applied to all three `(..., H, W)` tensors.

    Flips and rotations keep the pairing of PAN and MS pixels (both grids turn about the same
    corner-aligned block structure), so the sample stays a valid Wald pair.
    """
    out = []
    for t in (pan, ms, target):
        if flip:
            t = torch.flip(t, dims=(-1,))
        if k:
            t = torch.rot90(t, k, dims=(-2, -1))
        out.append(t)
    return out[0], out[1], out[2]


class WaldSampler:
    """Random, augmented crops of the training pairs, as batches of tensors.

    Each batch draws its scenes with probability proportional to their area (shuffled, with
    replacement), then a random crop of `crop` PAN pixels (`crop / r` MS pixels) aligned to the MS
    grid, a random horizontal flip and a random number of quarter turns per sample. A batch uses
    one crop size: the requested one, reduced to fit the smallest pair drawn.
    """

    def __init__(
        self,
        pairs: list[WaldPair],
        *,
        crop: int = 128,
        batch: int = 4,
        seed: int = 0,
        augment: bool = True,
        device: torch.device | str = "cpu",
    ) -> None:
        if not pairs:
            raise InputError("No training data: at least one scene strip is needed.")
        ratios = {p.ratio for p in pairs}
        bands = {p.ms.shape[0] for p in pairs}
        if len(ratios) != 1 or len(bands) != 1:
            raise InputError(
                f"Training scenes must share one ratio and band count, got ratios {sorted(ratios)} "
                f"and band counts {sorted(bands)}."
            )
        self.pairs = pairs
        self.ratio = ratios.pop()
        self.crop = int(crop)
        self.batch = int(batch)
        self.augment = augment
        self.device = torch.device(device)
        self.rng = np.random.default_rng(seed)
        areas = np.array([p.area for p in pairs], dtype=np.float64)
        self.weights = areas / areas.sum()
        # The network's windows are 4 PAN pixels, MS pixels are r: crops are multiples of both.
        self.unit = self.ratio * 4 // math.gcd(self.ratio, 4)
        # Tensors of the pairs stay on the device: they are small (a few MB) and cropping
        # there avoids a host-to-device copy per step.
        self._tensors = [p.tensors(self.device) for p in pairs]

    @property
    def total_area(self) -> int:
        """Reduced-resolution PAN pixels over all training pairs."""
        return int(sum(p.area for p in self.pairs))

    def steps_per_epoch(self) -> int:
        """Steps whose crops add up to the total training area (at least 1)."""
        return max(1, math.ceil(self.total_area / (self.batch * self.crop * self.crop)))

    def _fit(self, idx: np.ndarray) -> int:
        size = self.crop
        for i in set(idx.tolist()):
            h, w = self.pairs[i].pan.shape
            size = min(size, h, w)
        size = (size // self.unit) * self.unit
        if size < self.unit:
            raise InputError(f"Training strips are smaller than {self.unit} PAN pixels.")
        return size

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One batch: `pan (B, 1, S, S)`, `ms (B, C, S / r, S / r)`, `target (B, C, S, S)`."""
        idx = self.rng.choice(len(self.pairs), size=self.batch, p=self.weights)
        size = self._fit(idx)
        r = self.ratio
        m = size // r
        pans, mss, tgts = [], [], []
        for i in idx:
            pan_t, ms_t, tgt_t = self._tensors[i]
            mh, mw = ms_t.shape[-2:]
            y = int(self.rng.integers(0, mh - m + 1))
            x = int(self.rng.integers(0, mw - m + 1))
            p = pan_t[0, :, y * r : y * r + size, x * r : x * r + size]
            s = ms_t[0, :, y : y + m, x : x + m]
            t = tgt_t[0, :, y * r : y * r + size, x * r : x * r + size]
            if self.augment:
                p, s, t = augment(
                    p, s, t, bool(self.rng.integers(0, 2)), int(self.rng.integers(0, 4))
                )
            pans.append(p)
            mss.append(s)
            tgts.append(t)
        return torch.stack(pans), torch.stack(mss), torch.stack(tgts)

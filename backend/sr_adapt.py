"""Internal learning for zero-shot super-resolution: adapt a fusion network to one image.

The image is its own teacher. The input `X` (`C x h x w`, already at the resolution we want to go
beyond) is degraded by the scale factor `s` with an MTF-style blur and decimation into `X_s`; the
network then learns, starting from the shipped weights, to map `(PAN_s, X_s)` back to `X`, where
`PAN_s` is the guide degraded the same way (guided mode) or the PAN synthesised from `X_s`
(unguided mode, `backend.sr_guide.synthesize_pan`). The adapted network is finally applied to
`(PAN, X)` to produce the `s`-times finer image. Cross-scale recurrence of image structure (edges,
textures, and the blur of the sensor) is what transfers from one scale to the next.

Degradation: a Gaussian MTF filter with the 'unknown' sensor's gain at Nyquist (0.30 for the
image, 0.15 for a guide; `backend.degrade`) followed by *centred* decimation: the coarse pixel is
the mean of the `s x s` block it covers in GIS terms, so its value sits at the block centre, as
the network's bicubic upsampling and GDAL assume. (`backend.degrade.decimate` keeps the toolbox
convention instead, half a fine pixel off-centre for even ratios.)

What trains: on a GPU every weight ("all"). On a CPU backpropagating through the selective scans
costs minutes per step, so the scans stay frozen and their outputs are computed once per training
region: "head" (the default) trains the fusion layer and the head on the trunk's features
(encoders and MMMamba blocks); "tail" also trains the feed-forward half of the last MMMamba block
(its norms and gated FFN), on the features taken just after that block's mixer (it costs 3.5
times as much and gained nothing measurable on the development crops). Both run hundreds of
steps in a minute or two.
Frozen features are computed for several dihedral views of each region (flips, rotations), since
the scans are direction-dependent: the trained layers then see the image the way every view of a
geometric self-ensemble (`backend.sr_ensemble`) shows it.

Budget: a number of optimiser steps, or a number of seconds, whichever the caller gives. One target
block in five is held out (`held_out_cells`): never trained on, it judges the weights every
`EVAL_EVERY` steps, and the best weights seen (the starting ones included) are kept.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .degrade import mtf_filter, sensor_gains
from .errors import InputError
from .model.upsample import upsample_ms
from .progress import Progress, check_cancelled
from .sr_ensemble import dihedral_np, ensemble_views
from .sr_guide import synthesize_pan

log = logging.getLogger(__name__)

DEFAULT_PATCH = 64
"""Side of a training target in input pixels (its network input is `DEFAULT_PATCH / s` wide)."""
DEFAULT_BATCH = 4
DEFAULT_LR = 2e-4
"""Adam learning rate when every weight trains: large enough to move within ~100 steps, small
enough to keep what the shipped weights know (the reference trains from scratch with 5e-4)."""
HEAD_BATCH = 16
HEAD_LR = 1e-3
CPU_LAYERS = "head"
"""What "auto" trains off CUDA. On the development crops of bench/sr_quality.py, "tail" gave the
same PSNR as "head" (within 0.05 dB, both with 8 views) for 3.5 times the adaptation time."""
"""Steps on frozen features are cheap and touch few weights: larger batches and steps."""
FROZEN_LAYERS = ("head", "tail")
"""Adaptations that train on frozen scan features (any device)."""
VIEW_PIXELS = 1 << 19
"""Bound on the target pixels of all views of all regions whose frozen features are kept
(about 140 MB of float32 features): fewer views are used on larger training material."""
GRAD_CLIP = 4.0
EVAL_PATCHES = 16
"""Crops whose held-out pixels judge the adaptation (fixed for a run)."""
EVAL_EVERY = 25
"""Steps between two judgements; the best state seen is the one kept (early stopping)."""
HELD_OUT_CELL = 4
"""Side of the held-out blocks, in coarse pixels (times the scale in target pixels)."""
MIN_COARSE = 4
"""Smallest side, in coarse pixels, of a training input; smaller images cannot teach anything."""


def centred_degrade(img: np.ndarray, scale: int, gains: float | Sequence[float]) -> np.ndarray:
    """MTF-filter then decimate by `scale`, coarse pixel values centred on their block.

    Args:
        img: `(C, H, W)` or `(H, W)`; H and W multiples of `scale`.
        scale: integer factor.
        gains: MTF gain at Nyquist, one for all bands or one per band.

    Returns:
        `(C, H/s, W/s)` (or `(H/s, W/s)`) float32.
    """
    x = mtf_filter(np.asarray(img, dtype=np.float32), gains, scale)
    h, w = x.shape[-2:]
    if scale % 2 == 0:
        # Even blocks have their centre between two pixels: average the neighbours to get there
        # (a 2-tap box, gain cos(pi / 2s) at Nyquist, i.e. almost no extra blur).
        x = 0.5 * (x[..., :-1, :] + x[..., 1:, :])
        x = 0.5 * (x[..., :, :-1] + x[..., :, 1:])
        o = scale // 2 - 1
    else:
        o = scale // 2
    out = x[..., o : o + scale * (h // scale) : scale, o : o + scale * (w // scale) : scale]
    return np.ascontiguousarray(out, dtype=np.float32)


@dataclass
class AdaptRegion:
    """One block of the image prepared for training (all arrays normalised, no invalid values).

    Attributes:
        target: `(C, h, w)` the image itself (h, w multiples of the scale).
        valid: `(h, w)` where the image is valid (the loss ignores the rest).
        ms: `(C, h/s, w/s)` the degraded image (network MS input).
        pan: `(h, w)` the network PAN input at the image's own resolution.
        held_out: `(h, w)` target pixels never trained on, that judge the adaptation.
    """

    target: np.ndarray
    valid: np.ndarray
    ms: np.ndarray
    pan: np.ndarray
    held_out: np.ndarray

    def select(self, bands: Sequence[int]) -> AdaptRegion:
        """The same region for a group of bands (repeats allowed); the PAN is shared."""
        idx = list(bands)
        return AdaptRegion(self.target[idx], self.valid, self.ms[idx], self.pan, self.held_out)

    def view(self, k: int) -> AdaptRegion:
        """The region seen in dihedral view `k` (0..7; `backend.sr_ensemble.dihedral`)."""
        return AdaptRegion(
            *(
                np.ascontiguousarray(dihedral_np(a, k))
                for a in (self.target, self.valid, self.ms, self.pan, self.held_out)
            )
        )


def held_out_cells(h: int, w: int, cell: int) -> np.ndarray:
    """`(h, w)` mask of one `cell x cell` block in five, spread evenly (a diagonal pattern).

    Held-out *targets*, not inputs: the network still sees these pixels (degraded) as input, as
    it sees the whole image at the end, but is never trained to reproduce them, so the loss on
    them measures whether adaptation generalises or memorises (small images overfit quickly).
    """
    i = np.arange(h)[:, None] // cell
    j = np.arange(w)[None, :] // cell
    return (i + 2 * j) % 5 == 0


def make_region(
    lr: np.ndarray,
    valid: np.ndarray,
    scale: int,
    guide: np.ndarray | None = None,
    sensor: str | None = None,
) -> AdaptRegion | None:
    """Training material from one block of the (normalised, filled) input.

    Args:
        lr: `(C, h, w)` normalised input block, invalid pixels already filled.
        valid: `(h, w)` validity of the input block.
        scale: super-resolution factor s.
        guide: guided mode: `(h*s, w*s)` normalised, filled guide over the same ground; None for
            unguided mode.
        sensor: sensor name for the MTF gains (None: generic gains).

    Returns:
        The region, or None when it is too small (under `MIN_COARSE * s` pixels a side).
    """
    c, h, w = lr.shape
    h, w = h // scale * scale, w // scale * scale
    if min(h, w) < MIN_COARSE * scale:
        return None
    target = np.ascontiguousarray(lr[:, :h, :w], dtype=np.float32)
    gains = sensor_gains(sensor, c)
    ms = centred_degrade(target, scale, gains.ms)
    if guide is None:
        pan = synthesize_pan(ms, scale)
    else:
        pan = centred_degrade(guide[: h * scale, : w * scale], scale, gains.pan)
    return AdaptRegion(
        target=target,
        valid=valid[:h, :w].copy(),
        ms=ms,
        pan=pan,
        held_out=held_out_cells(h, w, HELD_OUT_CELL * scale),
    )


@dataclass(frozen=True)
class AdaptReport:
    """What adaptation did.

    Attributes:
        steps: optimiser steps taken.
        seconds: time spent, preparation (trunk features) included.
        loss_before, loss_after: L1 on the held-out target pixels (normalised units), at the
            start and for the weights kept.
        kept: False when no adapted state beat the starting weights (which are then kept).
        layers: "all", "head" or "tail" (what was trained).
        best_step: step whose weights were kept (0: the starting weights).
        train_first, train_last: mean training L1 of the first and of the last 5 steps.
    """

    steps: int
    seconds: float
    loss_before: float
    loss_after: float
    kept: bool
    layers: str = "all"
    best_step: int = 0
    train_first: float = float("nan")
    train_last: float = float("nan")


class PairSampler:
    """Random crops from the regions: where to cut them, and the network-input batches."""

    def __init__(self, regions: Sequence[AdaptRegion], scale: int, patch: int, seed: int) -> None:
        if not regions:
            raise InputError("No region of the image is large enough to adapt on.")
        self.regions = list(regions)
        self.s = scale
        smallest = min(min(r.target.shape[1:]) for r in self.regions)
        # Whole coarse pixels, at least MIN_COARSE of them, at most the smallest region.
        self.patch = max(MIN_COARSE * scale, min(patch, smallest) // scale * scale)
        self.rng = np.random.default_rng(seed)
        self._positions = [self._valid_positions(r) for r in self.regions]
        counts = np.array([len(p) for p in self._positions], np.float64)
        if counts.sum() == 0:
            raise InputError(
                "The image holds too few valid pixels to adapt on (no "
                f"{self.patch} x {self.patch} block is mostly valid): use --adapt-steps 0."
            )
        self._weights = counts / counts.sum()

    def _valid_positions(self, region: AdaptRegion) -> np.ndarray:
        """Coarse-grid corners `(n, 2)` of crops whose target is fully (else mostly) valid."""
        s, p = self.s, self.patch
        h, w = region.valid.shape
        if h < p or w < p:
            return np.zeros((0, 2), np.int64)
        integral = np.pad(region.valid.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        rows = np.arange(0, h - p + 1, s)
        cols = np.arange(0, w - p + 1, s)
        r0, c0 = np.meshgrid(rows, cols, indexing="ij")
        count = (
            integral[r0 + p, c0 + p]
            - integral[r0, c0 + p]
            - integral[r0 + p, c0]
            + integral[r0, c0]
        )
        for need in (p * p, p * p // 2):
            ok = count >= need
            if ok.any():
                return np.stack([r0[ok] // s, c0[ok] // s], axis=1)
        return np.zeros((0, 2), np.int64)

    def corners(self, n: int) -> list[tuple[int, int, int]]:
        """`n` random crops as `(region, coarse row, coarse column)`."""
        out = []
        for _ in range(n):
            k = int(self.rng.choice(len(self.regions), p=self._weights))
            pos = self._positions[k]
            i, j = pos[int(self.rng.integers(len(pos)))]
            out.append((k, int(i), int(j)))
        return out

    def sample(self, n: int, augment: bool = True) -> list[torch.Tensor]:
        """A batch: pan `(n, 1, P, P)`, ms `(n, C, P/s, P/s)`, target `(n, C, P, P)`, and the
        `(n, 1, P, P)` masks of the training and of the held-out target pixels."""
        s, p = self.s, self.patch
        cols: list[list[np.ndarray]] = [[], [], [], [], []]
        for k, i, j in self.corners(n):
            reg = self.regions[k]
            rs, cs = slice(i * s, i * s + p), slice(j * s, j * s + p)
            arrays = [
                reg.pan[None, rs, cs],
                reg.ms[:, i : i + p // s, j : j + p // s],
                reg.target[:, rs, cs],
                (reg.valid & ~reg.held_out)[None, rs, cs].astype(np.float32),
                (reg.valid & reg.held_out)[None, rs, cs].astype(np.float32),
            ]
            if augment:
                turns, flip = int(self.rng.integers(4)), bool(self.rng.integers(2))
                arrays = [np.rot90(a, turns, axes=(1, 2)) for a in arrays]
                if flip:
                    arrays = [a[:, :, ::-1] for a in arrays]
            for lst, a in zip(cols, arrays, strict=True):
                lst.append(np.ascontiguousarray(a))
        return [torch.from_numpy(np.stack(lst)) for lst in cols]


def trunk(
    net: nn.Module, pan: torch.Tensor, ms: torch.Tensor, layers: str = "head"
) -> list[torch.Tensor]:
    """The frozen part of MMMamba for an adaptation: `(m, p, ms_up)`, each `(B, *, H', W')`.

    `layers="head"`: everything before the fusion layer. `layers="tail"`: everything before the
    feed-forward half of the last block (its mixer included). H' and W' are H and W padded to
    whole scan windows, as inside the network, so that
    `head(net, *trunk(net, pan, ms))[..., :H, :W]` and
    `head(net, *tail(net, *trunk(net, pan, ms, "tail")))[..., :H, :W]` equal `net(pan, ms)` (a
    test checks it). Splitting there runs the expensive scans once, not at every step.
    """
    cfg = net.cfg
    ms_up = upsample_ms(ms.float(), cfg.ratio, cfg.upsample)
    h, w = pan.shape[-2:]
    ph, pw = (-h) % cfg.window, (-w) % cfg.window
    pan = pan.float()
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"
        pan = F.pad(pan, (0, pw, 0, ph), mode=mode)
        ms_up = F.pad(ms_up, (0, pw, 0, ph), mode=mode)
    # the encoders may work in place without gradients: give them a copy of ms_up
    m = net.encoder_ms(ms_up.clone())
    p = net.encoder_pan(pan)
    last = len(net.blocks) - (1 if layers == "tail" else 0)
    for blk in net.blocks[:last]:
        m, p = blk(m, p)
    if layers == "tail":
        blk = net.blocks[-1]
        m, p = blk.mixer.residual(m, p, blk.norm1_ms, blk.norm1_pan)
    return [m, p, ms_up]


def tail(
    net: nn.Module, m: torch.Tensor, p: torch.Tensor, ms_up: torch.Tensor
) -> list[torch.Tensor]:
    """The feed-forward half of the last MMMamba block (out of place, for training)."""
    blk = net.blocks[-1]
    return [m + blk.ffn(blk.norm2_ms(m)), p + blk.ffn(blk.norm2_pan(p)), ms_up]


def head(net: nn.Module, m: torch.Tensor, p: torch.Tensor, ms_up: torch.Tensor) -> torch.Tensor:
    """The fusion layer and head of MMMamba plus the global residual: `(B, C, H, W)`."""
    f = net.fusion(torch.cat([m, p], dim=1))
    return net.head_out(net.head_ca(net.head_in(f))) + ms_up


def head_parameters(net: nn.Module, layers: str = "head") -> list[nn.Parameter]:
    """The parameters trained on frozen features: `head`'s, plus `tail`'s for "tail"."""
    mods: list[nn.Module] = [net.fusion, net.head_in, net.head_ca, net.head_out]
    if layers == "tail":
        blk = net.blocks[-1]
        mods += [blk.norm2_ms, blk.norm2_pan, blk.ffn]
    return [prm for mod in mods for prm in mod.parameters()]


def frozen_views(regions: Sequence[AdaptRegion], views: int | None) -> int:
    """How many dihedral views of the regions to train on (1, 2, 4 or 8).

    None: as many as `VIEW_PIXELS` allows for the regions' total target pixels.
    """
    if views is not None:
        if views not in (1, 2, 4, 8):
            raise InputError(f"Adaptation views must be 1, 2, 4 or 8, got {views}.")
        return views
    total = sum(r.valid.size for r in regions)
    n = 8
    while n > 1 and n * total > VIEW_PIXELS:
        n //= 2
    return n


class _HeadData:
    """Trunk features of every region, computed once without gradients, cropped per step."""

    def __init__(
        self, net: nn.Module, sampler: PairSampler, device: torch.device, layers: str = "head"
    ) -> None:
        self.s, self.p = sampler.s, sampler.patch
        self.feats: list[list[torch.Tensor]] = []
        self.targets: list[torch.Tensor] = []
        net.eval()
        with torch.no_grad():
            for reg in sampler.regions:
                pan = torch.from_numpy(reg.pan)[None, None].to(device)
                ms = torch.from_numpy(reg.ms)[None].to(device)
                self.feats.append([t[0] for t in trunk(net, pan, ms, layers)])
                masks = np.stack([reg.valid & ~reg.held_out, reg.valid & reg.held_out])
                tgt = np.concatenate([reg.target, masks.astype(np.float32)])
                self.targets.append(torch.from_numpy(tgt).to(device))

    def batch(self, corners: Sequence[tuple[int, int, int]]) -> list[torch.Tensor]:
        """`[m, p, ms_up, target, train mask, held-out mask]` crops of the given corners."""
        s, p = self.s, self.p
        cols: list[list[torch.Tensor]] = [[], [], [], [], [], []]
        for k, i, j in corners:
            rs, cs = slice(i * s, i * s + p), slice(j * s, j * s + p)
            tgt = self.targets[k][:, rs, cs]
            crops = [f[:, rs, cs] for f in self.feats[k]] + [tgt[:-2], tgt[-2:-1], tgt[-1:]]
            for lst, t in zip(cols, crops, strict=True):
                lst.append(t)
        return [torch.stack(lst) for lst in cols]


def _masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return ((pred - target).abs() * mask).sum() / (mask.sum() * pred.shape[1]).clamp_min(1.0)


def adapt_network(
    net: nn.Module,
    regions: Sequence[AdaptRegion],
    scale: int,
    *,
    steps: int | None = None,
    seconds: float | None = None,
    layers: str = "auto",
    patch: int = DEFAULT_PATCH,
    batch: int | None = None,
    lr: float | None = None,
    views: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    on_step: Callable[[int, float], None] | None = None,
) -> AdaptReport:
    """Fine-tune `net` in place on training pairs made from the image itself.

    Args:
        net: MMMamba network, already on its device and set to ratio `scale`.
        regions: training material (`make_region`).
        scale: super-resolution factor s.
        steps: optimiser steps (None: no step limit).
        seconds: time budget in seconds (None: no time limit). At least one of the two limits
            must be given.
        layers: "all" trains every weight (backpropagation through the scans: fast on a GPU,
            minutes per step on a CPU); "head" trains the fusion layer and head on trunk
            features computed once (fast anywhere); "tail" also the feed-forward half of the
            last block, on features computed once after its mixer; "auto": "all" on CUDA, else
            `CPU_LAYERS`.
        patch: training target side in input pixels.
        batch: crops per step (None: 4 for "all", 16 otherwise).
        lr: Adam learning rate (None: `DEFAULT_LR` for "all", `HEAD_LR` otherwise).
        views: dihedral views of the regions trained on with frozen features (1, 2, 4, 8;
            None: `frozen_views`). "all" augments every crop at random instead.
        seed: seed of the crop sampler and of torch (results repeat for a given seed).
        progress: cancellation is checked between steps.
        on_step: called with `(step, elapsed seconds)` after each step (progress reporting).

    Returns:
        An `AdaptReport`. The network is left in eval mode with the weights that did best on
        held-out target pixels (checked every `EVAL_EVERY` steps and at the end; the starting
        weights count as step 0), i.e. early stopping against memorising a small image.
    """
    if steps is None and seconds is None:
        raise InputError("Adaptation needs a step or a time budget.")
    device = next(net.parameters()).device
    if layers == "auto":
        layers = "all" if device.type == "cuda" else CPU_LAYERS
    if layers not in ("all", *FROZEN_LAYERS):
        raise InputError(
            f"Adaptation layers must be 'all', 'head', 'tail' or 'auto', got {layers!r}."
        )
    frozen = layers in FROZEN_LAYERS
    batch = batch or (HEAD_BATCH if frozen else DEFAULT_BATCH)
    lr = lr or (HEAD_LR if frozen else DEFAULT_LR)
    t_prep = time.perf_counter()
    if frozen:
        n_views = frozen_views(regions, views)
        regions = [r.view(k) for k in ensemble_views(n_views) for r in regions]
    sampler = PairSampler(regions, scale, patch, seed)
    torch.manual_seed(seed)
    if frozen:
        data = _HeadData(net, sampler, device, layers)

        def get(n: int, augment: bool = True) -> list[torch.Tensor]:
            return data.batch(sampler.corners(n))

        def forward(b: list[torch.Tensor]) -> torch.Tensor:
            feats = b[:3] if layers == "head" else tail(net, *b[:3])
            return head(net, *feats)

        def loss_of(b: list[torch.Tensor], held: bool = False) -> torch.Tensor:
            return _masked_l1(forward(b), b[3], b[5 if held else 4])

        params = head_parameters(net, layers)
    else:

        def get(n: int, augment: bool = True) -> list[torch.Tensor]:
            return [t.to(device) for t in sampler.sample(n, augment)]

        def loss_of(b: list[torch.Tensor], held: bool = False) -> torch.Tensor:
            return _masked_l1(net(b[0], b[1]), b[2], b[4 if held else 3])

        params = list(net.parameters())

    eval_batch = get(EVAL_PATCHES, augment=False)

    def held_out_loss() -> float:
        net.eval()
        with torch.no_grad():
            return float(loss_of(eval_batch, held=True))

    before = best = held_out_loss()
    best_step, best_state = 0, copy.deepcopy(net.state_dict())
    opt = torch.optim.Adam(params, lr=lr)
    log.debug("adaptation (%s) prepared in %.1f s", layers, time.perf_counter() - t_prep)
    done = 0
    train_losses: list[float] = []
    net.train()
    while (steps is None or done < steps) and (
        seconds is None or time.perf_counter() - t_prep < seconds
    ):
        check_cancelled(progress)
        loss = loss_of(get(batch))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, GRAD_CLIP)
        opt.step()
        done += 1
        train_losses.append(loss.item())
        if done % EVAL_EVERY == 0 or done == steps:
            current = held_out_loss()
            if current < best:
                best, best_step, best_state = current, done, copy.deepcopy(net.state_dict())
            log.debug("adaptation step %d: train %.5f, held-out %.5f", done, loss.item(), current)
            net.train()
        if on_step is not None:
            on_step(done, time.perf_counter() - t_prep)
    elapsed = time.perf_counter() - t_prep
    if best_step != done:
        net.load_state_dict(best_state)
    net.eval()
    log.info(
        "adapted (%s) in %d steps, %.1f s: held-out L1 %.5f -> %.5f (best at step %d)",
        layers,
        done,
        elapsed,
        before,
        best,
        best_step,
    )
    n = len(train_losses)
    k = min(5, max(1, n // 2)) if n else 0
    return AdaptReport(
        steps=done,
        seconds=elapsed,
        loss_before=before,
        loss_after=best,
        kept=best_step > 0,
        layers=layers,
        best_step=best_step,
        train_first=float(np.mean(train_losses[:k])) if k else float("nan"),
        train_last=float(np.mean(train_losses[-k:])) if k else float("nan"),
    )

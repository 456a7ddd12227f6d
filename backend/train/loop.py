"""The training loop shared by `train` (shipped models) and `finetune` (one scene).

L1 loss (optionally plus a spectral-angle term), Adam with cosine decay over the step or time
budget, gradient-norm clipping, bf16 autocast on CUDA (the selective scan itself runs in fp32),
validation at regular intervals, the best checkpoint on validation written as soon as it appears
(so a cancel or a crash keeps it), fixed seeds, and a CSV log of the curves.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..data.dataset import WaldPair, WaldSampler
from ..errors import InputError
from ..progress import Progress

log = logging.getLogger(__name__)

CSV_FIELDS = (
    "step",
    "epoch",
    "elapsed_s",
    "lr",
    "train_loss",
    "train_l1",
    "val_l1",
    "val_sam_deg",
    "best",
)


@dataclass
class TrainOptions:
    """How to train (the network's own hyper-parameters live in `MMMambaConfig`).

    Attributes:
        epochs: Number of epochs (an epoch = steps whose crops cover the training area once);
            ignored when `minutes` is set.
        minutes: Wall-clock budget of the loop, validation included; wins over `epochs`.
        batch: Crops per step.
        crop: Crop side in PAN pixels of the reduced-resolution pair (crop / ratio MS pixels).
        lr: Initial Adam learning rate, decayed with a cosine to `lr_min`.
        lr_min: Final learning rate.
        clip: Gradient-norm clipping threshold.
        sam_weight: Weight of the spectral-angle term (radians) added to the L1 loss; 0 = off.
        seed: Seed of torch and of the crop sampler.
        amp: bf16 autocast; None = on for CUDA, off elsewhere.
        val_every: Validate every this many steps (and at the end).
        val_every_s: Also validate when this many seconds passed since the last validation;
            None = 1/15 of the time budget (no time trigger without a budget).
        augment: Random flips and quarter turns of the crops.
    """

    epochs: int | None = None
    minutes: float | None = None
    batch: int = 4
    crop: int = 128
    lr: float = 5e-4
    lr_min: float = 5e-8
    clip: float = 4.0
    sam_weight: float = 0.0
    seed: int = 0
    amp: bool | None = None
    val_every: int = 50
    val_every_s: float | None = None
    augment: bool = True

    def validate(self) -> None:
        """Raise `InputError` for options that cannot train."""
        if self.minutes is None and self.epochs is None:
            raise InputError("Give a training budget: --epochs N or --minutes M.")
        if self.minutes is not None and not self.minutes > 0:
            raise InputError(f"--minutes must be positive, got {self.minutes}.")
        if self.minutes is None and self.epochs is not None and self.epochs < 1:
            raise InputError(f"--epochs must be at least 1, got {self.epochs}.")
        if self.batch < 1 or self.crop < 4:
            raise InputError(f"batch must be >= 1 and crop >= 4, got {self.batch}, {self.crop}.")


@dataclass
class LoopResult:
    """What one training run did.

    Attributes:
        steps: Optimiser steps taken.
        epochs: Steps expressed in epochs (fractional).
        seconds: Wall-clock time of the loop.
        best_step: Step of the best validation (0 = the initial weights).
        best_val_l1: Best validation L1 (normalised units).
        best_val_sam: Spectral angle (degrees) at the best validation.
        cancelled: True if the caller asked to stop; the best weights so far are kept.
        history: One dict per CSV row.
        best_state: State dict (on CPU) of the best weights.
    """

    steps: int
    epochs: float
    seconds: float
    best_step: int
    best_val_l1: float
    best_val_sam: float
    cancelled: bool
    history: list[dict[str, float]] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)


def spectral_angle(out: torch.Tensor, ref: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean spectral angle in radians between `(B, C, H, W)` tensors (over all pixels)."""
    dot = (out * ref).sum(dim=1)
    norm = out.norm(dim=1) * ref.norm(dim=1)
    cos = dot / (norm + eps)
    # The clamp keeps arccos's gradient finite where both spectra are (nearly) parallel.
    return torch.arccos(cos.clamp(-1.0 + 1e-6, 1.0 - 1e-6)).mean()


def cosine_lr(frac: float, lr: float, lr_min: float) -> float:
    """Cosine decay from `lr` at `frac` = 0 to `lr_min` at `frac` = 1."""
    f = min(max(frac, 0.0), 1.0)
    return lr_min + 0.5 * (lr - lr_min) * (1.0 + math.cos(math.pi * f))


@torch.no_grad()
def evaluate_pairs(
    net: nn.Module, pairs: list[WaldPair], device: torch.device, amp: bool
) -> tuple[float, float]:
    """Area-weighted L1 (normalised units) and spectral angle (degrees) on whole strips.

    Returns:
        `(l1, sam_degrees)`.
    """
    was_training = net.training
    net.eval()
    tot_l1 = tot_sam = tot_area = 0.0
    for p in pairs:
        pan, ms, target = p.tensors(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
            out = net(pan, ms)
        out = out.float()
        tot_l1 += float((out - target).abs().mean()) * p.area
        tot_sam += float(spectral_angle(out, target)) * p.area
        tot_area += p.area
    net.train(was_training)
    return tot_l1 / tot_area, math.degrees(tot_sam / tot_area)


def _write_csv(path: Path, rows: list[dict[str, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in CSV_FIELDS})


def run_training(
    net: nn.Module,
    train_pairs: list[WaldPair],
    val_pairs: list[WaldPair],
    opts: TrainOptions,
    device: torch.device,
    *,
    on_best: Callable[[nn.Module, int, float], None] | None = None,
    csv_path: Path | None = None,
    progress: Progress | None = None,
) -> LoopResult:
    """Train `net` in place on Wald pairs and leave the best validation weights loaded in it.

    Args:
        net: The network (moved to `device` here).
        train_pairs: Training strips (crops are drawn from them).
        val_pairs: Validation strips, evaluated whole; empty = validate on the training strips.
        opts: Budget and optimiser settings.
        device: Where to train.
        on_best: Called as `on_best(net, step, val_l1)` each time validation improves (the net
            holds the best weights then): writes the checkpoint.
        csv_path: Where to (re)write the CSV log after every validation.
        progress: Receives the fraction done, a line per validation, and cancellation.

    Returns:
        The run's summary; `net` holds the best weights on return.
    """
    opts.validate()
    torch.manual_seed(opts.seed)
    amp = (device.type == "cuda") if opts.amp is None else bool(opts.amp)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    net.to(device)
    net.train()
    sampler = WaldSampler(
        train_pairs,
        crop=opts.crop,
        batch=opts.batch,
        seed=opts.seed,
        augment=opts.augment,
        device=device,
    )
    val_set = val_pairs or train_pairs
    steps_per_epoch = sampler.steps_per_epoch()
    budget_s = None if opts.minutes is None else opts.minutes * 60.0
    total_steps = None if budget_s is not None else int(opts.epochs) * steps_per_epoch  # type: ignore[arg-type]
    val_every_s = opts.val_every_s
    if val_every_s is None:
        val_every_s = budget_s / 15.0 if budget_s is not None else math.inf
    optim = torch.optim.Adam(net.parameters(), lr=opts.lr, betas=(0.9, 0.999), weight_decay=0.0)
    log.info(
        "training on %d strips (%d px), validating on %d; %d steps/epoch, budget %s, amp %s",
        len(train_pairs),
        sampler.total_area,
        len(val_set),
        steps_per_epoch,
        f"{opts.minutes} min" if budget_s is not None else f"{total_steps} steps",
        amp,
    )

    history: list[dict[str, float]] = []
    start = time.perf_counter()
    best_l1, best_sam = evaluate_pairs(net, val_set, device, amp)
    # Validation never takes more than about a fifth of the time: on a slow CPU a strip can take
    # longer to validate than several steps to train.
    val_cost = time.perf_counter() - start
    best_step = 0
    best_state = {k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}
    history.append(
        {
            "step": 0,
            "epoch": 0.0,
            "elapsed_s": 0.0,
            "lr": opts.lr,
            "val_l1": best_l1,
            "val_sam_deg": best_sam,
            "best": 1,
        }
    )
    if on_best is not None:
        on_best(net, 0, best_l1)
    last_val_t = time.perf_counter()
    sum_loss = torch.zeros((), device=device)
    sum_l1 = torch.zeros((), device=device)
    n_since = 0
    step = 0
    cancelled = False

    def frac_done() -> float:
        if budget_s is not None:
            return (time.perf_counter() - start) / budget_s
        return step / max(1, total_steps or 1)

    while True:
        if progress is not None and progress.is_cancelled():
            cancelled = True
            break
        frac = frac_done()
        if frac >= 1.0:
            break
        lr = cosine_lr(frac, opts.lr, opts.lr_min)
        for group in optim.param_groups:
            group["lr"] = lr
        pan, ms, target = sampler.next_batch()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
            out = net(pan, ms)
        out = out.float()
        l1 = (out - target).abs().mean()
        loss = l1 + opts.sam_weight * spectral_angle(out, target) if opts.sam_weight else l1
        optim.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), opts.clip)
        optim.step()
        step += 1
        sum_loss += loss.detach()
        sum_l1 += l1.detach()
        n_since += 1
        if progress is not None:
            progress.set_fraction(min(1.0, frac_done()))
        now = time.perf_counter()
        due = step % opts.val_every == 0 or now - last_val_t >= val_every_s
        if due and now - last_val_t >= 4.0 * val_cost:
            t_val = time.perf_counter()
            # Checked here, not every step: reading the loss would wait for the GPU each step.
            if not math.isfinite(float(sum_loss)):
                raise InputError(
                    f"The training loss became {float(sum_loss)} before step {step}: lower the "
                    "learning rate or check the input scenes for invalid pixels."
                )
            best_l1, best_sam, best_step = _validate_and_log(
                net, val_set, device, amp, step, steps_per_epoch, now - start, lr,
                float(sum_loss) / n_since, float(sum_l1) / n_since,
                (best_l1, best_sam, best_step), best_state, history, on_best, progress,
            )  # fmt: skip
            if csv_path is not None:
                _write_csv(csv_path, history)
            sum_loss.zero_()
            sum_l1.zero_()
            n_since = 0
            last_val_t = time.perf_counter()
            val_cost = last_val_t - t_val

    if n_since:
        lr_now = optim.param_groups[0]["lr"]
        best_l1, best_sam, best_step = _validate_and_log(
            net, val_set, device, amp, step, steps_per_epoch, time.perf_counter() - start, lr_now,
            float(sum_loss) / max(1, n_since), float(sum_l1) / max(1, n_since),
            (best_l1, best_sam, best_step), best_state, history, on_best, progress,
        )  # fmt: skip
    if csv_path is not None:
        _write_csv(csv_path, history)
    net.load_state_dict(best_state)
    seconds = time.perf_counter() - start
    log.info(
        "%s after %d steps (%.1f epochs, %.0f s): best validation L1 %.5f, SAM %.3f deg at step %d",
        "cancelled" if cancelled else "finished",
        step,
        step / steps_per_epoch,
        seconds,
        best_l1,
        best_sam,
        best_step,
    )
    return LoopResult(
        steps=step,
        epochs=step / steps_per_epoch,
        seconds=seconds,
        best_step=best_step,
        best_val_l1=best_l1,
        best_val_sam=best_sam,
        cancelled=cancelled,
        history=history,
        best_state=best_state,
    )


def _validate_and_log(
    net: nn.Module,
    val_set: list[WaldPair],
    device: torch.device,
    amp: bool,
    step: int,
    steps_per_epoch: int,
    elapsed: float,
    lr: float,
    train_loss: float,
    train_l1: float,
    best: tuple[float, float, int],
    best_state: dict[str, torch.Tensor],
    history: list[dict[str, float]],
    on_best: Callable[[nn.Module, int, float], None] | None,
    progress: Progress | None,
) -> tuple[float, float, int]:
    """Validate, update the best weights (in place in `best_state`) and append a history row."""
    val_l1, val_sam = evaluate_pairs(net, val_set, device, amp)
    best_l1, best_sam, best_step = best
    improved = val_l1 < best_l1
    if improved:
        best_l1, best_sam, best_step = val_l1, val_sam, step
        for k, v in net.state_dict().items():
            best_state[k] = v.detach().to("cpu", copy=True)
        if on_best is not None:
            on_best(net, step, val_l1)
    history.append(
        {
            "step": step,
            "epoch": round(step / steps_per_epoch, 3),
            "elapsed_s": round(elapsed, 2),
            "lr": lr,
            "train_loss": train_loss,
            "train_l1": train_l1,
            "val_l1": val_l1,
            "val_sam_deg": val_sam,
            "best": int(improved),
        }
    )
    line = (
        f"step {step}: train loss {train_loss:.5f}, validation L1 {val_l1:.5f}, "
        f"SAM {val_sam:.3f} deg{' (best)' if improved else ''}"
    )
    log.info(line)
    if progress is not None:
        progress.info(line)
    return best_l1, best_sam, best_step

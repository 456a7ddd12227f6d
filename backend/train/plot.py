"""PNG plot of the training curves written by the training loop's CSV log (matplotlib, Agg)."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def read_log(csv_path: str | Path) -> list[dict[str, float]]:
    """Rows of a training CSV log as dicts of floats (empty cells are left out)."""
    rows = []
    with open(csv_path, newline="") as fh:
        for raw in csv.DictReader(fh):
            rows.append({k: float(v) for k, v in raw.items() if v not in ("", None)})
    return rows


def plot_curves(csv_path: str | Path, png_path: str | Path, title: str = "") -> Path | None:
    """Plot training loss and validation L1 (left) and validation SAM (right) against the step.

    Returns:
        The PNG path, or None when matplotlib is not installed (the CSV still holds everything).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plot of %s", csv_path)
        return None
    rows = read_log(csv_path)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    tr = [(r["step"], r["train_loss"]) for r in rows if "train_loss" in r]
    if tr:
        ax1.plot(*zip(*tr, strict=True), label="training loss", color="tab:blue")
    va = [(r["step"], r["val_l1"]) for r in rows if "val_l1" in r]
    ax1.plot(*zip(*va, strict=True), label="validation L1", color="tab:orange", marker=".")
    best = [(r["step"], r["val_l1"]) for r in rows if r.get("best") == 1.0 and "val_l1" in r]
    if best:
        ax1.plot(*best[-1], marker="*", markersize=12, color="tab:red", label="best checkpoint")
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_ylabel("L1 (normalised units)")
    ax1.legend()
    ax1.grid(True, alpha=0.3)
    sam = [(r["step"], r["val_sam_deg"]) for r in rows if "val_sam_deg" in r]
    ax2.plot(*zip(*sam, strict=True), color="tab:green", marker=".")
    ax2.set_xlabel("step")
    ax2.set_ylabel("validation SAM (degrees)")
    ax2.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out

"""Fill invalid (nodata) pixels from their valid neighbours before the network sees them.

A nodata value (0, -9999, NaN) fed as a number would be read by the convolutions and the scan as
a very dark or wild pixel and would pull nearby valid outputs towards it. Invalid pixels are
therefore replaced by a smooth extension of the valid ones (pull-push: averages of the valid
pixels over ever larger 2x2 blocks, brought back to full resolution), and set back to nodata in
the output. Valid pixels are never changed.
"""

from __future__ import annotations

import numpy as np


def fill_invalid(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """A copy of `values` whose invalid pixels hold a local average of the valid ones.

    Args:
        values: `(C, h, w)` or `(h, w)` array.
        valid: `(h, w)` bool mask.

    Returns:
        float32 array of the shape of `values`; all zeros when no pixel is valid.
    """
    v = np.asarray(values, dtype=np.float32)
    squeeze = v.ndim == 2
    if squeeze:
        v = v[None]
    if valid.all():
        out = v.copy()
    elif not valid.any():
        out = np.zeros_like(v)
    else:
        base = np.where(valid, v, 0.0).astype(np.float32)
        coarse = _pull_push(base, valid.astype(np.float32))
        # Smooth the filled region a little: nearest-neighbour upsampling leaves block edges
        # that the first convolutions would read as texture.
        smooth = _box3(_box3(coarse))
        out = np.where(valid, v, smooth).astype(np.float32)
    return out[0] if squeeze else out


def _pull_push(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Pull-push fill of `(C, h, w)` values with `(h, w)` weights in {0, 1}."""
    c, h, w = values.shape
    if weight.min() > 0 or (h == 1 and w == 1):
        return values
    # Pull: weighted 2x2 averages on a grid padded to an even size.
    ph, pw = h + h % 2, w + w % 2
    vp = np.zeros((c, ph, pw), np.float32)
    wp = np.zeros((ph, pw), np.float32)
    vp[:, :h, :w] = values * weight
    wp[:h, :w] = weight
    vs = vp.reshape(c, ph // 2, 2, pw // 2, 2).sum(axis=(2, 4))
    ws = wp.reshape(ph // 2, 2, pw // 2, 2).sum(axis=(1, 3))
    coarse = np.where(ws > 0, vs / np.maximum(ws, 1e-12), 0.0).astype(np.float32)
    coarse = _pull_push(coarse, (ws > 0).astype(np.float32))
    # Push: bring the coarse fill back and use it only where nothing valid was.
    up = coarse.repeat(2, axis=1).repeat(2, axis=2)[:, :h, :w]
    return np.where(weight > 0, values, up).astype(np.float32)


def _box3(x: np.ndarray) -> np.ndarray:
    """3x3 mean of `(C, h, w)` with edge replication."""
    p = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="edge")
    h, w = x.shape[1:]
    acc = np.zeros_like(x)
    for dy in range(3):
        for dx in range(3):
            acc += p[:, dy : dy + h, dx : dx + w]
    return acc / 9.0

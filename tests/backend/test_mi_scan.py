"""Multimodal interleaved scan orders: permutations, exact inverses, MS before PAN per window."""

from __future__ import annotations

import pytest
import torch

from backend.model.mi_scan import (
    build_sequences,
    mi_order,
    mi_orders,
    undo_sequences,
    window_pixel_order,
)

SIZES = [(4, 4, 4), (8, 8, 4), (8, 12, 4), (12, 8, 4), (4, 20, 4), (6, 10, 2), (3, 5, 1)]


@pytest.mark.parametrize(("h", "w", "win"), SIZES)
def test_build_and_undo_are_exact_inverses(h: int, w: int, win: int) -> None:
    order, inverse = mi_orders(h, w, win)
    src = torch.randn(2, 3, 2 * h * w)
    seq = build_sequences(src, order)
    assert seq.shape == (2, 4, 3, 2 * h * w)
    back = undo_sequences(seq, inverse)
    for k in range(4):
        assert torch.equal(back[:, k], src)
    # and the other way round: undo then build
    assert torch.equal(build_sequences(undo_sequences(seq, inverse)[:, 0], order)[:, 2], seq[:, 2])


@pytest.mark.parametrize(("h", "w", "win"), SIZES)
def test_every_direction_visits_every_token_once(h: int, w: int, win: int) -> None:
    order, _ = mi_orders(h, w, win)
    for k in range(4):
        assert torch.equal(order[k].sort().values, torch.arange(2 * h * w))


@pytest.mark.parametrize(("h", "w", "win"), SIZES)
def test_ms_tokens_precede_pan_tokens_of_the_same_window(h: int, w: int, win: int) -> None:
    hw, ww = h * w, win * win
    for k in range(4):
        per_window = mi_order(h, w, win, k).view(-1, 2 * ww)
        ms, pan = per_window[:, :ww], per_window[:, ww:]
        assert (ms < hw).all() and (pan >= hw).all()
        assert torch.equal(pan - hw, ms)  # same pixels, same order
        rows, cols = ms // w, ms % w
        # all tokens of a run of ww positions lie in one window
        assert ((rows // win) == (rows[:, :1] // win)).all()
        assert ((cols // win) == (cols[:, :1] // win)).all()


def test_direction_orders_on_a_non_square_map() -> None:
    h, w, win = 8, 12, 4
    k0 = window_pixel_order(h, w, win, 0)
    k2 = window_pixel_order(h, w, win, 2)
    assert k0[0].tolist() == [r * w + c for r in range(4) for c in range(4)]
    assert k0[1, 0].item() == 4  # next window to the right
    assert k2[0].tolist() == [r * w + c for c in range(4) for r in range(4)]
    assert k2[1, 0].item() == 4 * w  # next window below
    # directions 1 and 3 are the per-modality reverses of 0 and 2
    assert torch.equal(window_pixel_order(h, w, win, 1).flatten(), k0.flatten().flip(0))
    assert torch.equal(window_pixel_order(h, w, win, 3).flatten(), k2.flatten().flip(0))
    seq1 = mi_order(h, w, win, 1).view(-1, 32)
    assert (seq1[:, :16] < h * w).all()  # still MS first inside each window


def test_map_not_divisible_by_window_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of the window"):
        mi_orders(6, 8, 4)

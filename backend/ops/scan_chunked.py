"""Chunked selective scan in plain PyTorch: exact, stable, and fast enough on a CPU.

The sequence of L tokens is cut into chunks of T tokens. All chunks are scanned side by side from
a zero state (a Python loop over the T positions of a chunk, each step vectorised over every chunk
and channel), then the state entering each chunk is found by a much shorter scan over the chunk
ends, and finally added back: `h_t = h_local_t + exp(S_t) * h_in`, where `exp(S_t)` is the product
of the decays since the chunk start. Every decay factor is `exp(delta * A) <= 1`, so no step
divides by a decay and nothing can overflow, whatever the step sizes.

The Python loop count is T per chunk level, independent of L; the chunk-end scan recurses with the
same method, so a sequence of millions of tokens needs a few hundred vectorised steps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from .scan_layout import channel_major, grouped_args

DEFAULT_CHUNK = 64
LOG2E = 1.4426950408889634
# Tokens scanned in one pass when no gradient is needed: bounds the (T, ..., N, nc) work tensors
# (elements = batch * channels * d_state * block) to a few hundred MB, whatever L is.
DEFAULT_BLOCK_ELEMENTS = 1 << 24


_local = threading.local()


@contextmanager
def reuse_workspace() -> Iterator[None]:
    """Keep the scan's large work tensors between calls made inside this context.

    Fresh multi-MB tensors cost a page fault per 4 KiB on first touch, about as much as the scan
    arithmetic itself; a caller that scans many stretches of the same size (the network's
    inference path) reuses them instead. Freed when the context ends. Per thread.
    """
    outer = getattr(_local, "buffers", None)
    _local.buffers = {} if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            _local.buffers = None


def work_tensor(name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """An uninitialised work tensor, reused inside `reuse_workspace`."""
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        return torch.empty(shape, dtype=like.dtype, device=like.device)
    key = (name, like.dtype, like.device)
    numel = 1
    for s in shape:
        numel *= s
    buf = buffers.get(key)
    if buf is None or buf.numel() < numel:
        buf = buffers[key] = torch.empty(numel, dtype=like.dtype, device=like.device)
    return buf[:numel].view(shape)


def linear_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor, chunk: int) -> torch.Tensor:
    """All states of `h_i = a_i * h_{i-1} + b_i` along the last dimension (differentiable).

    Args:
        a: (..., n) decays in [0, 1].
        b: (..., n) inputs.
        h0: (...) state before the first step.
        chunk: Steps per chunk of the two-level scheme.

    Returns:
        (..., n) the state after each step.
    """
    n = a.shape[-1]
    if n <= chunk:
        hs, h = [], h0
        for i in range(n):
            h = a[..., i] * h + b[..., i]
            hs.append(h)
        return torch.stack(hs, dim=-1) if hs else b.clone()
    T = chunk
    nc = -(-n // T)
    pad = nc * T - n
    if pad:
        a = torch.cat([a, a.new_ones(*a.shape[:-1], pad)], dim=-1)
        b = torch.cat([b, b.new_zeros(*b.shape[:-1], pad)], dim=-1)
    # (..., nc, T) -> (T, ..., nc): one step of the loop touches every chunk at once
    perm = (a.dim(), *range(a.dim()))
    ac = a.reshape(*a.shape[:-1], nc, T).permute(*perm)
    bc = b.reshape(*b.shape[:-1], nc, T).permute(*perm)
    h = _chunk_states(ac, bc, h0, chunk)
    inv = (*range(1, h.dim()), 0)
    return h.permute(*inv).reshape(*a.shape[:-1], nc * T)[..., :n]


def _chunk_states(ac: torch.Tensor, bc: torch.Tensor, h0: torch.Tensor, chunk: int) -> torch.Tensor:
    """States of a recurrence laid out as chunks (differentiable).

    Args:
        ac: (T, ..., nc) decays, position-in-chunk first, chunk index last.
        bc: (T, ..., nc) inputs.
        h0: (...) state before the first chunk.
        chunk: Chunk length for the recursive scan over chunk ends.

    Returns:
        (T, ..., nc) the state after every token.
    """
    T = ac.shape[0]
    hs, h = [bc[0]], bc[0]
    for t in range(1, T):
        h = ac[t] * h + bc[t]
        hs.append(h)
    h_loc = torch.stack(hs)
    decay = torch.cumprod(ac, dim=0)
    h_in = _carry(decay[-1], h_loc[-1], h0, chunk)
    return h_loc + decay * h_in.unsqueeze(0)


def _carry(a_end: torch.Tensor, h_end: torch.Tensor, h0: torch.Tensor, chunk: int) -> torch.Tensor:
    """State entering each chunk, (..., nc), from each chunk's total decay and local end state."""
    if a_end.shape[-1] == 1:
        return h0.unsqueeze(-1)
    prev = linear_scan(a_end[..., :-1], h_end[..., :-1], h0, chunk)
    return torch.cat([h0.unsqueeze(-1), prev], dim=-1)


def chunk_states_(ac: torch.Tensor, bc: torch.Tensor, h0: torch.Tensor, chunk: int) -> torch.Tensor:
    """In-place `_chunk_states` (no autograd): overwrites `ac` and `bc`, returns `bc`."""
    T = ac.shape[0]
    for t in range(1, T):
        bc[t].addcmul_(ac[t], bc[t - 1])  # local state, from a zero state at the chunk start
        ac[t].mul_(ac[t - 1])  # product of the decays since the chunk start
    h_in = _carry(ac[-1], bc[-1], h0, chunk)
    return bc.addcmul_(ac, h_in.unsqueeze(0))


def selective_scan_chunked(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = True,
    chunk: int | None = None,
    initial_state: torch.Tensor | None = None,
    return_last_state: bool = False,
    block: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """S6 selective scan by chunks, in float32, differentiable, on any device.

    Same arguments and results as `selective_scan_oracle`. L is processed in blocks of `block`
    tokens (state carried from one block to the next) with work tensors updated in place, so
    memory does not grow with L beyond the inputs and output; with a gradient, the backward
    pass recomputes each block's states (`scan_chunked_grad`).

    Args:
        u: (B, D, L) input.
        delta: (B, D, L) raw step sizes.
        A: (D, N) state matrix (negative real).
        B: (B, G, N, L) or (B, N, L) input matrices.
        C: (B, G, N, L) or (B, N, L) output matrices.
        D: (D,) skip weights or None.
        delta_bias: (D,) bias added to delta before softplus, or None.
        delta_softplus: Apply softplus to the step sizes.
        chunk: Tokens per chunk T (default `DEFAULT_CHUNK`).
        initial_state: (B, D, N) state before the first token, or None for zeros.
        return_last_state: Also return the state after the last token.
        block: Tokens per pass (default from `DEFAULT_BLOCK_ELEMENTS`).

    Returns:
        y (B, D, L) float32, and the last state (B, D, N) if asked.
    """
    g = grouped_args(u, delta, A, B, C, D, delta_bias, initial_state)
    y, h_last = selective_scan_grouped(
        g.u, g.delta, g.A, g.B, g.C, g.D, g.delta_bias, delta_softplus, chunk, g.initial_state,
        block,
    )  # fmt: skip
    y, h_last = channel_major(y, h_last, g.sizes)
    return (y, h_last) if return_last_state else y


def selective_scan_grouped(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = True,
    chunk: int | None = None,
    initial_state: torch.Tensor | None = None,
    block: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The chunked scan on token-major tensors, G groups of dg channels sharing B and C.

    This layout is what the network's inference path produces directly (tokens gathered as rows
    of channels), so no transposition of the inputs is needed there.

    Args:
        u: (B, G, L, dg) input.
        delta: (B, G, L, dg) raw step sizes.
        A: (G, dg, N) state matrix (negative real).
        B: (B, G, L, N) input matrices.
        C: (B, G, L, N) output matrices.
        D: (G, dg) skip weights or None.
        delta_bias: (G, dg) step-size bias or None.
        delta_softplus: Apply softplus to `delta + delta_bias`.
        chunk: Tokens per chunk T (default `DEFAULT_CHUNK`).
        initial_state: (B, G, dg, N) state before the first token, or None for zeros.
        block: Tokens per pass (default from `DEFAULT_BLOCK_ELEMENTS`).

    Returns:
        y (B, G, L, dg) float32 and the state after the last token (B, G, dg, N).
    """
    T = int(chunk or DEFAULT_CHUNK)
    if T < 1:
        raise ValueError(f"chunk must be positive, got {T}")
    f32 = torch.float32
    u, delta, A, B, C = (t.to(f32) for t in (u, delta, A, B, C))
    nb, G, L, dg = u.shape
    n = A.shape[-1]
    dt = delta if delta_bias is None else delta + delta_bias.to(f32)[:, None, :]
    if delta_softplus:
        dt = torch.nn.functional.softplus(dt)
    h0 = u.new_zeros(nb, G, dg, n) if initial_state is None else initial_state.to(f32)
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (u, delta, A, B, C, D, delta_bias, initial_state)
    )
    per_token = max(1, nb * G * dg * n)
    blk = int(block or max(T, DEFAULT_BLOCK_ELEMENTS // per_token))
    blk = max(T, blk // T * T)
    if needs_grad:
        from .scan_chunked_grad import ChunkedScan  # (it builds on this module)

        y, h_last = ChunkedScan.apply(u, dt, A, B, C, h0, T, blk)
    else:
        y, h_last, _ = scan_stretches(u, dt, A, B, C, h0, T, blk)
    if D is not None:
        y = y + D.to(f32)[:, None, :] * u
    return y, h_last


def scan_stretches(
    u: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    h0: torch.Tensor,
    chunk: int,
    block: int,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """`scan_block` over L in stretches of `block` tokens, the state carried between them.

    Returns:
        y (B, G, L, dg) without the skip term, the state after the last token (B, G, dg, N),
        and the state entering each stretch (what the backward pass recomputes from).
    """
    L = u.shape[2]
    ys, states, h = [], [], h0
    for s in range(0, L, block):
        e = min(L, s + block)
        states.append(h)
        y_b, h = scan_block(u[:, :, s:e], dt[:, :, s:e], A, B[:, :, s:e], C[:, :, s:e], h, chunk)
        ys.append(y_b)
    y = ys[0] if len(ys) == 1 else torch.cat(ys, dim=2) if ys else torch.zeros_like(u)
    return y, h, states


def scan_block(
    u: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    h0: torch.Tensor,
    chunk: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scan one stretch of tokens with softplus already applied, without autograd (work
    tensors updated in place and reused inside `reuse_workspace`).

    Args:
        u: (B, G, L, dg) inputs; dt: (B, G, L, dg) step sizes; A: (G, dg, N).
        B, C: (B, G, L, N); h0: (B, G, dg, N) entering state.
        chunk: Tokens per chunk.

    Returns:
        y (B, G, L, dg) without the skip term, and the state after the last token (B, G, dg, N).
    """
    nb, G, L, dg = u.shape
    n = A.shape[-1]
    T = max(1, min(chunk, L))
    nc = -(-L // T)
    # chunk layout (T, B, G, dg, N, nc): step t of the loop reads one contiguous slab, and the
    # long chunk axis innermost keeps the broadcasts over N and dg vectorised. The small
    # per-token inputs are copied to that order once (broadcasting from strided views is slow).
    dt_c = to_chunks(dt, T, nc).unsqueeze(-2)
    dtu_c = to_chunks(dt * u, T, nc).unsqueeze(-2)
    B_c = to_chunks(B, T, nc).unsqueeze(3)
    C_c = to_chunks(C, T, nc).unsqueeze(3)
    # exp(dt * A) computed as exp2(dt * A * log2(e)): exp2 is ~2.5x faster than exp on CPU
    A_c = (A * LOG2E).unsqueeze(-1)
    shape = (T, nb, G, dg, n, nc)
    decay = work_tensor("decay", shape, u)
    torch.exp2(torch.mul(dt_c, A_c, out=decay), out=decay)
    x = work_tensor("x", shape, u)
    torch.mul(dtu_c, B_c, out=x)
    h = chunk_states_(decay, x, h0, chunk)
    del decay
    h_last = h[-1, ..., -1].clone()
    y = h.mul_(C_c).sum(dim=4)
    return from_chunks(y, L), h_last


def to_chunks(t: torch.Tensor, T: int, nc: int) -> torch.Tensor:
    """(B, G, L, c) token-major -> (T, B, G, c, nc) chunk layout, contiguous, zero-padded to
    nc * T tokens (a zero step size is a decay of 1 and no input: padded tokens carry the state
    unchanged)."""
    nb, G, L, c = t.shape
    if nc * T > L:
        t = F.pad(t, (0, 0, 0, nc * T - L))
    return t.reshape(nb, G, nc, T, c).permute(3, 0, 1, 4, 2).contiguous()


def from_chunks(t: torch.Tensor, L: int) -> torch.Tensor:
    """(T, B, G, c, nc) chunk layout -> (B, G, L, c), the padding dropped."""
    T, nb, G, c, nc = t.shape
    return t.permute(1, 2, 4, 0, 3).reshape(nb, G, nc * T, c)[:, :, :L]

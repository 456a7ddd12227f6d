"""Triton kernels of the windowed MI selective scan (imported only by `scan_triton`).

The tokens live in one *window-major* buffer (B, L, D), L = 2*H*W: window after window in
row-major order, inside each window its MS pixels then its PAN pixels, each row-major. That is
the sequence of direction 0; the other three directions visit the same windows in another order
(`_block_base`) and the pixels of a window in another fixed order (compile-time offsets), so no
direction's sequence is ever gathered into a copy.

A sequence is cut into segments scanned in parallel:
- pass "state" scans every segment from a zero state and keeps its end state and its total decay
  `exp(A * sum_t delta_t)`;
- `_carry_kernel` chains the segments: the state entering segment s;
- pass "output" scans every segment again from its true entering state and adds `y_t` into the
  output rows.
Softplus and the step-size projection (`dt_rank` -> d_inner) are applied on the fly; every sum
is float32.
"""

from __future__ import annotations

import triton
import triton.language as tl
from triton.language.extra.cuda import libdevice


@triton.jit
def _combine(a1, b1, a2, b2):
    # (a1, b1) then (a2, b2): h -> a2 * (a1 * h + b1) + b2
    return a1 * a2, a2 * b1 + b2


@triton.jit
def _softplus(x, FAST: tl.constexpr):
    # log(1 + e^x) without losing e^x when it is small; x itself above 20 (as mamba-ssm).
    # FAST (CUDA): the hardware log2, whose error (~1e-7 absolute) is below the float32 rounding
    # of the result; tl.log is a ~20-instruction software routine, a tenth of a token's work.
    if FAST:  # noqa: SIM108 (constexpr) the flush-to-zero hardware exp2: no denormal fix-up
        e = tl.exp2(x * 1.4426950408889634)
    else:
        e = tl.exp(x)
    small = e * (1.0 - e * (0.5 - e * (1.0 / 3.0)))
    if FAST:  # noqa: SIM108 (a constexpr branch: only one side is compiled)
        big = libdevice.fast_log2f(1.0 + e) * 0.6931471805599453
    else:
        big = tl.log(1.0 + e)
    return tl.where(x > 20.0, x, tl.where(e < 1e-3, small, big))


@triton.jit
def _exp2_fma(x):
    """2^x for x <= 0 on the FMA and integer pipes instead of the special-function unit (SFU):
    x = j + f, j an integer, |f| <= 1/2; 2^f by a degree-5 polynomial (relative error 2.3e-7 in
    float32, that of the hardware exp2); 2^j added to the exponent bits. Below -125 it gives
    2^-125 instead of 0 (a decay that small makes no difference)."""
    x = tl.maximum(x, -125.0)
    r = x + 12582912.0  # 1.5 * 2^23: rounds x to an integer j held in r's low mantissa bits
    f = x - (r - 12582912.0)
    p = 1.3276465e-3 * f + 9.6755419e-3
    p = p * f + 5.5507135e-2
    p = p * f + 0.24022120
    p = p * f + 0.69314694
    p = p * f + 1.0000001
    j = r.to(tl.int32, bitcast=True) << 23  # j * 2^23 (the constant's bits shift out)
    return (p.to(tl.int32, bitcast=True) + j).to(tl.float32, bitcast=True)


@triton.jit
def _div(a, b, b_inv):
    """a // b for 0 <= a < 2^24 and b > 0 from a float reciprocal, corrected to be exact (an
    integer division by a runtime value is ~35 instructions; this is ~8)."""
    q = ((a.to(tl.float32) + 0.5) * b_inv).to(tl.int32)
    r = a - q * b
    q = tl.where(r < 0, q - 1, q)
    return tl.where(r >= b, q + 1, q)


@triton.jit
def _prefetch_l2(ptr, nbytes, lane):
    """Bulk prefetch of `nbytes` (a multiple of 16) from `ptr` (16-byte aligned) into L2,
    issued by the lane holding 0 (CUDA sm_90)."""
    return tl.inline_asm_elementwise(
        "{ .reg .pred p; setp.eq.s32 p, $2, 0; @p cp.async.bulk.prefetch.L2.global [$1], $3;"
        " mov.b32 $0, 0; }",
        "=r,l,r,r",
        [ptr, lane, nbytes],
        dtype=tl.int32,
        is_pure=False,
        pack=1,
    )


@triton.jit
def _block_base(q, n_win, n_wr, n_wc, nwr_inv, K: tl.constexpr, G: tl.constexpr):
    """Buffer row of the first pixel of the q-th block (one modality of one window) of
    direction K's sequence (nwr_inv = 1 / n_wr)."""
    wi = q // 2
    mod = q % 2
    if K % 2 == 1:  # per-modality reverse: windows reversed, MS block still first
        wi = n_win - 1 - wi
    if K >= 2:  # column-major windows
        wc = _div(wi, n_wr, nwr_inv)
        wi = (wi - wc * n_wr) * n_wc + wc
    return (wi * 2 + mod) * G


@triton.jit
def _scan_seq_kernel(
    u_ptr,  # (B, L, D) tokens, window-major, rows US apart
    p_ptr,  # (B, L, PW) float32 projections: dt_raw at [0, R), B at [BO, BO+N), C at [CO, CO+N)
    a2_ptr,  # (4, N, D) A * log2(e)
    dskip_ptr,  # (4, D)
    wdt_ptr,  # (4, R, D) step-size projection, transposed
    bias_ptr,  # (4, D)
    hin_ptr,  # (B, S, N, D) state entering each segment (pass "output")
    hout_ptr,  # (B, S, N, D) end state of each segment from zero (pass "state")
    aout_ptr,  # (B, S, N, D) total decay of each segment (pass "state")
    y_ptr,  # (B, L, D) output, float32 (or bfloat16), rows YS apart
    L,
    n_win,
    n_wr,
    n_wc,
    nwr_inv,
    seg_blocks,
    n_seg,
    K: tl.constexpr,
    PW: tl.constexpr,
    BO: tl.constexpr,
    CO: tl.constexpr,
    D: tl.constexpr,
    US: tl.constexpr,
    YS: tl.constexpr,
    N: tl.constexpr,
    R: tl.constexpr,
    RP: tl.constexpr,
    WS: tl.constexpr,
    CH: tl.constexpr,
    DB: tl.constexpr,
    OUTPUT: tl.constexpr,
    ACCUMULATE: tl.constexpr,
    FAST: tl.constexpr,
    WIDE: tl.constexpr,
    STAGES: tl.constexpr,
    PF: tl.constexpr,
    POLY: tl.constexpr = 0,
):
    """Token after token inside a segment of direction K's sequence; states are (N, DB), each
    thread holding all N states of its channel.

    A segment is `seg_blocks` whole blocks (one modality of one window, G = WS^2 tokens); a
    block is walked in chunks of CH tokens (CH = WS * m, m dividing WS) whose pixel offsets are
    compile-time constants, so a token costs no index arithmetic. STAGES > 1 software-pipelines
    the block loop: the next blocks' rows are copied ahead (asynchronously, through shared
    memory) while this one is scanned, so a token does not wait for its loads."""
    G: tl.constexpr = WS * WS
    NCH: tl.constexpr = G // CH
    M: tl.constexpr = CH // WS
    seg = tl.program_id(0)
    n_db: tl.constexpr = (D + DB - 1) // DB
    pid = tl.program_id(1)
    db = pid % n_db
    b = pid // n_db
    d = db * DB + tl.arange(0, DB)
    dmask = d < D
    n = tl.arange(0, N)
    kd = K * D + d
    a2 = tl.load(a2_ptr + (K * N + n[:, None]) * D + d[None, :], mask=dmask[None, :], other=0.0)
    bias = tl.load(bias_ptr + kd, mask=dmask, other=0.0)
    rr = tl.arange(0, RP)
    wdt = tl.load(
        wdt_ptr + (K * R + rr[:, None]) * D + d[None, :],
        mask=(rr < R)[:, None] & dmask[None, :],
        other=0.0,
    )  # (RP, DB)
    dsk = tl.load(dskip_ptr + kd, mask=dmask, other=0.0)
    # channel-contiguous states: each thread keeps the N states of its channel
    state_off = ((b * n_seg + seg) * N + n[:, None]) * D + d[None, :]
    smask = dmask[None, :] & (n[:, None] < N)
    if OUTPUT:
        h = tl.load(hin_ptr + state_off, mask=smask, other=0.0)
    else:
        h = tl.zeros((N, DB), dtype=tl.float32)
    sum_delta = tl.zeros((DB,), dtype=tl.float32)
    u_base = u_ptr + b.to(tl.int64) * L * US
    p_base = p_ptr + b.to(tl.int64) * L * PW
    y_base = y_ptr + b.to(tl.int64) * L * YS
    q_start = seg * seg_blocks
    q_end = tl.minimum(q_start + seg_blocks, L // G)
    for q in tl.range(q_start, q_end, num_stages=STAGES):
        base = _block_base(q, n_win, n_wr, n_wc, nwr_inv, K, G)
        if PF > 0:
            qn = tl.minimum(q + PF, L // G - 1)
            nb = _block_base(qn, n_win, n_wr, n_wc, nwr_inv, K, G)
            if WIDE:
                nb = nb.to(tl.int64)
            lane = d - db * DB
            ub: tl.constexpr = u_ptr.dtype.element_ty.primitive_bitwidth // 8
            if (G * US * ub) % 16 == 0:
                _prefetch_l2(u_base + nb * US + lane * 0, lane * 0 + G * US * ub, lane)
            if (G * PW * 4) % 16 == 0:
                _prefetch_l2(p_base + nb * PW + lane * 0, lane * 0 + G * PW * 4, lane)
            yb: tl.constexpr = y_ptr.dtype.element_ty.primitive_bitwidth // 8
            if ACCUMULATE and (G * YS * yb) % 16 == 0:
                _prefetch_l2(y_base + nb * YS + lane * 0, lane * 0 + G * YS * yb, lane)
        for c in range(NCH):
            cc = c
            if K % 2 == 1:
                cc = NCH - 1 - c
            if K >= 2:  # noqa: SIM108 (constexpr) column-major pixels: chunk cc at column cc * M
                row0 = base + cc * M
            else:
                row0 = base + cc * CH
            if WIDE:  # offsets past 2^31 elements per image
                row0 = row0.to(tl.int64)
            u_c = u_base + row0 * US + d
            p_c = p_base + row0 * PW
            y_c = y_base + row0 * YS + d
            for jj in tl.static_range(CH):
                j = jj
                if K % 2 == 1:
                    j = CH - 1 - jj
                if K >= 2:  # noqa: SIM108 (a constexpr branch: only one side is compiled)
                    off = (j % WS) * WS + j // WS
                else:
                    off = j
                u = tl.load(u_c + off * US, mask=dmask, other=0.0).to(tl.float32)
                praw = tl.load(p_c + off * PW + rr, mask=rr < R, other=0.0)
                raw = bias + tl.sum(praw[:, None] * wdt, axis=0)
                delta = _softplus(raw, FAST)
                bn = tl.load(p_c + off * PW + BO + n)
                xd = delta[None, :] * a2
                if POLY > 0:  # the first POLY decays on the FMA pipe: relieves the SFU
                    dec = tl.where(n[:, None] < POLY, _exp2_fma(xd), tl.exp2(xd))
                else:
                    dec = tl.exp2(xd)
                h = dec * h + bn[:, None] * (delta * u)[None, :]
                if OUTPUT:
                    cn = tl.load(p_c + off * PW + CO + n)
                    y = tl.sum(h * cn[:, None], axis=0) + dsk * u
                    if ACCUMULATE:
                        y += tl.load(y_c + off * YS, mask=dmask, other=0.0).to(tl.float32)
                    tl.store(y_c + off * YS, y.to(y_ptr.dtype.element_ty), mask=dmask)
                else:
                    sum_delta += delta
    if not OUTPUT:
        tl.store(hout_ptr + state_off, h, mask=smask)
        tl.store(aout_ptr + state_off, tl.exp2(sum_delta[None, :] * a2), mask=smask)


@triton.jit
def _proj_kernel(
    u_ptr,  # (rows, D) tokens, rows US apart
    w_ptr,  # (DP, PWP) float32 projection, transposed, zero-padded
    out_ptr,  # (rows, PW) dt_raw | B | C per token
    rows,
    D: tl.constexpr,
    US: tl.constexpr,
    DP: tl.constexpr,
    PW: tl.constexpr,
    PWP: tl.constexpr,
    X3: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """One direction's projections of a block of tokens: a (BLOCK, D) @ (D, PW) dot on TF32
    tensor cores (X3: three TF32 passes, about float32 accuracy, for float32 tokens)."""
    q = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    qmask = q < rows
    q64 = q.to(tl.int64)
    dc = tl.arange(0, DP)
    # whole rows (padding included: vector loads), the padding then zeroed
    u = tl.load(
        u_ptr + q64[:, None] * US + dc[None, :], mask=qmask[:, None] & (dc < US)[None, :], other=0.0
    ).to(tl.float32)
    if US > D:
        u = tl.where((dc < D)[None, :], u, 0.0)
    pc = tl.arange(0, PWP)
    w = tl.load(w_ptr + dc[:, None] * PWP + pc[None, :])
    if X3:  # noqa: SIM108 (a constexpr branch: only one side is compiled)
        p = tl.dot(u, w, input_precision="tf32x3")
    else:
        p = tl.dot(u, w, input_precision="tf32")
    tl.store(
        out_ptr + q64[:, None] * PW + pc[None, :],
        p.to(out_ptr.dtype.element_ty),
        mask=qmask[:, None] & (pc < PW)[None, :],
    )


@triton.jit
def _carry_kernel(hout_ptr, aout_ptr, hin_ptr, n_seg, DN, SB: tl.constexpr, BLOCK: tl.constexpr):
    """hin[b, 0] = 0, hin[b, s + 1] = aout[b, s] * hin[b, s] + hout[b, s] over (D*N) lanes,
    SB segments at a time (an associative scan inside each group)."""
    b = tl.program_id(0)
    i = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = i < DN
    h = tl.zeros((BLOCK,), dtype=tl.float32)
    base = b.to(tl.int64) * n_seg * DN
    tl.store(hin_ptr + base + i, h, mask=mask)
    sb = tl.arange(0, SB)
    for s0 in range(0, n_seg, SB):
        s = s0 + sb
        m2 = (s < n_seg)[:, None] & mask[None, :]
        off = base + s[:, None].to(tl.int64) * DN + i[None, :]
        a = tl.load(aout_ptr + off, mask=m2, other=1.0)
        hh = tl.load(hout_ptr + off, mask=m2, other=0.0)
        a_c, h_c = tl.associative_scan((a, hh), 0, _combine)
        after = a_c * h[None, :] + h_c  # state after segment s
        nxt = (s + 1 < n_seg)[:, None] & mask[None, :]
        tl.store(hin_ptr + off + DN, after, mask=nxt)
        h = tl.sum(tl.where((sb == SB - 1)[:, None], after, 0.0), axis=0)


@triton.jit
def _norm_gate_kernel(
    y_ptr,  # (B, n_wr, n_wc, 2, WS, WS, D) scan output, rows YS apart
    z_ptr,  # (B, rows, W, D) gate
    w_ptr,
    b_ptr,
    out_ptr,  # (B, rows, W, D)
    n_pix,
    rows,
    W,
    row0,
    n_wr,
    n_wc,
    modality,
    eps,
    D: tl.constexpr,
    YS: tl.constexpr,
    DP: tl.constexpr,
    WS: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """LayerNorm over the channels of the scan output, times SiLU(z), for a block of pixels."""
    q = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    qmask = q < n_pix
    c = q % W
    r = (q // W) % rows
    b = q // (W * rows)
    img_r = row0 + r
    G: tl.constexpr = WS * WS
    win = (b * n_wr + img_r // WS) * n_wc + c // WS
    src = ((win * 2 + modality) * G + (img_r % WS) * WS + c % WS).to(tl.int64)
    ch = tl.arange(0, DP)
    cmask = ch < D
    m2 = qmask[:, None] & cmask[None, :]
    y = tl.load(
        y_ptr + src[:, None] * YS + ch[None, :], mask=qmask[:, None] & (ch < YS)[None, :], other=0.0
    ).to(tl.float32)
    y = tl.where(m2, y, 0.0)
    mean = tl.sum(y, axis=1) / D
    diff = tl.where(m2, y - mean[:, None], 0.0)
    var = tl.sum(diff * diff, axis=1) / D
    wgt = tl.load(w_ptr + ch, mask=cmask, other=0.0)
    bia = tl.load(b_ptr + ch, mask=cmask, other=0.0)
    yn = diff * tl.rsqrt(var + eps)[:, None] * wgt[None, :] + bia[None, :]
    zo = q.to(tl.int64)[:, None] * D + ch[None, :]
    z = tl.load(z_ptr + zo, mask=m2, other=0.0).to(tl.float32)
    g = yn * z * tl.sigmoid(z)
    tl.store(out_ptr + zo, g.to(out_ptr.dtype.element_ty), mask=m2)

"""Triton kernels of the fused CUDA inference path (imported only by `fused_triton`).

Feature maps are (B, C, H, W), contiguous. A program handles `BLOCK` consecutive pixels of one
image (program axis 1 is the image). A 3x3 neighbourhood is read tap by tap, zero outside the
image; every mixing of channels is a `tl.dot` on a (BLOCK, C) tile, with channel counts padded to
powers of two (padded weights are zero), on TF32 tensor cores (the arithmetic PyTorch's cuDNN
convolutions use by default), sums in float32. Wide intermediates (the FFN's 4F channels, the
mixer's d_inner channels before their depth-wise conv) are stored channels-last, (B, H*W, C), so
that a pixel's channels are one contiguous read for each of the nine taps that need them.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _mm(a, w):
    """(M, K) @ (K, N) float32 on TF32 tensor cores."""
    return tl.dot(a, w, input_precision="tf32")


@triton.jit
def _tap(base, q, r, c, H, W, HW, ch, cmask, qmask, DY: tl.constexpr, DX: tl.constexpr):
    """(BLOCK, CP) float32 pixels shifted by (DY, DX), zero outside the image, and their mask."""
    rr = r + DY
    cc = c + DX
    ok = qmask & (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)
    off = q + DY * W + DX
    v = tl.load(
        base + ch[None, :].to(tl.int64) * HW + off[:, None],
        mask=ok[:, None] & cmask[None, :],
        other=0.0,
    )
    return v.to(tl.float32), ok


@triton.jit
def _bias_free_ln(x, weight, cmask, C: tl.constexpr, eps):
    """Restormer's bias-free LayerNorm over the channels of (BLOCK, CP) (padding is zero)."""
    mean = tl.sum(x, axis=1) / C
    cen = tl.where(cmask[None, :], x - mean[:, None], 0.0)
    var = tl.sum(cen * cen, axis=1) / C
    return x * tl.rsqrt(var + eps)[:, None] * weight[None, :]


@triton.jit
def _pixels(H, W, BLOCK: tl.constexpr):
    """This program's image b, pixel count HW, its BLOCK pixel indices q, their mask, rows and
    columns."""
    HW = H * W
    q = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    return tl.program_id(1), HW, q, q < HW, q // W, q % W


@triton.jit
def _window_row(b, r, c, n_wr, n_wc, modality, WS: tl.constexpr):
    """Row of pixel (r, c) of image b and one modality in the window-major token buffer."""
    win = (b * n_wr + r // WS) * n_wc + c // WS
    return ((win * 2 + modality) * (WS * WS) + (r % WS) * WS + c % WS).to(tl.int64)


@triton.jit
def _conv_kernel(
    x_ptr,  # (B, CIN, H, W)
    w_ptr,  # (KS*KS, CIP, COP) packed weights
    b_ptr,  # (COP,) bias (zeros when the conv has none)
    scale_ptr,  # (B, CIP) per-image affine of the input (HAS_AFF)
    shift_ptr,  # (B, CIP)
    res_ptr,  # (B, COUT, H, W) added to the output (HAS_RES)
    out_ptr,  # (B, COUT, H, W)
    H,
    W,
    CIN: tl.constexpr,
    CIP: tl.constexpr,
    COUT: tl.constexpr,
    COP: tl.constexpr,
    KS: tl.constexpr,
    HAS_AFF: tl.constexpr,
    HAS_RES: tl.constexpr,
    ACT: tl.constexpr,  # 0 none, 1 LeakyReLU(0.2), 2 ReLU
    BLOCK: tl.constexpr,
):
    """`act(conv(scale * x + shift) + bias) + res`, zero padding (KS // 2)."""
    b, HW, q, qmask, r, c = _pixels(H, W, BLOCK)
    ci = tl.arange(0, CIP)
    cimask = ci < CIN
    co = tl.arange(0, COP)
    comask = co < COUT
    x_base = x_ptr + b.to(tl.int64) * CIN * HW
    PAD: tl.constexpr = KS // 2
    acc = tl.zeros((BLOCK, COP), dtype=tl.float32)
    for t in tl.static_range(KS * KS):
        xt, ok = _tap(x_base, q, r, c, H, W, HW, ci, cimask, qmask, t // KS - PAD, t % KS - PAD)
        if HAS_AFF:
            sc = tl.load(scale_ptr + b * CIP + ci)
            sh = tl.load(shift_ptr + b * CIP + ci)
            xt = tl.where(ok[:, None] & cimask[None, :], xt * sc[None, :] + sh[None, :], 0.0)
        wt = tl.load(w_ptr + (t * CIP + ci[:, None]) * COP + co[None, :])
        acc += _mm(xt, wt)
    acc += tl.load(b_ptr + co)[None, :]
    if ACT == 1:
        acc = tl.where(acc >= 0.0, acc, 0.2 * acc)
    if ACT == 2:
        acc = tl.maximum(acc, 0.0)
    o_off = b.to(tl.int64) * COUT * HW + co[None, :].to(tl.int64) * HW + q[:, None]
    omask = qmask[:, None] & comask[None, :]
    if HAS_RES:
        acc += tl.load(res_ptr + o_off, mask=omask, other=0.0).to(tl.float32)
    tl.store(out_ptr + o_off, acc.to(out_ptr.dtype.element_ty), mask=omask)


@triton.jit
def _pointwise_kernel(
    x_ptr,  # (B, F, H, W)
    lnw_ptr,  # (FP,) bias-free LayerNorm weight
    w_ptr,  # (FP, CP) projection, transposed
    out_ptr,  # (B, H*W, CS) channels-last, channels C..CS zero
    HW,
    eps,
    F: tl.constexpr,
    FP: tl.constexpr,
    CS: tl.constexpr,
    CP: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """`W LN(x)` per pixel, stored channels-last (W's padded columns are zero)."""
    b = tl.program_id(1)
    q = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    qmask = q < HW
    ch = tl.arange(0, FP)
    cmask = ch < F
    x = tl.load(
        x_ptr + b.to(tl.int64) * F * HW + ch[None, :].to(tl.int64) * HW + q[:, None],
        mask=qmask[:, None] & cmask[None, :],
        other=0.0,
    )
    xn = _bias_free_ln(x, tl.load(lnw_ptr + ch), cmask, F, eps)
    oc = tl.arange(0, CP)
    y = _mm(xn, tl.load(w_ptr + ch[:, None] * CP + oc[None, :]))
    row = b.to(tl.int64) * HW + q
    tl.store(
        out_ptr + row[:, None] * CS + oc[None, :],
        y.to(out_ptr.dtype.element_ty),
        mask=qmask[:, None] & (oc < CS)[None, :],
    )


@triton.jit
def _dw_chunk(
    h_base,
    dw_ptr,
    q,
    r,
    c,
    H,
    W,
    qmask,
    C: tl.constexpr,
    CS: tl.constexpr,
    c0: tl.constexpr,
    DWP: tl.constexpr,
    CB: tl.constexpr,
):
    """(BLOCK, CB) float32 depth-wise 3x3 conv of channels c0..c0+CB (< C) of a channels-last
    image `h_base` with row stride CS, zero outside the image; dw_ptr (9, DWP) weights. C and CS
    multiples of 8 keep the loads 16-byte vectors."""
    ch = c0 + tl.arange(0, CB)
    cmask = ch < C
    acc = tl.zeros((q.shape[0], CB), dtype=tl.float32)
    for t in range(9):
        rr = r + (t // 3 - 1)
        cc = c + (t % 3 - 1)
        ok = qmask & (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)
        off = (q + (t // 3 - 1) * W + (t % 3 - 1)).to(tl.int64) * CS
        v = tl.load(
            h_base + off[:, None] + ch[None, :], mask=ok[:, None] & cmask[None, :], other=0.0
        )
        acc += v.to(tl.float32) * tl.load(dw_ptr + t * DWP + ch)[None, :]
    return acc


@triton.jit
def _ffn_out_kernel(
    h_ptr,  # (B, H*W, 2*HH) channels-last hidden map: halves a and b
    dwa_ptr,  # (9, HP) depth-wise weights of half a
    dwb_ptr,  # (9, HP) of half b
    wo_ptr,  # (HP, FP) output projection, transposed
    x_ptr,  # (B, F, H, W) block input, updated in place
    H,
    W,
    HH: tl.constexpr,
    HP: tl.constexpr,
    F: tl.constexpr,
    FP: tl.constexpr,
    CB: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """`x += W_o (GELU(a) * b)` with `(a, b) = dwconv3x3(hidden)`, CB hidden channels at a time
    (pixels read only their own x, so in place is safe)."""
    b, HW, q, qmask, r, c = _pixels(H, W, BLOCK)
    ch = tl.arange(0, FP)
    cmask = ch < F
    h_base = h_ptr + b.to(tl.int64) * HW * (2 * HH)
    out = tl.zeros((BLOCK, FP), dtype=tl.float32)
    for j in tl.static_range(HP // CB):
        a = _dw_chunk(h_base, dwa_ptr, q, r, c, H, W, qmask, HH, 2 * HH, j * CB, HP, CB)
        bb = _dw_chunk(h_base + HH, dwb_ptr, q, r, c, H, W, qmask, HH, 2 * HH, j * CB, HP, CB)
        g = 0.5 * a * (1.0 + tl.math.erf(a * 0.7071067811865476)) * bb
        hc = j * CB + tl.arange(0, CB)
        out += _mm(g, tl.load(wo_ptr + hc[:, None] * FP + ch[None, :]))
    x_off = b.to(tl.int64) * F * HW + ch[None, :].to(tl.int64) * HW + q[:, None]
    m2 = qmask[:, None] & cmask[None, :]
    out += tl.load(x_ptr + x_off, mask=m2, other=0.0)
    tl.store(x_ptr + x_off, out, mask=m2)


@triton.jit
def _mixer_dw_kernel(
    h_ptr,  # (B, H*W, DS) channels-last projection x of one modality, zero beyond D
    dw_ptr,  # (9, DP) depth-wise weights
    dwb_ptr,  # (DP,) depth-wise bias
    buf_ptr,  # (B, H/WS, W/WS, 2, WS, WS, D) window-major scan input, rows BS apart
    H,
    W,
    n_wr,
    n_wc,
    modality,
    D: tl.constexpr,
    DS: tl.constexpr,
    BS: tl.constexpr,
    DP: tl.constexpr,
    WS: tl.constexpr,
    CB: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """Scan input `SiLU(dwconv3x3(x) + bias)`, written to its window-major rows, CB channels
    at a time (whole rows: a row's padding gets zeros)."""
    b, HW, q, qmask, r, c = _pixels(H, W, BLOCK)
    h_base = h_ptr + b.to(tl.int64) * HW * DS
    row = _window_row(b, r, c, n_wr, n_wc, modality, WS)
    for j in tl.static_range((D + CB - 1) // CB):
        acc = _dw_chunk(h_base, dw_ptr, q, r, c, H, W, qmask, DS, DS, j * CB, DP, CB)
        dc = j * CB + tl.arange(0, CB)
        acc += tl.load(dwb_ptr + dc)[None, :]
        u = tl.where((dc < D)[None, :], acc * tl.sigmoid(acc), 0.0).to(buf_ptr.dtype.element_ty)
        tl.store(
            buf_ptr + row[:, None] * BS + dc[None, :], u, mask=qmask[:, None] & (dc < BS)[None, :]
        )


@triton.jit
def _y_chunk(y_row, qmask, dc, D: tl.constexpr, YS: tl.constexpr):
    """Channels `dc` of the scan output rows `y_row` (BLOCK, 1) of the pixels in `qmask` as
    float32, 0 beyond D: loaded with the row padding (whole vectors), which is then replaced by
    zeros."""
    yv = tl.load(y_row + dc[None, :], mask=qmask[:, None] & (dc < YS)[None, :], other=0.0)
    yv = yv.to(tl.float32)
    return tl.where((dc < D)[None, :], yv, 0.0)


@triton.jit
def _mixer_out_kernel(
    x_ptr,  # (B, F, H, W) block input of one modality, updated in place
    lnw_ptr,  # (FP,) bias-free LayerNorm weight (the mixer's input norm)
    wz_ptr,  # (FP, DC) gate part of the input projection, transposed
    y_ptr,  # (B, H/WS, W/WS, 2, WS, WS, D) float32 or bfloat16 scan output, rows YS apart
    nw_ptr,  # (DC,) output LayerNorm weight
    nb_ptr,  # (DC,) output LayerNorm bias
    wo_ptr,  # (DC, FP) output projection, transposed
    H,
    W,
    n_wr,
    n_wc,
    modality,
    eps_in,
    eps_out,
    F: tl.constexpr,
    FP: tl.constexpr,
    D: tl.constexpr,
    YS: tl.constexpr,
    DC: tl.constexpr,
    CB: tl.constexpr,
    WS: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """`x += W_o (LayerNorm(y) * SiLU(W_z LN(x)))` for one modality (pixels independent), CB of
    the D (padded: DC) scan channels at a time: the statistics of y in two sweeps (mean, then
    centred variance), then gate and projection chunk by chunk."""
    b, HW, q, qmask, r, c = _pixels(H, W, BLOCK)
    ch = tl.arange(0, FP)
    cmask = ch < F
    x_base = x_ptr + b.to(tl.int64) * F * HW
    xc, ok = _tap(x_base, q, r, c, H, W, HW, ch, cmask, qmask, 0, 0)
    xn = _bias_free_ln(xc, tl.load(lnw_ptr + ch), cmask, F, eps_in)
    y_row = y_ptr + _window_row(b, r, c, n_wr, n_wc, modality, WS)[:, None] * YS
    total = tl.zeros((BLOCK,), dtype=tl.float32)
    for j in range(DC // CB):
        dc = j * CB + tl.arange(0, CB)
        yv = _y_chunk(y_row, qmask, dc, D, YS)
        total += tl.sum(yv, axis=1)
    mean = total / D
    total = tl.zeros((BLOCK,), dtype=tl.float32)
    for j in range(DC // CB):
        dc = j * CB + tl.arange(0, CB)
        yv = _y_chunk(y_row, qmask, dc, D, YS)
        cen = tl.where((dc < D)[None, :], yv - mean[:, None], 0.0)
        total += tl.sum(cen * cen, axis=1)
    rstd = tl.rsqrt(total / D + eps_out)
    out = xc
    for j in range(DC // CB):
        dc = j * CB + tl.arange(0, CB)
        yv = _y_chunk(y_row, qmask, dc, D, YS)
        yn = (yv - mean[:, None]) * rstd[:, None] * tl.load(nw_ptr + dc)[None, :]
        z = _mm(xn, tl.load(wz_ptr + ch[:, None] * DC + dc[None, :]))
        g = (yn + tl.load(nb_ptr + dc)[None, :]) * (z * tl.sigmoid(z))
        out += _mm(g, tl.load(wo_ptr + dc[:, None] * FP + ch[None, :]))
    o_off = ch[None, :].to(tl.int64) * HW + q[:, None]
    tl.store(x_base + o_off, out, mask=qmask[:, None] & cmask[None, :])

"""The MI selective scan of a whole mixer in Triton (CUDA inference).

Input is one window-major token buffer (see `window_major`); the four directions are scanned one
after the other straight from it (no gathered copy of any scan order) and their outputs are
summed into one float32 buffer of the same layout. Each direction's step-size, B and C
projections are one Triton dot kernel over the buffer (TF32; three TF32 passes for float32
tokens). Triton is imported on first use only, so CPU users never load it;
`TRITON_INTERPRET=1` runs the same kernels on a CPU (tests).
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
from dataclasses import dataclass

import torch

LOG2E = 1.0 / math.log(2.0)


@dataclass(frozen=True)
class ScanLaunch:
    """Launch shape of the Triton scan (measured: bench/scan_triton.py).

    Attributes:
        d_block, num_warps: channels and warps per program.
        programs: how many programs the segment length is chosen to reach; None: as many as
            the GPU runs at once (`programs_per_wave`), at most 4096 (the fastest measured on an
            H200, whose wave is 4224).
        stages, out_stages: software-pipeline depth of the block loop (1: none) in the state
            and output passes.
        prefetch: blocks ahead each program prefetches its rows into L2 (0: none; CUDA only).
        poly, out_poly: how many of a token's N decays each pass computes on the FMA pipe
            instead of the special-function unit.
        proj_block, proj_warps: tokens per program and warps of the projection kernel.
        carry_block: state lanes per program of the kernel chaining the segments.
    """

    d_block: int = 32
    num_warps: int = 1
    programs: int | None = None
    stages: int = 1
    out_stages: int = 1
    prefetch: int = 1
    poly: int = 0
    out_poly: int = 0
    proj_block: int = 64
    proj_warps: int = 4
    carry_block: int = 128


# the launch shape used when none is given (read at call time: benchmarks may replace it)
LAUNCH = ScanLaunch()

# resident thread blocks per multiprocessor by compute capability (CUDA programming guide,
# "Technical Specifications per Compute Capability"); 16 for capabilities not listed
_BLOCKS_PER_SM = {(7, 0): 32, (7, 5): 16, (8, 0): 32, (8, 6): 16, (8, 7): 16, (8, 9): 24,
                  (9, 0): 32, (10, 0): 32}  # fmt: skip
# registers a thread of the scan kernels uses at most (the state pass: 64 when compiled for
# sm_90 with Triton 3.6)
SCAN_REGISTERS = 64
MAX_PROGRAMS = 4096


def programs_per_wave(
    sm_count: int,
    capability: tuple[int, int],
    regs_per_sm: int,
    threads_per_sm: int,
    num_warps: int,
    regs_per_thread: int = SCAN_REGISTERS,
) -> int:
    """Programs of `num_warps` warps that a GPU keeps resident at once: one wave.

    A launch of a few more programs than that runs a second, almost empty wave whose time adds
    to the first (the scan's programs all take about as long).
    """
    warp_regs = -(-regs_per_thread * 32 // 256) * 256  # allocated per warp in units of 256
    per_sm = min(
        _BLOCKS_PER_SM.get(tuple(capability), 16),
        regs_per_sm // (warp_regs * num_warps),
        threads_per_sm // (32 * num_warps),
    )
    return max(1, per_sm) * sm_count


def default_programs(dev: torch.device, num_warps: int) -> int:
    """`programs_per_wave` of CUDA device `dev`, at most `MAX_PROGRAMS` (4096 elsewhere)."""
    if dev.type != "cuda":
        return MAX_PROGRAMS
    p = torch.cuda.get_device_properties(dev)
    wave = programs_per_wave(
        p.multi_processor_count,
        (p.major, p.minor),
        getattr(p, "regs_per_multiprocessor", 65536),
        p.max_threads_per_multi_processor,
        num_warps,
    )
    return min(MAX_PROGRAMS, wave)


def triton_available() -> bool:
    """True if Triton can be imported (without importing it)."""
    return importlib.util.find_spec("triton") is not None


def window_major_shape(b: int, h: int, w: int, window: int, d: int) -> tuple[int, ...]:
    """Shape (B, H/ws, W/ws, 2, ws, ws, D) of the window-major buffer; view it as (B, 2HW, D)."""
    return (b, h // window, w // window, 2, window, window, d)


ROW_ALIGN = 8


def row_stride(d: int) -> int:
    """Elements from one token's row to the next in the window-major buffers the engine
    allocates: d rounded up to `ROW_ALIGN` (16-byte rows in bfloat16), so that the kernels
    move whole rows as vectors (85 channels: 88)."""
    return -(-d // ROW_ALIGN) * ROW_ALIGN


def window_major_buffer(
    b: int, h: int, w: int, window: int, d: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """Uninitialised (B, H/ws, W/ws, 2, ws, ws, d) buffer whose token rows are `row_stride(d)`
    elements apart: a view of a padded allocation (the padding is never read as data)."""
    full = torch.empty(
        window_major_shape(b, h, w, window, row_stride(d)), dtype=dtype, device=device
    )
    return full[..., :d]


def token_rows(t: torch.Tensor) -> int:
    """Row stride of a token tensor (..., d): every dimension but the last packs whole rows
    of that stride, channels are contiguous, and the storage covers the last row's padding.

    Raises:
        ValueError: `t` is not laid out that way (the kernels index rows as `row * stride`).
    """
    rs = t.stride(-1) == 1 and t.dim() >= 2 and t.stride(-2)
    expect = rs
    ok = bool(rs) and rs >= t.shape[-1]
    for size, stride in zip(reversed(t.shape[:-1]), reversed(t.stride()[:-1]), strict=True):
        ok = ok and (size == 1 or stride == expect)
        expect *= size
    end = (t.storage_offset() + t[..., 0].numel() * rs) * t.element_size() if ok else 0
    if not ok or end > t.untyped_storage().nbytes():
        raise ValueError(
            f"token tensor {tuple(t.shape)} with strides {t.stride()}: rows must be packed, "
            "channels contiguous"
        )
    return int(rs)


def window_view(buf: torch.Tensor, modality: int) -> torch.Tensor:
    """(B, D, H, W) view of one modality (0 MS, 1 PAN) of a (B, H/ws, W/ws, 2, ws, ws, D) buffer.

    Not a plain view (rows of windows are not evenly strided): returned as a permuted 6-D view
    (B, D, H/ws, ws, W/ws, ws); use `to_window_major`/`from_window_major` for 4-D maps.
    """
    return buf[:, :, :, modality].permute(0, 5, 1, 3, 2, 4)


def to_window_major(x: torch.Tensor, buf: torch.Tensor, modality: int, row0: int = 0) -> None:
    """Copy (B, D, h, W) rows `row0..row0+h` of one modality into the window-major buffer.

    `row0` and h are multiples of the window.
    """
    b, d, h, w = x.shape
    ws = buf.shape[4]
    dst = window_view(buf, modality)[:, :, row0 // ws : (row0 + h) // ws]
    dst.copy_(x.view(b, d, h // ws, ws, w // ws, ws))


def from_window_major(buf: torch.Tensor, modality: int, row0: int, rows: int) -> torch.Tensor:
    """(B, rows, W, D) channels-last copy of rows `row0..row0+rows` of one modality."""
    ws = buf.shape[4]
    part = buf[:, row0 // ws : (row0 + rows) // ws, :, modality]  # (B, r, c, ws, ws, D)
    b, r, c = part.shape[:3]
    return part.permute(0, 1, 3, 2, 4, 5).reshape(b, r * ws, c * ws, buf.shape[-1])


def _on(dev: torch.device) -> contextlib.AbstractContextManager:
    """Make `dev` the current CUDA device: Triton launches on the current device, and a worker
    thread of the multi-GPU dispatcher may hold tensors of another one."""
    return torch.cuda.device(dev) if dev.type == "cuda" else contextlib.nullcontext()


def projection_layout(r: int, n: int, itemsize: int) -> tuple[int, int, int]:
    """Columns (B offset, C offset, row width) of a token's projection row `dt_raw | B | C`,
    each group starting on a 16-byte boundary (vector loads)."""
    align = max(1, 16 // itemsize)
    bo = -(-r // align) * align
    co = bo + -(-n // align) * align
    return bo, co, co + -(-n // align) * align


def chunk_tokens(window: int) -> int:
    """Tokens of one unrolled chunk of a window's block: window * m for the largest divisor m of
    the window with window * m <= 32 (whole rows or columns, so that every direction's pixel
    order inside a chunk is fixed at compile time)."""
    m = max(i for i in range(1, window + 1) if window % i == 0 and window * i <= max(32, window))
    return window * m


def mi_scan(
    u: torch.Tensor,
    x_proj_weight: torch.Tensor,
    dt_proj_weight: torch.Tensor,
    dt_bias: torch.Tensor,
    A: torch.Tensor,
    D: torch.Tensor,
    n_wr: int,
    n_wc: int,
    window: int,
    launch: ScanLaunch | None = None,
    out_dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Sum over the four MI directions of the S6 scan outputs, in window-major layout.

    Args:
        u: (B, L, d) window-major tokens (float32 or bfloat16), L = 2 * n_wr * n_wc * window^2,
            rows packed (`token_rows`: e.g. from `window_major_buffer`) or copied to be.
        x_proj_weight: (4, R + 2N, d) per-direction x projections (rows dt_raw, B, C).
        dt_proj_weight: (4, d, R); dt_bias: (4*d,); A: (4*d, N) negative; D: (4*d,).
        n_wr, n_wc: Windows per column and per row; window: window side.
        launch: Kernel launch shape (default `LAUNCH`).
        out_dtype: float32, or bfloat16 to halve the output's traffic (each direction's sum is
            rounded to it; the recurrence stays float32).

    Returns:
        (B, L, d) `out_dtype`: `sum_k y_k` at each token's row; a view whose rows are
        `row_stride(d)` apart.
    """
    from . import scan_triton_kernels as kern

    b, L, d = u.shape
    rows = x_proj_weight.shape[1]
    R = dt_proj_weight.shape[-1]
    N = A.shape[-1]
    n_win = n_wr * n_wc
    if rows != R + 2 * N or 2 * n_win * window * window != L:
        raise ValueError(f"inconsistent scan shapes: u {tuple(u.shape)}, x_proj {rows} rows")
    if n_win >= 2**24:
        raise ValueError(f"{n_win} windows: tiles of at most 2^24 windows (16384^2 pixels)")
    try:
        us = token_rows(u)
    except ValueError:
        u = u.contiguous()
        us = d
    dev = u.device
    K = x_proj_weight.shape[0]
    # channel-contiguous (K, N, d) and (K, R, d): each thread of the kernel holds one channel
    a2 = (A.float() * LOG2E).view(K, d, N).transpose(1, 2).contiguous()
    dsk = D.float().contiguous()
    wdt = dt_proj_weight.float().transpose(1, 2).contiguous()
    bias = dt_bias.float().contiguous()
    # float32 projections in every precision: a bfloat16 B or C costs the scan a conversion
    # per state and token
    bo, co, pw = projection_layout(R, N, 4)
    launch = launch or LAUNCH
    DB = launch.d_block
    n_db = -(-d // DB)
    # segments of whole blocks (one modality of one window) scanned in parallel: enough
    # programs to fill the GPU, not more than it runs at once
    g = window * window
    n_blocks = L // g
    programs = launch.programs or default_programs(dev, launch.num_warps)
    n_seg = max(1, min(n_blocks, programs // max(1, b * n_db)))
    seg_blocks = -(-n_blocks // n_seg)
    n_seg = -(-n_blocks // seg_blocks)
    hout = torch.empty(b, n_seg, N, d, dtype=torch.float32, device=dev)
    aout = torch.empty_like(hout)
    hin = torch.empty_like(hout)
    if out_dtype not in (torch.float32, torch.bfloat16):
        raise ValueError(f"the scan's output is float32 or bfloat16, got {out_dtype}")
    ys = row_stride(d)
    y = torch.empty(b, L, ys, dtype=out_dtype, device=dev)[..., :d]
    # (K, DP, PWP): columns dt_raw | B | C at `projection_layout`, transposed, zero-padded to
    # powers of two for the projection kernel's dot
    dp, pwp = max(16, triton_next_pow2(d)), max(16, triton_next_pow2(pw))
    w_t = torch.zeros(K, dp, pwp, dtype=torch.float32, device=dev)
    w_x = x_proj_weight.float().transpose(1, 2)  # (K, d, R + 2N)
    w_t[:, :d, :R] = w_x[..., :R]
    w_t[:, :d, bo : bo + N] = w_x[..., R : R + N]
    w_t[:, :d, co : co + N] = w_x[..., R + N :]
    p_k = torch.empty(b, L, pw, dtype=torch.float32, device=dev)
    proj_block = launch.proj_block
    grid = (n_seg, b * n_db)
    dn = d * N
    carry_block = launch.carry_block
    cuda = dev.type == "cuda"
    with _on(dev):
        for k in range(K):
            kern._proj_kernel[(-(-(b * L) // proj_block),)](
                u, w_t[k], p_k, b * L, D=d, US=us, DP=dp, PW=pw, PWP=pwp,
                X3=u.dtype == torch.float32, BLOCK=proj_block, num_warps=launch.proj_warps,
            )  # fmt: skip
            common = dict(
                L=L, n_win=n_win, n_wr=n_wr, n_wc=n_wc, nwr_inv=1.0 / n_wr,
                seg_blocks=seg_blocks, n_seg=n_seg, K=k, PW=pw, BO=bo, CO=co, D=d, US=us, YS=ys,
                N=N, R=R,
                RP=triton_next_pow2(R), WS=window, CH=chunk_tokens(window), DB=DB,
                FAST=cuda, WIDE=L * max(us, ys, pw) >= 2**31, PF=launch.prefetch if cuda else 0,
                num_warps=launch.num_warps,
            )  # fmt: skip
            args = (u, p_k, a2, dsk, wdt, bias, hin, hout, aout, y)
            kern._scan_seq_kernel[grid](
                *args, OUTPUT=False, ACCUMULATE=False, STAGES=launch.stages,
                POLY=launch.poly, **common,
            )  # fmt: skip
            kern._carry_kernel[(b, -(-dn // carry_block))](
                hout, aout, hin, n_seg, dn, SB=32, BLOCK=carry_block
            )
            kern._scan_seq_kernel[grid](
                *args, OUTPUT=True, ACCUMULATE=k > 0, STAGES=launch.out_stages,
                POLY=launch.out_poly, **common,
            )  # fmt: skip
            del args
    return y


def norm_gate(
    y: torch.Tensor,
    z: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    eps: float,
    modality: int,
    row0: int,
    window: int,
) -> torch.Tensor:
    """`LayerNorm(y) * SiLU(z)` for rows `row0..row0+h` of one modality, read from the scan's
    window-major output.

    Args:
        y: (B, H/ws, W/ws, 2, ws, ws, d) scan output, rows packed (`token_rows`).
        z: (B, h, W, d) contiguous gate of those rows (any float dtype).
        weight, bias: (d,) LayerNorm affine; eps: added to the variance.
        modality: 0 MS, 1 PAN; row0: first image row (multiple of `window`).

    Returns:
        (B, h, W, d) in z's dtype.
    """
    from . import scan_triton_kernels as kern

    b, rows, w, d = z.shape
    n_wr, n_wc = y.shape[1], y.shape[2]
    out = torch.empty_like(z)
    block = 32
    grid = (-(-(b * rows * w) // block),)
    with _on(z.device):
        kern._norm_gate_kernel[grid](
            y, z, weight.float().contiguous(), bias.float().contiguous(), out, b * rows * w,
            rows, w, row0, n_wr, n_wc, modality, eps, D=d, YS=token_rows(y),
            DP=triton_next_pow2(d), WS=window,
            BLOCK=block, num_warps=4,
        )  # fmt: skip
    return out


def triton_next_pow2(n: int) -> int:
    """Smallest power of two >= n."""
    return 1 << max(0, (n - 1).bit_length())

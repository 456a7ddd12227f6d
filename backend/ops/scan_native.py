"""Native CPU selective scan: a small C loop compiled on first use, several threads.

The chunked PyTorch scan materialises (tokens x channels x states) work tensors and is bound
by memory traffic; the sequential loop of `native/selective_scan.c` keeps the state in L1 and
reads each input once, about 20x less work on a CPU. It needs a C compiler (`cc`, `gcc` or
`clang`, or `$CC`) the first time: the library is built into a per-user cache folder, keyed
by the source and the flags, and reused afterwards. Without a compiler (or with
`MMMAMBA_NATIVE_SCAN=0`) `native_scan_available()` is False and the chunked scan is used; the
reason is logged once. Inference only: no gradient flows through this engine.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from .scan_layout import channel_major, grouped_args

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("native") / "selective_scan.c"
LOG2E = 1.4426950408889634
MAX_CHANNELS = 128  # channels per call (the C code's local buffers)
MAX_STATE = 64
FLAG_SETS = (["-O3", "-march=native"], ["-O3"])

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_failed: str | None = None


_pool_lock = threading.Lock()
_executor: tuple[int, ThreadPoolExecutor] | None = None


def _pool(workers: int) -> ThreadPoolExecutor:
    """One worker pool for the process, kept between calls (the network calls the scan
    thousands of times per image); replaced when another thread count is asked for."""
    global _executor
    with _pool_lock:
        if _executor is None or _executor[0] != workers:
            if _executor is not None:
                _executor[1].shutdown(wait=False)
            _executor = (workers, ThreadPoolExecutor(workers, thread_name_prefix="mmmamba-scan"))
        return _executor[1]


def cache_dir() -> Path:
    """Folder of the compiled library: `$MMMAMBA_CACHE`, else the user's cache folder."""
    env = os.environ.get("MMMAMBA_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmmamba"


def _compiler() -> str | None:
    cc = os.environ.get("CC")
    if cc:
        return shutil.which(cc)
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _build(cc: str) -> Path:
    """Compile the C source (or find it compiled) and return the library path."""
    src = SOURCE.read_bytes()
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for flags in FLAG_SETS:
        key = hashlib.sha256(
            src + " ".join([cc, *flags, platform.machine(), platform.node()]).encode()
        ).hexdigest()[:16]
        lib = folder / f"selective_scan-{key}.so"
        if lib.is_file():
            return lib
        # compile to a temporary name, then rename: concurrent processes never load half a file
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=folder)
        os.close(fd)
        cmd = [cc, *flags, "-fPIC", "-shared", "-o", tmp, str(SOURCE)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if res.returncode == 0:
                os.replace(tmp, lib)
                return lib
            errors.append(res.stderr.strip().splitlines()[-1:] or [f"exit {res.returncode}"])
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append([str(exc)])
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise OSError(f"{cc} could not build {SOURCE.name}: {errors}")


def _load() -> ctypes.CDLL | None:
    global _lib, _failed
    with _lock:
        if _lib is not None or _failed is not None:
            return _lib
        if os.environ.get("MMMAMBA_NATIVE_SCAN", "1").strip() in ("0", "false", "no", "off"):
            _failed = "disabled by MMMAMBA_NATIVE_SCAN"
        else:
            cc = _compiler()
            if cc is None:
                _failed = "no C compiler (cc, gcc or clang) found"
            else:
                try:
                    lib = ctypes.CDLL(str(_build(cc)))
                    fn = lib.mmm_scan_group
                    fn.restype = ctypes.c_int
                    fn.argtypes = (
                        [ctypes.c_void_p] * 8
                        + [ctypes.c_int64] * 6
                        + [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
                        + [ctypes.c_void_p, ctypes.c_int64]
                    )
                    _lib = lib
                except OSError as exc:
                    _failed = str(exc)
        if _lib is None:
            log.info("native CPU scan unavailable (%s); using the chunked PyTorch scan", _failed)
        return _lib


def native_scan_available() -> bool:
    """True if the native scan library is built and loaded (builds it on the first call)."""
    return _load() is not None


def native_scan_grouped(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = True,
    initial_state: torch.Tensor | None = None,
    threads: int | None = None,
    add_into: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor]:
    """The S6 scan on token-major CPU tensors, G groups of dg channels sharing B and C.

    Same arguments and results as `scan_chunked.selective_scan_grouped` (inference only),
    except that with `add_into = (acc, rows)` the outputs are not returned but added to the
    rows of `acc`: `acc[b, rows[g, t]] += y[b, g, t]` (y is then None).

    Args:
        u: (B, G, L, dg) input.
        delta: (B, G, L, dg) raw step sizes.
        A: (G, dg, N) state matrix (negative real).
        B: (B, G, L, N) input matrices; C: (B, G, L, N) output matrices.
        D: (G, dg) skip weights or None; delta_bias: (G, dg) or None.
        delta_softplus: Apply softplus to `delta + delta_bias`.
        initial_state: (B, G, dg, N) state before the first token, or None for zeros.
        threads: Worker threads (default `torch.get_num_threads()`).
        add_into: Optional (acc (B, R, dg) float32 contiguous, rows (G, L) int64 in [0, R)).

    Returns:
        y (B, G, L, dg) float32 (None with `add_into`) and the state after the last token
        (B, G, dg, N).
    """
    lib = _load()
    if lib is None:
        raise RuntimeError(f"native CPU scan unavailable: {_failed}")
    if u.device.type != "cpu":
        raise ValueError("the native scan runs on CPU tensors only")
    f32 = torch.float32
    nb, G, L, dg = u.shape
    n = A.shape[-1]
    if n > MAX_STATE:
        raise ValueError(f"d_state {n} exceeds the native scan's limit {MAX_STATE}")
    with torch.no_grad():
        # bias and softplus are applied inside the loop (no full-size step-size copies)
        dt = delta.to(f32).contiguous()
        bias32 = None if delta_bias is None else delta_bias.to(f32).contiguous()
        u32 = u.to(f32).contiguous()
        a2 = (A.to(f32) * LOG2E).contiguous()
        b32, c32 = B.to(f32).contiguous(), C.to(f32).contiguous()
        d32 = None if D is None else D.to(f32).contiguous()
        if initial_state is None:
            state = u32.new_zeros(nb, G, dg, n)
        else:
            state = initial_state.to(f32).clone().contiguous()
        step = -(-dg // -(-dg // MAX_CHANNELS))  # even channel ranges of <= MAX_CHANNELS
        ranges = [(d0, min(dg, d0 + step)) for d0 in range(0, dg, step)]
        if add_into is None:
            y = torch.empty_like(u32)
            acc, rows, acc_rows = None, None, 0
            jobs = [(((i, g),), d0, d1) for i in range(nb) for g in range(G) for d0, d1 in ranges]
        else:
            y = None
            acc, rows = add_into
            if acc.dtype != f32 or not acc.is_contiguous() or acc.shape[-1] != dg:
                raise ValueError("add_into needs a contiguous float32 (B, R, dg) accumulator")
            rows = rows.to(torch.int64).contiguous()
            if rows.shape != (G, L):
                raise ValueError(
                    f"add_into rows must be (G, L) = {(G, L)}, got {tuple(rows.shape)}"
                )
            acc_rows = acc.shape[1]
            if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= acc_rows):
                raise ValueError(f"add_into rows must lie in [0, {acc_rows})")
            # groups that add into the same rows run one after the other in a job: jobs split
            # channels (and batch items) only, so no two threads add to the same element
            jobs = [(tuple((i, g) for g in range(G)), d0, d1) for i in range(nb)
                    for d0, d1 in ranges]  # fmt: skip
            if len(jobs) < (threads or torch.get_num_threads()):
                # more, narrower channel ranges so that every thread gets work
                parts = max(len(ranges), (threads or torch.get_num_threads()) // max(1, nb))
                width = -(-dg // parts)
                jobs = [(tuple((i, g) for g in range(G)), d0, min(dg, d0 + width))
                        for i in range(nb) for d0 in range(0, dg, width)]  # fmt: skip
        fn = lib.mmm_scan_group
        esz = 4

        def one(i: int, g: int, d0: int, d1: int) -> int:
            off = (i * G + g) * L * dg * esz
            offbc = (i * G + g) * L * n * esz
            return fn(
                u32.data_ptr() + off,
                dt.data_ptr() + off,
                a2.data_ptr() + g * dg * n * esz,
                b32.data_ptr() + offbc,
                c32.data_ptr() + offbc,
                None if d32 is None else d32.data_ptr() + g * dg * esz,
                state.data_ptr() + (i * G + g) * dg * n * esz,
                None if y is None else y.data_ptr() + off,
                L,
                dg,
                n,
                d0,
                d1,
                dg,
                None if rows is None else rows.data_ptr() + g * L * 8,
                None if acc is None else acc.data_ptr() + i * acc_rows * dg * esz,
                dg,
                None if bias32 is None else bias32.data_ptr() + g * dg * esz,
                int(delta_softplus),
            )

        def run(job: tuple) -> int:
            items, d0, d1 = job  # the (batch, group) pairs scanned one after the other
            return max(one(i, g, d0, d1) for i, g in items)

        workers = max(1, min(len(jobs), threads or torch.get_num_threads()))
        # ctypes releases the GIL during the call: the pool's threads scan in parallel
        codes = [run(j) for j in jobs] if workers == 1 else list(_pool(workers).map(run, jobs))
        if any(codes):
            raise RuntimeError("native scan refused its arguments (channel or state limit)")
    return y, state


def native_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = True,
    initial_state: torch.Tensor | None = None,
    return_last_state: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Channel-major front end of `native_scan_grouped` (same layout as the other engines).

    Args:
        u, delta: (B, D, L); A: (D, N); B, C: (B, G, N, L) or (B, N, L); D, delta_bias: (D,).
        initial_state: (B, D, N) or None; return_last_state: also return the last state.

    Returns:
        y (B, D, L) float32, and the last state (B, D, N) if asked.
    """
    g = grouped_args(u, delta, A, B, C, D, delta_bias, initial_state)
    y, h = native_scan_grouped(
        g.u, g.delta, g.A, g.B, g.C, g.D, g.delta_bias, delta_softplus, g.initial_state
    )
    assert y is not None  # no accumulator given: the outputs are returned
    y, h = channel_major(y, h, g.sizes)
    return (y, h) if return_last_state else y

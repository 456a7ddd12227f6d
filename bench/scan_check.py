"""Selective-scan engines side by side: mamba-ssm CUDA kernel, chunked PyTorch scan, float64 oracle.

Forward and backward errors and timings at the network's real size: 340 channels (4 directions x
85), state 8, B and C grouped per direction, L = 2 x 512 x 512 tokens. The oracle (one Python step
per token) is compared and timed on the first `--oracle-len` tokens only, and the table says so.
Optionally times the whole network (default config, 4 bands) with each engine.

On the GPU machine, mamba-ssm is built first (it has no package registry). Fetch its sdist here:
    MAMBA_SKIP_CUDA_BUILD=TRUE python -m pip download --no-deps --no-binary :all: \\
        --no-build-isolation -d .gpu mamba-ssm==2.3.2.post1
then run there:
    bash .gpu/build_mamba_ssm.sh && python3 bench/scan_check.py
On a CPU it runs the chunked scan and the oracle only (use a smaller --length).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from backend.ops.scan_chunked import selective_scan_chunked
from backend.ops.scan_oracle import selective_scan_oracle

GRAD_NAMES = ["u", "delta", "A", "B", "C", "D", "delta_bias"]


def make_inputs(L: int, device: torch.device, channels: int, d_state: int, groups: int, seed: int):
    """Realistic inputs: Mamba's initialisation for A, D and the step-size bias."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    u = torch.randn(1, channels, L, generator=g)
    delta = torch.randn(1, channels, L, generator=g) * 0.5
    a_log = torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(channels, 1)
    A = -torch.exp(a_log + 0.1 * torch.randn(channels, d_state, generator=g))
    B = torch.randn(1, groups, d_state, L, generator=g)
    C = torch.randn(1, groups, d_state, L, generator=g)
    D = torch.ones(channels)
    dt = torch.exp(
        torch.rand(channels, generator=g) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3)
    )
    bias = dt + torch.log(-torch.expm1(-dt))
    return [t.to(device) for t in (u, delta, A, B, C, D, bias)]


def cuda_engine():
    """mamba-ssm's kernel, imported only here (never on CPU)."""
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn

    def run(u, delta, A, B, C, D, bias):
        return selective_scan_fn(u, delta, A, B, C, D, z=None, delta_bias=bias, delta_softplus=True)

    return run


def chunked_engine(chunk: int | None):
    def run(u, delta, A, B, C, D, bias):
        return selective_scan_chunked(u, delta, A, B, C, D, bias, True, chunk=chunk)

    return run


def oracle_engine(u, delta, A, B, C, D, bias):
    return selective_scan_oracle(u, delta, A, B, C, D, bias, True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: torch.device, reps: int, warmup: int = 1) -> float:
    """Median wall seconds of `fn()` after warm-up."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def forward_backward(engine, inputs, grad_out, dtype=None):
    """y and the gradients of <y, grad_out> with respect to every input."""
    xs = [(t if dtype is None else t.to(dtype)).detach().clone().requires_grad_() for t in inputs]
    y = engine(*xs)
    grads = torch.autograd.grad((y * grad_out.to(y.dtype)).sum(), xs)
    return y.detach(), [g.detach() for g in grads]


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def peak_gib(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated() / 2**30


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--length", type=int, default=2 * 512 * 512)
    ap.add_argument("--oracle-len", type=int, default=4096)
    ap.add_argument("--channels", type=int, default=340)
    ap.add_argument("--d-state", type=int, default=8)
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--chunk", type=int, default=None)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--network", default="512,1024", help="PAN sizes for whole-network timing")
    ap.add_argument(
        "--network-chunked-max", type=int, default=512, help="largest PAN size for chunked"
    )
    ap.add_argument("--out", default=os.environ.get("OUT", ""))
    args = ap.parse_args()
    device = torch.device(args.device)
    engines = {"chunked": chunked_engine(args.chunk)}
    if device.type == "cuda":
        engines = {"cuda": cuda_engine(), **engines}
        name = torch.cuda.get_device_name()
    else:
        name = platform.processor() or platform.machine()
    lines = [
        f"device: {name}; torch {torch.__version__}; channels {args.channels}, state "
        f"{args.d_state}, groups {args.groups}, fp32",
    ]
    results: dict = {"device": name, "torch": torch.__version__, "rows": []}

    # 1) errors against the float64 oracle on the first oracle-len tokens
    Lo = min(args.oracle_len, args.length)
    small = make_inputs(Lo, device, args.channels, args.d_state, args.groups, seed=0)
    g_small = torch.randn(1, args.channels, Lo, generator=torch.Generator().manual_seed(1)).to(
        device
    )
    y_ref, g_ref = forward_backward(oracle_engine, small, g_small, torch.float64)
    t_or_f = timed(lambda: oracle_engine(*[t.double() for t in small]), device, reps=1, warmup=0)
    t_or_fb = timed(
        lambda: forward_backward(oracle_engine, small, g_small, torch.float64), device, 1, 0
    )
    err_rows = []
    for ename, eng in engines.items():
        y, grads = forward_backward(eng, small, g_small)
        err_rows.append(
            (
                ename,
                rel_err(y, y_ref),
                max(rel_err(a, b) for a, b in zip(grads, g_ref, strict=True)),
                {n: rel_err(a, b) for n, a, b in zip(GRAD_NAMES, grads, g_ref, strict=True)},
            )
        )
    lines.append("")
    lines.append(f"Errors against the float64 sequential oracle, L = {Lo} (max |err| / max |ref|):")
    lines.append("| engine | forward y | backward (worst input) | per-input gradient errors |")
    lines.append("| --- | --- | --- | --- |")
    for ename, ef, eb, per in err_rows:
        per_s = ", ".join(f"{k} {v:.1e}" for k, v in per.items())
        lines.append(f"| {ename} | {ef:.2e} | {eb:.2e} | {per_s} |")
        results["rows"].append(
            {"check": "vs_oracle", "engine": ename, "L": Lo, "fwd": ef, "bwd": eb, "per_input": per}
        )
    print("\n".join(lines), flush=True)

    # 2) full length: timings, memory, and CUDA vs chunked agreement
    L = args.length
    big = make_inputs(L, device, args.channels, args.d_state, args.groups, seed=2)
    g_big = torch.randn(1, args.channels, L, generator=torch.Generator().manual_seed(3)).to(device)
    outs = {}
    trows = []
    for ename, eng in engines.items():
        t_f = t_fb = mem_f = mem_fb = None
        note = ""
        try:
            reset_peak(device)
            with torch.no_grad():
                t_f = timed(lambda eng=eng, big=big: eng(*big), device, args.reps)
            mem_f = peak_gib(device)
        except torch.OutOfMemoryError:
            note = "forward out of memory"
        reset_peak(device)
        try:
            t_fb = timed(
                lambda eng=eng, big=big: forward_backward(eng, big, g_big), device, args.reps
            )
            mem_fb = peak_gib(device)
            outs[ename] = forward_backward(eng, big, g_big)
        except torch.OutOfMemoryError:
            note = (note + "; " if note else "") + "forward + backward out of memory"
        reset_peak(device)
        trows.append((ename, L, t_f, t_fb, mem_f, mem_fb, note))
    trows.append(
        (
            "oracle (float64)",
            Lo,
            t_or_f,
            t_or_fb,
            None,
            None,
            f"timed on L = {Lo} only: one Python step per token",
        )
    )
    agree = ""
    if "cuda" in outs and "chunked" in outs:
        (yc, gc), (yk, gk) = outs["cuda"], outs["chunked"]
        ef, eb = rel_err(yk, yc), max(rel_err(a, b) for a, b in zip(gk, gc, strict=True))
        agree = (
            f"chunked vs CUDA kernel at L = {L}: forward {ef:.2e}, backward (worst input) {eb:.2e}"
        )
        results["rows"].append({"check": "chunked_vs_cuda", "L": L, "fwd": ef, "bwd": eb})
    lines = [
        "",
        f"Timings (median of {args.reps}), B = 1:",
        "| engine | L | forward | forward + backward | peak GiB fwd | peak GiB fwd+bwd | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for ename, Lr, t_f, t_fb, mf, mfb, note in trows:

        def fmt(x, unit=" ms", scale=1e3):
            return "-" if x is None else f"{x * scale:.1f}{unit}"

        lines.append(
            f"| {ename} | {Lr} | {fmt(t_f)} | {fmt(t_fb)} | {fmt(mf, '', 1)} | "
            f"{fmt(mfb, '', 1)} | {note} |"
        )
        results["rows"].append(
            {
                "check": "timing",
                "engine": ename,
                "L": Lr,
                "fwd_s": t_f,
                "fwd_bwd_s": t_fb,
                "peak_gib_fwd": mf,
                "peak_gib_fwd_bwd": mfb,
            }
        )
    if agree:
        lines.append("")
        lines.append(agree)
    print("\n".join(lines), flush=True)
    del big, outs

    # 3) whole network, inference, default config with 4-band MS
    sizes = [int(s) for s in args.network.split(",") if s] if device.type == "cuda" else []
    if sizes:
        from backend.model.config import MMMambaConfig
        from backend.model.network import MMMamba

        torch.manual_seed(0)
        net = MMMamba(MMMambaConfig()).to(device).eval()
        lines = [
            "",
            "Whole network, default config, 4-band MS x4, batch 1, inference (fp32):",
            "| engine | PAN size | time | Mpx/s | peak GiB |",
            "| --- | --- | --- | --- | --- |",
        ]
        for s in sizes:
            pan = torch.rand(1, 1, s, s, device=device)
            ms = torch.rand(1, 4, s // 4, s // 4, device=device)
            for ename in engines:
                if ename == "chunked" and s > args.network_chunked_max:
                    continue
                net.set_scan(ename, args.chunk)
                try:
                    reset_peak(device)
                    with torch.inference_mode():
                        t = timed(lambda pan=pan, ms=ms: net(pan, ms), device, reps=3)
                    mem = peak_gib(device)
                    lines.append(
                        f"| {ename} | {s}x{s} | {t * 1e3:.0f} ms | {s * s / t / 1e6:.2f} | "
                        f"{mem:.2f} |"
                    )
                    results["rows"].append(
                        {"check": "network", "engine": ename, "size": s, "s": t, "peak_gib": mem}
                    )
                except torch.OutOfMemoryError:
                    lines.append(f"| {ename} | {s}x{s} | out of memory | - | - |")
                    reset_peak(device)
        print("\n".join(lines), flush=True)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "scan_check.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

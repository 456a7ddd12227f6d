"""Full MMMamba network (default config) on one PAN/MS pair on the CPU: seconds and peak RSS.

Usage: python bench/cpu_infer.py [--size 1024] [--bands 4] [--threads N] [--engine E] [--chunk T]
Random weights and inputs: the timing does not depend on their values. Prints wall-clock and
CPU time (with one thread, CPU time is what an idle core would take) and the load average,
since on a shared machine the wall time depends on what else runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# `backend` first (it limits OpenMP's spinning before torch loads, as in the product); torch is
# imported in main()
from backend.model.config import MMMambaConfig
from backend.model.network import MMMamba


def peak_rss_gib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024, help="PAN side in pixels")
    ap.add_argument("--bands", type=int, default=4)
    ap.add_argument("--ratio", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument(
        "--engine",
        default="auto",
        choices=("auto", "native", "chunked"),
        help="selective-scan engine (auto: the compiled CPU scan when a C compiler built it)",
    )
    ap.add_argument("--chunk", type=int, default=None, help="tokens per chunk (chunked engine)")
    ap.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="channels-last weights and maps, as the engine loads models on a CPU (default on)",
    )
    ap.add_argument("--profile", action="store_true", help="print the top operators")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = MMMambaConfig(ms_bands=args.bands, ratio=args.ratio)
    net = MMMamba(cfg).eval()
    net.set_scan(args.engine, args.chunk)
    net.set_channels_last(args.channels_last)
    from backend.device import scan_engine

    engine = scan_engine("cpu", args.engine)
    s, r = args.size, args.ratio
    pan = torch.rand(1, 1, s, s)
    ms = torch.rand(1, args.bands, s // r, s // r)
    rss0 = peak_rss_gib()
    load0 = os.getloadavg()[0]
    with torch.inference_mode():
        t0, c0 = time.perf_counter(), time.process_time()
        if args.profile:
            from torch.profiler import ProfilerActivity, profile

            with profile(activities=[ProfilerActivity.CPU]) as prof:
                out = net(pan, ms)
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
        else:
            out = net(pan, ms)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ok = bool(torch.isfinite(out).all())
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    layout = "channels-last" if args.channels_last else "channel-major"
    print(
        f"MMMamba default config, {args.bands}-band MS x{r}, PAN {s}x{s}, scan engine "
        f"{engine}, {layout}: wall {wall:.1f} s, "
        f"CPU time {cpu:.1f} s, peak RSS {peak_rss_gib():.2f} GiB (before the forward pass "
        f"{rss0:.2f} GiB), finite output: {ok}"
    )
    # the machine may be shared: the load says how much of it this run had
    print(f"load average (1 min) at start {load0:.1f}, at end {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

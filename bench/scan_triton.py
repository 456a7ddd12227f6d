"""The Triton MI scan on a CUDA GPU: correctness, launch shapes, whole-network tiles, profile.

Sections (tables printed as measured and written to `$OUT/scan_triton.md`):
1. check: the network with the Triton engine (windowed path) against the chunked PyTorch scan
   (whole-tensor path), fp32 and bf16-scan, on a 256^2 tile of the real osman pair with the
   shipped 4-band weights; and `mi_scan` alone against mamba-ssm's kernel when it is installed;
2. sweep: one mixer's four-direction scan on a 1024^2 tile (L = 2 x 1024^2 tokens, 85 channels)
   for launch shapes (channels per program, warps, programs);
3. net: 1024^2 and 2048^2 tiles through the whole network, fp32 and bf16-scan, Triton engine
   against mamba-ssm's (when installed), ms per call, Mpx/s and peak memory;
4. profile: top CUDA kernels of one 1024^2 bf16-scan forward with the Triton engine.

    python3 bench/scan_triton.py --budget 400            # on the GPU machine
Data: `.gpu/infer/` written by `python bench/gpu_infer.py --prepare`.
Measured tables: bench/results/gpu_infer_triton_h200.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_infer as gi


def check(net, dev, card: str) -> None:
    import torch

    from backend.device import cuda_scan_available
    from backend.ops import scan_triton
    from backend.ops.selective_scan import selective_scan

    gi.table("check", ["card", "what", "result"])
    pan, ms, ref = gi.chunked_reference(net, dev)
    with torch.inference_mode():
        for precision in ("fp32", "bf16-scan"):
            net.set_precision(precision)
            net.set_scan("triton")
            out = net(pan, ms).float().cpu().numpy()
            gi.row(
                "check",
                [card, f"network 256^2, triton {precision} vs chunked fp32", gi.rel_l2(out, ref)],
            )
    if not cuda_scan_available():
        return
    # one mixer's scan, Triton against mamba-ssm on the gathered sequences
    from backend.model.mi_scan import build_sequences, mi_orders, undo_sequences

    mix = net.blocks[0].mixer
    h = w = 512
    d, K = mix.d_inner, 4
    g = torch.Generator(device=dev).manual_seed(0)
    src = torch.randn(1, d, 2 * h * w, device=dev, generator=g)
    buf = torch.empty(scan_triton.window_major_shape(1, h, w, 4, d), device=dev)
    scan_triton.to_window_major(src[..., : h * w].view(1, d, h, w), buf, 0)
    scan_triton.to_window_major(src[..., h * w :].view(1, d, h, w), buf, 1)
    A, D = mix._scan_params()
    with torch.inference_mode():
        y = scan_triton.mi_scan(
            buf.view(1, -1, d), mix.x_proj_weight, mix.dt_proj_weight, mix.dt_bias, A, D,
            h // 4, w // 4, 4,
        )  # fmt: skip
        order, inverse = mi_orders(h, w, 4)
        seq = build_sequences(src, order.to(dev))
        x_dbl = torch.einsum("bkdl,kcd->bkcl", seq, mix.x_proj_weight)
        dt, B, C = torch.split(x_dbl, [mix.dt_rank, mix.d_state, mix.d_state], dim=2)
        delta = torch.einsum("bkrl,kdr->bkdl", dt, mix.dt_proj_weight)
        L = 2 * h * w
        yr = selective_scan(
            seq.reshape(1, K * d, L), delta.reshape(1, K * d, L), A, B.contiguous(),
            C.contiguous(), D, mix.dt_bias.float(), True, engine="cuda",
        )  # fmt: skip
        yr = undo_sequences(yr.view(1, K, d, L), inverse.to(dev)).sum(1)
        ref_buf = torch.empty_like(buf)
        scan_triton.to_window_major(yr[..., : h * w].view(1, d, h, w), ref_buf, 0)
        scan_triton.to_window_major(yr[..., h * w :].view(1, d, h, w), ref_buf, 1)
    err = gi.rel_l2(y.cpu().numpy(), ref_buf.view(1, -1, d).cpu().numpy())
    gi.row("check", [card, "mi_scan 512^2 random inputs, triton vs mamba-ssm", f"{err:.2e}"])


def sweep(net, dev, card: str, quick: bool) -> object:
    import torch

    from backend.ops import scan_triton
    from backend.ops.scan_triton import ScanLaunch

    gi.table(
        "sweep",
        [
            "card",
            "storage",
            "DB",
            "warps",
            "programs",
            "stages",
            "output stages",
            "prefetch",
            "FMA decays (state)",
            "FMA decays (output)",
            "projection tokens",
            "projection warps",
            "carry lanes",
            "ms per scan",
            "rel L2 vs first row",
        ],
    )
    mix = net.blocks[0].mixer
    size = 1024
    d = mix.d_inner
    A, D = mix._scan_params()
    best = (float("inf"), scan_triton.LAUNCH)
    u32 = torch.randn(1, 2 * size * size, d, device=dev)
    u16 = u32.bfloat16()
    launches = [
        ScanLaunch(),
        ScanLaunch(carry_block=64),
        ScanLaunch(carry_block=32),
        ScanLaunch(programs=3072),
        ScanLaunch(programs=5120),
        ScanLaunch(poly=2),
    ]
    ref = None
    for launch in launches:
        if gi.left() < 60:
            break
        cells = [card, "bf16", *_cells(launch, dev)]
        try:
            t = _time_scan(mix, u16, A, D, size, launch, dev)
            y = _scan_once(mix, u16, A, D, size, launch)
        except Exception as exc:  # a shape that does not compile or fit
            gi.row("sweep", [*cells, f"{type(exc).__name__}: {str(exc)[:60]}"])
            continue
        ref = y if ref is None else ref
        err = ((y.float() - ref.float()).norm() / ref.float().norm()).item()
        gi.row("sweep", [*cells, f"{t * 1e3:.2f}", f"{err:.2e}"])
        best = min(best, (t, launch), key=lambda x: x[0])
    del ref
    ref32 = _scan_once(mix, u32, A, D, size, scan_triton.ScanLaunch())
    for launch in dict.fromkeys([scan_triton.ScanLaunch(), best[1]]):
        t = _time_scan(mix, u32, A, D, size, launch, dev)
        y = _scan_once(mix, u32, A, D, size, launch)
        err = ((y - ref32).norm() / ref32.norm()).item()
        gi.row("sweep", [card, "fp32", *_cells(launch, dev), f"{t * 1e3:.2f}", f"{err:.2e}"])
    return best[1]


def _cells(launch, dev) -> list:
    """The launch's fields, the device's default program count written out."""
    from backend.ops.scan_triton import default_programs

    cells = dict(launch.__dict__)
    if cells["programs"] is None:
        cells["programs"] = f"{default_programs(dev, launch.num_warps)} (default)"
    return list(cells.values())


def _scan_once(mix, u, A, D, size, launch):
    import torch

    from backend.ops import scan_triton

    with torch.inference_mode():  # output stored as the network does: in the tokens' type
        return scan_triton.mi_scan(
            u, mix.x_proj_weight, mix.dt_proj_weight, mix.dt_bias, A, D,
            size // 4, size // 4, 4, launch, out_dtype=u.dtype,
        )  # fmt: skip


def _time_scan(mix, u, A, D, size, launch, dev) -> float:
    return gi.timed(lambda: _scan_once(mix, u, A, D, size, launch), dev, max_s=1.0)


def net_tiles(net, dev, card: str) -> None:
    import torch

    from backend.device import cuda_scan_available

    gi.table(
        "net", ["card", "tile", "engine", "precision", "ms/call", "Mpx/s", "peak GiB", "rel L2"]
    )
    engines = ["triton"] + (["cuda"] if cuda_scan_available() else [])
    for size in (1024, 2048):
        pan, ms = gi.tile_inputs(size, 1, dev, False)
        ref = None
        cases = [(e, p, False) for e in engines for p in ("fp32", "bf16-scan")]
        for engine, precision, cl in cases:
            if gi.left() < 30:
                return

            def run(engine=engine, precision=precision, cl=cl, pan=pan, ms=ms):
                net.set_precision(precision)
                net.set_scan(engine)
                net.set_channels_last(cl)
                with torch.inference_mode():
                    return net(pan, ms)

            t, mem, out = gi.tile_case(net, run, dev)
            if ref is None:
                ref = out
            gi.row(
                "net",
                [
                    card, f"{size}^2", engine + (" channels-last" if cl else ""), precision,
                    f"{t * 1e3:.1f}",
                    f"{size * size / t / 1e6:.2f}", gi.fmt(mem), f"{gi.rel_l2(out, ref):.2e}",
                ],
            )  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=400.0)
    ap.add_argument("--sections", default="check,sweep,net,profile")
    args = ap.parse_args()
    dev, card, net = gi.gpu_bench_setup(args.budget)
    from backend.ops import scan_triton

    want = set(args.sections.split(","))
    if "check" in want:
        gi.section("check", 20)(check)(net, dev, card)
    if "sweep" in want:
        best = gi.section("sweep", 60)(sweep)(net, dev, card, False)
        if best is not None:
            scan_triton.LAUNCH = best
            gi.log(f"launch used below: {best}")
    if "net" in want:
        gi.section("net", 30)(net_tiles)(net, dev, card)
    if "profile" in want:
        net.set_scan("triton")
        net.set_channels_last(False)
        gi.section("profile", 10)(gi.profile)(net, dev, card, False, "bf16-scan")
    gi.write_tables("scan_triton.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The fused Triton layers on a CUDA GPU: correctness, per-layer times, whole tiles, profile.

Sections (tables printed as measured and written to `$OUT/fused_triton.md`):
1. check: the network through the fused layers against the chunked PyTorch scan (whole-tensor
   path, PyTorch layers), fp32, bf16 and bf16-scan, on a 256^2 tile of the real osman pair with
   the shipped 4-band weights; the unfused Triton path (windowed mixer) for comparison;
2. layers: each fused kernel against the PyTorch layers it replaces on a 1024^2 map (F = 32),
   for several launch shapes (pixels and warps per program); the best shape per kernel is used
   by the later sections;
3. net: 1024^2 and 2048^2 tiles, fused (called directly and replayed from a CUDA graph) against
   unfused, fp32 and bf16-scan: ms per call, Mpx/s, peak memory, relative L2 against fused fp32;
4. profile: top CUDA kernels of one fused 1024^2 bf16-scan forward.

    python3 bench/fused_triton.py --budget 300            # on the GPU machine
Data: `.gpu/infer/` written by `python bench/gpu_infer.py --prepare`.
Measured tables: bench/results/gpu_infer_fused_h200.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_infer as gi


def check(net, dev, card: str) -> None:
    import torch

    gi.table("check", ["card", "what", "rel L2 vs chunked fp32"])
    pan, ms, ref = gi.chunked_reference(net, dev)
    with torch.inference_mode():
        for fused in (True, False):
            net.set_fused(fused)
            for precision in ("fp32", "bf16", "bf16-scan"):
                net.set_precision(precision)
                net.set_scan("triton")
                assert net.uses_fused(dev) == fused
                out = net(pan, ms).float().cpu().numpy()
                what = f"network 256^2, triton {'fused' if fused else 'unfused'} {precision}"
                gi.row("check", [card, what, f"{gi.rel_l2(out, ref):.2e}"])
    net.set_fused(True)


def _layer_cases(net, dev, size: int):
    """(name, kernels, torch fn, fused fn) for each fused layer on one (1, F, size, size) map.

    The torch fn takes `amp` (bf16 autocast or fp32), the fused fn the type of the intermediate
    maps; both return the layer's output (the mixer input: the window-major buffer; the FFN and
    the mixer output: the updated copy of x, the copy included in its time).
    """
    import contextlib

    import torch
    import torch.nn.functional as F

    from backend.ops import fused_triton as ft
    from backend.ops.scan_triton import to_window_major, window_major_shape

    g = torch.Generator(device=dev).manual_seed(0)
    x = torch.randn(1, net.cfg.width, size, size, device=dev, generator=g)
    blk = net.blocks[0]
    mx = blk.mixer
    hin = net.encoder_pan.blocks[0]
    d = mx.d_inner
    shape = window_major_shape(1, size, size, 4, d)
    buf = torch.empty(shape, device=dev)
    y = torch.randn(shape, device=dev, generator=g)

    def ctx(amp: bool):
        return torch.autocast("cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()

    def conv_torch(amp):
        with ctx(amp):
            return F.leaky_relu(hin.conv1(x), 0.2)

    def ffn_torch(amp):
        with ctx(amp):
            return x + blk.ffn(blk.norm2_pan(x))

    def mixer_in_torch(amp):
        with ctx(amp):
            part = mx._inner(blk.norm1_pan(x), mx.in_proj_pan, mx.conv_pan)
        to_window_major(part.float(), buf, 1)
        return buf[:, :, :, 1]

    def mixer_out_torch(amp):
        with ctx(amp):
            z = F.linear(blk.norm1_pan(x).permute(0, 2, 3, 1), mx.in_proj_pan.weight[d:])
            yy = y[:, :, :, 1].permute(0, 1, 3, 2, 4, 5).reshape(1, size, size, d)
            yn = F.layer_norm(yy, (d,), mx.out_norm_pan.weight, mx.out_norm_pan.bias)
            o = F.linear(yn * F.silu(z.float()), mx.out_proj_pan.weight)
        return x + o.permute(0, 3, 1, 2).float()

    def mixer_in_fused(store):
        ft.mixer_in(
            x,
            blk.norm1_pan.weight,
            blk.norm1_pan.eps,
            mx.in_proj_pan.weight,
            mx.conv_pan.weight,
            mx.conv_pan.bias,
            buf,
            1,
            store,
        )
        return buf[:, :, :, 1]

    def mixer_out_fused(store):
        xc = x.clone()
        ft.mixer_out_(
            xc,
            blk.norm1_pan.weight,
            blk.norm1_pan.eps,
            mx.in_proj_pan.weight,
            y,
            mx.out_norm_pan.weight,
            mx.out_norm_pan.bias,
            mx.out_norm_pan.eps,
            mx.out_proj_pan.weight,
            1,
        )
        return xc

    def ffn_fused(store):
        xc = x.clone()
        ft.ffn_residual_(
            xc,
            blk.norm2_pan.weight,
            blk.norm2_pan.eps,
            blk.ffn.project_in.weight,
            blk.ffn.dwconv.weight,
            blk.ffn.project_out.weight,
            store,
        )
        return xc

    return [
        ("conv3x3 32->32 + LeakyReLU", ["conv"], conv_torch,
         lambda store: ft.conv2d(x, hin.conv1.weight, hin.conv1.bias, act="leaky")),
        ("FFN (LN, 1x1, dw3x3, GELU gate, 1x1, residual; incl. a copy of x)",
         ["pointwise", "ffn_out"], ffn_torch, ffn_fused),
        ("mixer input (LN, 1x1, dw3x3, SiLU, window-major)", ["pointwise", "mixer_dw"],
         mixer_in_torch, mixer_in_fused),
        ("mixer output (LN, gate, 1x1, residual; incl. a copy of x)", ["mixer_out"],
         mixer_out_torch, mixer_out_fused),
    ]  # fmt: skip


def layers(net, dev, card: str, kernels: set[str], shapes: list, stores: list) -> None:
    """Per-layer times and errors against the PyTorch layers in fp32 (TF32 convolutions)."""
    import torch

    from backend.ops import fused_triton as ft

    head = [
        "card",
        "layer (1024^2)",
        "impl",
        "dots",
        "pixels x channels",
        "warps",
        "ms",
        "rel L2 vs PyTorch fp32",
    ]
    if "layers" not in gi.TABLES:
        gi.table("layers", head)
    for name, names, torch_fn, fused_fn in _layer_cases(net, dev, 1024):
        kernel = names[-1]  # the launch shape swept; a first pointwise stage keeps its own
        if kernel not in kernels:
            continue
        with torch.inference_mode():
            ref = torch_fn(False).float().clone()
            for amp in (False, True):
                t = gi.timed(lambda amp=amp, fn=torch_fn: fn(amp), dev, max_s=0.5)
                err = gi.rel_l2(torch_fn(amp).float().cpu().numpy(), ref.cpu().numpy())
                label = "bf16 autocast" if amp else "fp32"
                cells = [card, name, "PyTorch", label, "-", "-", f"{t * 1e3:.3f}", f"{err:.2e}"]
                gi.row("layers", cells)
        for st in stores:
            best = (float("inf"), ft.LAUNCH[kernel])
            # the output dots need at least 16 channels per step
            cbs = {"ffn_out": (16, 32), "mixer_dw": (8, 16, 32), "mixer_out": (16, 32)}.get(
                kernel, (16,)
            )
            for (block, warps), cb in ((s, cb) for s in shapes for cb in cbs):
                if gi.left() < 40:
                    break
                ft.LAUNCH[kernel] = ft.FusedLaunch(block, warps, cb)
                cells = [card, name, "fused", str(st).split(".")[-1], f"{block} x {cb}", warps]
                try:
                    with torch.inference_mode():
                        out = fused_fn(st).float()
                        torch.cuda.synchronize(dev)
                        err = gi.rel_l2(out.cpu().numpy(), ref.cpu().numpy())
                        t = gi.timed(lambda st=st, fn=fused_fn: fn(st), dev, max_s=0.3)
                except Exception as exc:  # a shape that does not compile or fit
                    gi.row("layers", [*cells, f"{type(exc).__name__}: {str(exc)[:80]}", "-"])
                    if "illegal" in str(exc) or "CUDA error" in str(exc):
                        raise
                    continue
                gi.row("layers", [*cells, f"{t * 1e3:.3f}", f"{err:.2e}"])
                best = min(best, (t, ft.LAUNCH[kernel]), key=lambda b: b[0])
            ft.LAUNCH[kernel] = best[1]
            gi.log(f"{kernel} {st}: best {best[1]} {best[0] * 1e3:.3f} ms")


def net_tiles(net, dev, card: str, sizes: tuple[int, ...]) -> None:
    import torch

    from backend import cuda_graph
    from backend.cuda_graph import prime_graph, run_graphed

    head = ["card", "tile", "layers", "precision", "ms/call", "Mpx/s", "peak GiB"]
    gi.table("net", [*head, "rel L2 vs fused fp32"])
    net.set_scan("triton")
    for size in sizes:
        pan, ms = gi.tile_inputs(size, 1, dev, False)
        ref = None
        modes = [
            ("fused", True, False),
            ("fused, CUDA graph", True, True),
            ("unfused (windowed mixer)", False, False),
        ]
        for name, fused, graphed in modes:
            for precision in ("fp32", "bf16-scan"):
                if gi.left() < 30:
                    return

                def run(fused=fused, graphed=graphed, precision=precision, pan=pan, ms=ms):
                    net.set_precision(precision)
                    net.set_fused(fused)
                    with torch.inference_mode():
                        if graphed:
                            prime_graph(net, lambda p, m: net(p, m), pan, ms)  # once a key
                            return run_graphed(net, lambda p, m: net(p, m), pan, ms)
                        return net(pan, ms)

                cuda_graph.ENABLED = graphed  # opt-in in the engine
                t, mem, out = gi.tile_case(net, run, dev)
                cuda_graph.ENABLED = False
                cuda_graph.drop_graphs()
                if ref is None:
                    ref = out
                gi.row(
                    "net",
                    [
                        card, f"{size}^2", name, precision, f"{t * 1e3:.1f}",
                        f"{size * size / t / 1e6:.2f}", gi.fmt(mem), f"{gi.rel_l2(out, ref):.2e}",
                    ],
                )  # fmt: skip
    net.set_fused(True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=300.0)
    ap.add_argument("--sections", default="check,layers,net,profile")
    ap.add_argument("--sizes", default="1024,2048")
    ap.add_argument("--kernels", default="conv,ffn_out,mixer_dw,mixer_out")
    ap.add_argument("--tag", default="all", help="suffix of the results file")
    ap.add_argument("--shapes", default="32x2,32x4,64x2,64x4,64x8,128x4,128x8")
    ap.add_argument("--stores", default="fp32,bf16", help="types of the intermediate maps")
    args = ap.parse_args()
    dev, card, net = gi.gpu_bench_setup(args.budget)
    import torch

    from backend.ops import fused_triton as ft

    want = set(args.sections.split(","))
    if "check" in want:
        gi.section("check", 20)(check)(net, dev, card)
    if "layers" in want:
        kernels = set(args.kernels.split(","))
        shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
        types = {"fp32": torch.float32, "bf16": torch.bfloat16}
        stores = [types[t] for t in args.stores.split(",")]
        gi.section("layers", 60)(layers)(net, dev, card, kernels, shapes, stores)
        gi.log(f"launch shapes used below: {ft.LAUNCH}")
    if "net" in want:
        sizes = tuple(int(s) for s in args.sizes.split(","))
        gi.section("net", 30)(net_tiles)(net, dev, card, sizes)
    if "profile" in want:
        net.set_scan("triton")
        net.set_fused(True)
        gi.section("profile", 10)(gi.profile)(net, dev, card, False, "bf16-scan")
    gi.write_tables(f"fused_triton_{args.tag}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

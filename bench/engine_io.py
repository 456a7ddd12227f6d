"""What the tiled GeoTIFF engine costs without the network: read, fill, blend, write.

`backend.pansharpen.pansharpen` runs on a georeferenced uint16 PAN/MS pair written with GDAL
(textured like real imagery), with the network replaced by a bicubic upsampling of the MS (a few
milliseconds per tile), so the figure is the ceiling the engine's CPU work puts on the end-to-end
speed of any network. Results go to `$OUT/engine_io.md` (or the working directory).

    python bench/engine_io.py --size 4096 --tile 1024 --device cpu
    python bench/engine_io.py --size 4096 --tile 1024 --device cpu --co ZLEVEL=6 --co NUM_THREADS=1

`--device cpu,cpu` runs the threaded engine (reader, one worker per replica, writer) that GPUs
use; `cpu` runs it in one thread. `--wait-ms` adds a sleep per network call: a GPU that computes
while the CPU is free, so the figure shows how much of the engine's work overlaps it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _upsampling_net(ratio: int, wait_ms: float = 0.0):
    import torch
    import torch.nn.functional as F

    class Upsample(torch.nn.Module):
        """Bicubic MS upsampling in the network's place: (B, C, h, w) -> (B, C, H, W); then
        `wait_ms` of sleep per call, a GPU computing while the CPU is free."""

        def forward(self, pan: torch.Tensor, ms: torch.Tensor) -> torch.Tensor:
            out = F.interpolate(ms.float(), scale_factor=ratio, mode="bicubic")
            time.sleep(wait_ms / 1e3)
            return out

    return Upsample().eval()


def main() -> int:
    import platform

    import gpu_infer as gi

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4096, help="PAN side in pixels")
    ap.add_argument("--tile", type=int, default=1024)
    ap.add_argument("--device", default="cpu", help="cpu (one thread) or cpu,cpu (threaded)")
    ap.add_argument("--co", action="append", default=None, help="output creation option")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument(
        "--wait-ms", type=float, default=0.0, help="sleep per network call (a GPU's compute time)"
    )
    ap.add_argument(
        "--compressed-inputs", action="store_true", help="DEFLATE-compressed PAN and MS files"
    )
    ap.add_argument(
        "--strip-buffer-mib", type=float, default=None, help="the writer's strip memory (0: none)"
    )
    args = ap.parse_args()
    from backend.io import writer
    from backend.pansharpen import pansharpen

    if args.strip_buffer_mib is not None:
        writer.STRIP_BUFFER_BYTES = int(args.strip_buffer_mib * 2**20)
    buf = f"{writer.STRIP_BUFFER_BYTES / 2**20:g} MiB"

    machine = f"{platform.machine()} ({os.cpu_count()} cores)"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pan_path, ms_path, t_write = gi.write_scene(folder, args.size, True)
        if args.compressed_inputs:  # as delivered imagery often is
            from osgeo import gdal

            for p in (pan_path, ms_path):
                z = p.with_suffix(".z.tif")
                opts = ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2", "NUM_THREADS=ALL_CPUS"]
                gdal.Translate(str(z), str(p), creationOptions=opts)
            pan_path, ms_path = pan_path.with_suffix(".z.tif"), ms_path.with_suffix(".z.tif")
        net = _upsampling_net(4, args.wait_ms)
        for run in range(args.runs):
            out = folder / f"out{run}.tif"
            t = time.perf_counter()
            res = pansharpen(
                pan_path, ms_path, out, model=net, device=args.device, tile=args.tile,
                creation_options=args.co,
            )  # fmt: skip
            s = time.perf_counter() - t
            mpx = args.size * args.size / s / 1e6
            size_mib = out.stat().st_size / 2**20
            rows.append(
                f"| {machine} | {args.size}^2 | {args.tile} ({res.tile}) | {res.tiles} | "
                f"{args.device} | {args.wait_ms:g} | "
                f"{'DEFLATE' if args.compressed_inputs else 'uncompressed'} | {buf} | "
                f"{' '.join(args.co or ['default'])} | {s:.2f} | {mpx:.1f} | "
                f"{size_mib:.0f} |"
            )
            print(rows[-1], flush=True)
    head = (
        "| machine | scene | tile (used) | tiles | device | wait ms | inputs | strip buffer | "
        "creation options | seconds | Mpx/s | output MiB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    dest = Path(os.environ.get("OUT", ".")) / "engine_io.md"
    with dest.open("a") as f:
        f.write(head + "\n".join(rows) + "\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Large scene: a 20000 x 20000 PAN streams through `pansharpen()` with bounded memory.

The PAN and the MS are VRTs that mosaic a real scene (../shared/data osman_pan/osman_ms) over
the whole extent, so nothing of scene size exists on disk or in memory. The full pipeline runs
(inspection, grid plan, MS warp onto the PAN grid, statistics, tiling, network, blending, atomic
GeoTIFF writer) on a bounded number of tiles; then the run is cancelled through the progress
callback (which also checks that a cancelled run leaves nothing behind), the peak resident
memory is read, and the time of the whole scene is *extrapolated* from the time per tile.

    python bench/large_scene.py --tiles 3 --json large_scene.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO / ".." / "shared" / "data" / "pansharpening"


def rss_mib() -> float:
    """Current resident memory of this process in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mosaic_vrt(path: Path, src: Path, size: int, geotransform: tuple[float, ...], wkt: str) -> None:
    """A `size x size` VRT repeating every band of `src` edge to edge."""
    from osgeo import gdal

    ds = gdal.Open(str(src))
    sw, sh, nb = ds.RasterXSize, ds.RasterYSize, ds.RasterCount
    dtype = gdal.GetDataTypeName(ds.GetRasterBand(1).DataType)
    colours = [
        gdal.GetColorInterpretationName(ds.GetRasterBand(b).GetColorInterpretation())
        for b in range(1, nb + 1)
    ]
    ds = None
    gt = ", ".join(repr(v) for v in geotransform)
    lines = [
        f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}">',
        f"  <SRS>{wkt.replace('&', '&amp;').replace('<', '&lt;')}</SRS>",
        f"  <GeoTransform>{gt}</GeoTransform>",
    ]
    for b in range(1, nb + 1):
        lines.append(f'  <VRTRasterBand dataType="{dtype}" band="{b}">')
        lines.append(f"    <ColorInterp>{colours[b - 1]}</ColorInterp>")
        for y in range(0, size, sh):
            for x in range(0, size, sw):
                w, h = min(sw, size - x), min(sh, size - y)
                lines.append(
                    f"    <SimpleSource><SourceFilename>{src.resolve()}</SourceFilename>"
                    f"<SourceBand>{b}</SourceBand>"
                    f'<SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
                    f'<DstRect xOff="{x}" yOff="{y}" xSize="{w}" ySize="{h}"/></SimpleSource>'
                )
        lines.append("  </VRTRasterBand>")
    lines.append("</VRTDataset>")
    path.write_text("\n".join(lines))


class StopAfter:
    """Progress that records a time stamp and the memory per batch and cancels after `n` tiles."""

    def __init__(self, n: int, batch: int) -> None:
        self.n, self.batch = n, batch
        self.stamps: list[float] = []
        self.rss: list[float] = []
        self.messages: list[str] = []
        self.start = time.perf_counter()

    def set_fraction(self, fraction: float) -> None:  # called after every batch of tiles
        if fraction < 1.0:
            self.stamps.append(time.perf_counter())
            self.rss.append(rss_mib())
            print(
                f"  tile {len(self.stamps) * self.batch}: {self.stamps[-1] - self.start:.1f} s, "
                f"RSS {self.rss[-1]:.0f} MiB",
                flush=True,
            )

    def info(self, message: str) -> None:
        self.messages.append(message)
        print(f"  {message}", flush=True)

    def is_cancelled(self) -> bool:
        if not self.stamps:
            self.first = time.perf_counter()  # setup done: the first batch starts now
        return len(self.stamps) * self.batch >= self.n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=20000, help="PAN width and height")
    ap.add_argument("--ratio", type=int, default=4)
    ap.add_argument("--tiles", type=int, default=3, help="tiles to run before stopping")
    ap.add_argument("--tile", type=int, default=512)
    ap.add_argument("--overlap", type=int, default=None)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument(
        "--config",
        default="default",
        choices=["default", "tiny"],
        help="random-initialised network of this configuration (when no --model)",
    )
    ap.add_argument("--model", help="a model file instead of a random-initialised network")
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--aligned",
        action="store_true",
        help="MS exactly on the PAN grid (default: offset by 0.3 MS pixel: warped)",
    )
    ap.add_argument("--workdir", help="folder for the VRTs and the (removed) output")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    from osgeo import gdal, osr

    from backend.errors import Cancelled
    from backend.fuse import make_grid
    from backend.pansharpen import pansharpen

    work = Path(args.workdir or tempfile.mkdtemp(prefix="large_scene_"))
    work.mkdir(parents=True, exist_ok=True)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32649)
    x0, y0, px = 600000.0, 4100000.0, 0.5
    shift = 0.0 if args.aligned else 0.3 * px * args.ratio
    pan_vrt, ms_vrt = work / "pan.vrt", work / "ms.vrt"
    mosaic_vrt(
        pan_vrt, DATA / "osman_pan.tif", args.size, (x0, px, 0, y0, 0, -px), srs.ExportToWkt()
    )
    ms_px = px * args.ratio
    mosaic_vrt(
        ms_vrt,
        DATA / "osman_ms.tif",
        args.size // args.ratio,
        (x0 + shift, ms_px, 0, y0 - shift, 0, -ms_px),
        srs.ExportToWkt(),
    )

    model = args.model
    label = args.model
    if model is None:
        import torch

        from backend.model.config import MMMambaConfig
        from backend.model.network import MMMamba
        from backend.model.store import ModelCard, save_model

        torch.manual_seed(0)
        cfg = MMMambaConfig() if args.config == "default" else MMMambaConfig.tiny()
        model = work / f"bench_{args.config}.safetensors"
        save_model(
            model,
            MMMamba(cfg),
            ModelCard(name=f"bench-{args.config}", description="random-initialised, for timing"),
        )
        label = f"random-initialised {args.config} configuration"
    out = work / "out.tif"
    grid = make_grid(args.size, args.size, args.ratio, args.tile, args.overlap)
    print(
        f"PAN {args.size} x {args.size} VRT, MS {args.size // args.ratio} x "
        f"{args.size // args.ratio} x 4 VRT; {len(grid)} tiles of {grid.tile_width} "
        f"(overlap {grid.overlap}); running {args.tiles} of them; model: {label}"
    )
    progress = StopAfter(args.tiles, args.batch)
    t0 = time.perf_counter()
    progress.start = t0
    try:
        pansharpen(
            pan_vrt,
            ms_vrt,
            out,
            model=model,
            device=args.device,
            tile=args.tile,
            overlap=args.overlap,
            batch=args.batch,
            progress=progress,
        )
        print("finished the whole scene (more tiles than the scene has?)")
    except Cancelled:
        pass
    wall = time.perf_counter() - t0
    left = sorted(p.name for p in work.iterdir() if p.name.startswith(("out", ".out")))
    setup = progress.first - t0
    stamps = [progress.first, *progress.stamps]
    per_tile = [(b - a) / args.batch for a, b in itertools.pairwise(stamps)]
    typical = statistics.median(per_tile)
    total = setup + typical * len(grid)
    import torch

    figures = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads",
        "device": args.device,
        "model": label,
        "pan_size": args.size,
        "tile": grid.tile_width,
        "overlap": grid.overlap,
        "tiles_total": len(grid),
        "tiles_run": len(per_tile) * args.batch,
        "setup_seconds": setup,
        "seconds_per_tile": per_tile,
        "seconds_per_tile_median": typical,
        "extrapolated_total_hours": total / 3600,
        "peak_rss_mib": peak_rss_mib(),
        "rss_after_each_tile_mib": progress.rss,
        "wall_seconds": wall,
        "warped_ms": not args.aligned,
        "output_files_left": left,
    }
    print(json.dumps(figures, indent=2))
    print(
        f"peak RSS {figures['peak_rss_mib']:.0f} MiB; {typical:.1f} s per tile; whole scene "
        f"EXTRAPOLATED from {len(per_tile) * args.batch} tiles: {total / 3600:.1f} h"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    gdal.Unlink(str(pan_vrt))
    gdal.Unlink(str(ms_vrt))
    return 0 if not left and figures["peak_rss_mib"] <= 3 * 1024 else 1


if __name__ == "__main__":
    raise SystemExit(main())

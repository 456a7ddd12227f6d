"""`python -m backend ...`: the command-line interface, a thin caller of the backend functions.

Subcommands: `pansharpen` and `models` live here; other modules add theirs through an
`add_cli(subparsers)` function (see `PLUGGABLE`), imported when the parser is built and skipped
when the module is not installed. Exit status 0 on success; otherwise non-zero with a
one-line reason on stderr (1: bad input, model or output; 2: bad usage; 130: interrupted).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .errors import Cancelled, MMMambaError

log = logging.getLogger(__name__)

# Modules that may contribute subcommands, in the order they appear in --help.
PLUGGABLE = (
    "backend.evaluate",
    "backend.sr",
    "backend.train",
    "backend.finetune",
    "backend.compare",
)


class CliProgress:
    """Progress for a terminal: info lines on stderr (unless quiet), never cancelled."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._last = -1

    def set_fraction(self, fraction: float) -> None:
        """Print the percentage on a TTY, in steps of 5 %."""
        pct = int(fraction * 100) // 5 * 5
        if not self.quiet and pct != self._last and sys.stderr.isatty():
            self._last = pct
            print(f"\r{pct:3d} %", end="" if pct < 100 else "\n", file=sys.stderr, flush=True)

    def info(self, message: str) -> None:
        """One line on stderr."""
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def is_cancelled(self) -> bool:
        """Ctrl-C raises KeyboardInterrupt instead."""
        return False


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def add_pansharpen(subparsers: argparse._SubParsersAction) -> None:
    """Register `pansharpen`."""
    p = subparsers.add_parser(
        "pansharpen",
        help="fuse a PAN and an MS raster into a pan-sharpened GeoTIFF",
        description=(
            "Pan-sharpen a PAN and an MS raster (any GDAL format and data type). The ratio comes "
            "from the geotransforms; the intersection is processed on the PAN grid; an MS in "
            "another CRS or offset by a fraction of a pixel is resampled onto it. The output has "
            "the PAN's CRS and grid, the MS's bands, band names, colours and (by default) type."
        ),
    )
    p.add_argument("--pan", required=True, help="panchromatic raster")
    p.add_argument(
        "--ms", required=True, help="multispectral raster (its band count picks the model)"
    )
    p.add_argument("--out", required=True, help="output GeoTIFF (replaced if it exists)")
    p.add_argument(
        "--model",
        help="model name or .safetensors path (default: the shipped model "
        "that fits the MS band count)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument(
        "--tile",
        type=_positive,
        default=None,
        help="largest tile size in PAN pixels (default: 1024 on a GPU, 512 on a CPU); each axis "
        "uses the smallest multiple of 16 that needs no more tiles",
    )
    p.add_argument(
        "--overlap",
        type=_non_negative,
        default=None,
        help="overlap between tiles in PAN pixels (default: 1/8 of the tile, at most 64)",
    )
    p.add_argument("--batch", type=_positive, default=1, help="tiles per network call (1)")
    p.add_argument(
        "--pan-band", type=_positive, default=None, help="1-based band of a multi-band PAN raster"
    )
    p.add_argument(
        "--dtype", default=None, help="output type, e.g. float32 or uint16 (default: the MS's type)"
    )
    p.add_argument(
        "--co",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="GeoTIFF creation option (repeatable), e.g. --co COMPRESS=ZSTD",
    )
    p.add_argument("--cog", action="store_true", help="write a Cloud Optimized GeoTIFF")
    p.set_defaults(func=_run_pansharpen)


def _run_pansharpen(args: argparse.Namespace) -> int:
    from .pansharpen import pansharpen

    res = pansharpen(
        args.pan,
        args.ms,
        args.out,
        model=args.model,
        device=args.device,
        tile=args.tile,
        overlap=args.overlap,
        batch=args.batch,
        pan_band=args.pan_band,
        dtype=args.dtype,
        creation_options=args.co,
        cog=args.cog,
        progress=CliProgress(args.quiet),
    )
    print(
        f"{res.path}: {res.width} x {res.height}, {res.bands} bands, {res.dtype}, ratio "
        f"{res.ratio}, model {res.model} on {res.device}, {res.tiles} tiles, "
        f"{res.valid_fraction:.1%} valid, {res.seconds:.1f} s"
    )
    return 0


def add_models(subparsers: argparse._SubParsersAction) -> None:
    """Register `models`."""
    p = subparsers.add_parser("models", help="list the installed models")
    p.add_argument("--dir", action="append", default=[], help="another folder of models")
    p.set_defaults(func=_run_models)


def _run_models(args: argparse.Namespace) -> int:
    from .model.registry import MODELS_DIR, list_models

    cards = list_models(args.dir)
    if not cards:
        print(f"no models installed (looked in {MODELS_DIR}{''.join(', ' + d for d in args.dir)})")
        return 0
    for c in cards:
        sensors = ", ".join(c.sensors) or "unknown sensor"
        print(f"{c.name}\t{c.ms_bands} bands\tratio {c.ratio}\t{sensors}\t{c.path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with the subcommands of every installed module."""
    parser = argparse.ArgumentParser(
        prog="python -m backend", description="MMMamba pan-sharpening and super-resolution."
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the result")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_pansharpen(sub)
    for name in PLUGGABLE:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but one of its imports is missing
                raise
            continue
        add_cli = getattr(module, "add_cli", None)
        if add_cli is not None:
            add_cli(sub)
    add_models(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        from .io.raster import use_return_codes_in_this_process
    except ImportError:  # no GDAL: the commands that need it say so themselves
        pass
    else:
        use_return_codes_in_this_process()
    try:
        return int(args.func(args) or 0)
    except Cancelled as exc:
        print(f"cancelled: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except MMMambaError as exc:
        if args.debug:
            raise
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())

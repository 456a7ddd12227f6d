"""Compare a result raster with a reference raster of the same grid (the demo's summary).

`python -m backend compare --reference REF --image IMG` prints Q2n, SAM, ERGAS, sCC and PSNR.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from .errors import InputError

log = logging.getLogger(__name__)


def _read(path: Path, what: str) -> tuple[np.ndarray, tuple[float, ...]]:
    """(C, H, W) float64 values and the geotransform of a raster (GDAL's error mode untouched)."""
    from .io.raster import gdal_messages, open_raster

    ds = open_raster(path, what)
    values = None
    with gdal_messages() as msgs:
        values = ds.ReadAsArray()
    if values is None:
        raise InputError(
            f"The {what} '{path}' cannot be read ({msgs.last_error or 'unknown GDAL error'}): "
            "check that the file is complete."
        )
    return values.astype(np.float64).reshape(
        ds.RasterCount, ds.RasterYSize, ds.RasterXSize
    ), ds.GetGeoTransform()


def compare_rasters(reference: Path, image: Path, ratio: int = 4) -> dict[str, float]:
    """Quality of `image` against `reference` (both (C, H, W) rasters on the same grid).

    Args:
        reference: The ideal result.
        image: The result to assess.
        ratio: Resolution ratio, used by ERGAS.

    Returns:
        {"Q2n", "SAM", "ERGAS", "sCC", "PSNR"}.
    """
    from .metrics import ergas, psnr, q2n, sam, scc

    ref, gt_ref = _read(Path(reference), "reference raster")
    img, gt_img = _read(Path(image), "image")
    if ref.shape != img.shape:
        raise InputError(
            f"{image} has shape {img.shape} but the reference {reference} has {ref.shape}."
        )
    if not np.allclose(gt_ref, gt_img, rtol=0, atol=1e-6 * max(1.0, abs(gt_ref[1]))):
        raise InputError(f"{image} and {reference} are not on the same grid.")
    return {
        "Q2n": q2n(ref, img),
        "SAM": sam(ref, img),
        "ERGAS": ergas(ref, img, ratio),
        "sCC": scc(ref, img),
        "PSNR": psnr(ref, img, data_range=float(ref.max() - ref.min()) or 1.0),
    }


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register `compare` on the backend's command line."""
    p = subparsers.add_parser("compare", help="compare a result with a reference raster")
    p.add_argument("--reference", required=True, type=Path, help="ideal result (C bands)")
    p.add_argument("--image", required=True, type=Path, help="result to assess, same grid")
    p.add_argument("--ratio", type=int, default=4, help="resolution ratio for ERGAS")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    scores = compare_rasters(args.reference, args.image, args.ratio)
    if args.json:
        print(json.dumps(scores))
    else:
        print("Quality against the reference (ideal: Q2n 1, SAM 0, ERGAS 0, sCC 1):")
        print("  " + "  ".join(f"{k} {v:.4g}" for k, v in scores.items()))
    return 0

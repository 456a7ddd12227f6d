"""Build the bundled sample scene (resources/sample/) by simulating a PAN + MS acquisition.

Source: `rgbn_5m_uint8.tif` (R, G, B, NIR at 5 m, EPSG:32618, MIT licence; see
resources/sample/README.md). The simulated sensor delivers
- MS: the four bands in B, G, R, NIR order, low-passed with a sensor-like MTF filter (gain 0.3 at
  the MS Nyquist frequency) and sampled at the centre of each 4 x 4 footprint (20 m pixels);
- PAN: a spectral-response-weighted sum of the four bands at the full 5 m resolution;
- reference: the original four bands (B, G, R, NIR) at 5 m, the ideal pan-sharpened result.

Usage: .venv/bin/python scripts/make_sample.py [--source PATH] [--out resources/sample]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.degrade import mtf_filter  # noqa: E402

RATIO = 4
MS_GAIN = 0.30  # 'unknown sensor' MTF gain at Nyquist (shared/data/README.md)
# Relative spectral response of a broad 450-900 nm PAN band integrated over each MS band
# (typical of VHR sensors: little blue, most energy in red and NIR). Order: B, G, R, NIR.
PAN_WEIGHTS = np.array([0.10, 0.25, 0.30, 0.35])
SOURCE_ORDER = {"red": 0, "green": 1, "blue": 2, "nir": 3}  # band order of the source file
NAMES = ["blue", "green", "red", "nir"]
COLOR = [gdal.GCI_BlueBand, gdal.GCI_GreenBand, gdal.GCI_RedBand, gdal.GCI_Undefined]


def _write(path: Path, data: np.ndarray, gt: tuple, wkt: str, names: list[str], colors: list[int]):
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(
        str(path),
        data.shape[2],
        data.shape[1],
        data.shape[0],
        gdal.GDT_Byte,
        options=["COMPRESS=DEFLATE", "PREDICTOR=2"],
    )
    ds.SetGeoTransform(gt)
    ds.SetProjection(wkt)
    for i in range(data.shape[0]):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(data[i])
        band.SetDescription(names[i])
        band.SetColorInterpretation(colors[i])
    ds = None


def main() -> int:
    """Build pan.tif, ms.tif and reference.tif."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--source",
        type=Path,
        default=REPO.parent / "shared" / "data" / "ms_only" / "rgbn_5m_uint8.tif",
    )
    ap.add_argument("--out", type=Path, default=REPO / "resources" / "sample")
    args = ap.parse_args()

    src = gdal.Open(str(args.source))
    if src is None:
        raise SystemExit(f"cannot open {args.source}")
    h = src.RasterYSize // RATIO * RATIO
    w = src.RasterXSize // RATIO * RATIO
    cube = src.ReadAsArray(0, 0, w, h).astype(np.float64)  # (4, H, W) R, G, B, NIR
    cube = cube[[SOURCE_ORDER[n] for n in NAMES]]  # -> B, G, R, NIR
    gt = src.GetGeoTransform()
    srs = osr.SpatialReference(wkt=src.GetProjection())
    wkt = srs.ExportToWkt()

    blurred = mtf_filter(cube, MS_GAIN, RATIO)
    # Sample at the exact centre of each 4 x 4 footprint (fine coordinate 1.5): mean of the four
    # central pixels, so the MS grid is georeferenced without a half-pixel shift.
    c0, c1 = RATIO // 2 - 1, RATIO // 2
    ms = 0.25 * (
        blurred[:, c0::RATIO, c0::RATIO]
        + blurred[:, c1::RATIO, c0::RATIO]
        + blurred[:, c0::RATIO, c1::RATIO]
        + blurred[:, c1::RATIO, c1::RATIO]
    )
    pan = np.tensordot(PAN_WEIGHTS / PAN_WEIGHTS.sum(), cube, axes=1)[None]

    def to_u8(x: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(x), 0, 255).astype(np.uint8)

    args.out.mkdir(parents=True, exist_ok=True)
    ms_gt = (gt[0], gt[1] * RATIO, 0.0, gt[3], 0.0, gt[5] * RATIO)
    _write(args.out / "ms.tif", to_u8(ms), ms_gt, wkt, NAMES, COLOR)
    _write(args.out / "pan.tif", to_u8(pan), gt, wkt, ["pan"], [gdal.GCI_GrayIndex])
    _write(args.out / "reference.tif", to_u8(cube), gt, wkt, NAMES, COLOR)
    print(f"sample written to {args.out}: PAN {w}x{h}, MS {w // RATIO}x{h // RATIO} x 4 bands")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

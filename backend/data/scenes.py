"""Load real PAN + MS pairs into arrays, with sensor name, band names and resolution ratio.

Three layouts are understood:

* MATLAB v5 files of the pansharpening toolboxes (`I_PAN` (H, W), `I_MS` or `I_MS_LR`
  (h, w, C), optional `ratio`, `sensor`, `L`), read with `scipy.io.loadmat`;
* a pair of GeoTIFFs (`X_pan.tif` + `X_ms.tif`, or any two files given as `PAN,MS`);
* a folder of single-band files `pan.tif` + `lr_<band>.tif` (band names such as blue, green,
  red, nir), assembled in blue, green, red, NIR order.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

log = logging.getLogger(__name__)

BANDS_4 = ("blue", "green", "red", "nir")
BANDS_WV = ("coastal", "blue", "green", "yellow", "red", "rededge", "nir1", "nir2")

# Sensor names as the toolboxes' .mat files spell them -> names of the MTF table
# (shared/data/README.md and backend.degrade).
_SENSOR_ALIASES = {
    "wv2": "WorldView-2",
    "worldview2": "WorldView-2",
    "worldview-2": "WorldView-2",
    "wv3": "WorldView-3",
    "worldview3": "WorldView-3",
    "worldview-3": "WorldView-3",
    "ikonos": "IKONOS",
    "ik": "IKONOS",
    "geoeye1": "GeoEye-1",
    "geoeye-1": "GeoEye-1",
    "ge1": "GeoEye-1",
    "qb": "QuickBird",
    "quickbird": "QuickBird",
    "pleiades": "Pleiades",
    "spot7": "SPOT-7",
    "spot-7": "SPOT-7",
}

# Band files of a folder scene, in the order the 4-band model expects.
_BAND_FILE_ORDER = ("coastal", "blue", "green", "yellow", "red", "rededge", "nir", "nir1", "nir2")


@dataclass
class Scene:
    """One co-registered PAN + MS pair covering the same ground.

    Attributes:
        name: Short identifier (file stem), used in logs, splits and model cards.
        sensor: Sensor name of the MTF table ("unknown" when not known).
        pan: `(H, W)` float32 panchromatic image in the file's digital numbers.
        ms: `(C, H / ratio, W / ratio)` float32 multispectral image.
        ratio: Integer PAN / MS resolution ratio.
        band_names: One name per MS band, e.g. ("blue", "green", "red", "nir").
        bit_depth: Radiometric resolution if the source states it, else None.
        source: Where the scene was read from (path or "PAN,MS" pair).
    """

    name: str
    sensor: str
    pan: np.ndarray
    ms: np.ndarray
    ratio: int
    band_names: tuple[str, ...] = field(default_factory=tuple)
    bit_depth: int | None = None
    source: str = ""

    @property
    def n_bands(self) -> int:
        """Number of MS bands C."""
        return int(self.ms.shape[0])

    def describe(self) -> str:
        """One line for logs and model cards."""
        c, h, w = self.ms.shape
        return (
            f"{self.name} ({self.sensor}, MS {c}x{h}x{w}, "
            f"PAN {self.pan.shape[0]}x{self.pan.shape[1]}, ratio {self.ratio})"
        )


def canonical_sensor(name: str | None) -> str:
    """The MTF-table name of a sensor spelled in any common way; "unknown" if not recognised."""
    if not name:
        return "unknown"
    key = str(name).strip().lower().replace(" ", "").replace("_", "")
    return _SENSOR_ALIASES.get(key, _SENSOR_ALIASES.get(key.replace("-", ""), "unknown"))


def _sensor_from_filename(stem: str) -> str:
    for token in stem.lower().replace("-", "_").split("_"):
        token = token.removeprefix("img")
        if canonical_sensor(token) != "unknown":
            return canonical_sensor(token)
    return "unknown"


def default_band_names(n_bands: int, sensor: str) -> tuple[str, ...]:
    """Band names of the delivered order: B, G, R, NIR for 4 bands, WorldView order for 8."""
    if n_bands == 4:
        return BANDS_4
    if n_bands == 8 and sensor in ("WorldView-2", "WorldView-3", "unknown"):
        return BANDS_WV
    return tuple(f"band{i + 1}" for i in range(n_bands))


def _check_ratio(pan: np.ndarray, ms: np.ndarray, source: str, ratio: int | None = None) -> int:
    """The integer PAN / MS ratio implied by the shapes (and equal to `ratio` if given)."""
    (ph, pw), (_, mh, mw) = pan.shape, ms.shape
    if mh == 0 or mw == 0 or ph % mh or pw % mw or ph // mh != pw // mw:
        raise InputError(
            f"{source}: PAN {ph}x{pw} is not an integer multiple of MS {mh}x{mw} in both "
            "directions; crop both to the same ground extent first."
        )
    r = ph // mh
    if r < 2:
        raise InputError(f"{source}: PAN and MS have the same size; is the MS already upsampled?")
    if ratio is not None and ratio != r:
        raise InputError(f"{source}: the file says ratio {ratio} but the sizes imply {r}.")
    return r


def load_mat(path: str | os.PathLike[str]) -> Scene:
    """Read a toolbox .mat scene (`I_PAN`, `I_MS_LR` or `I_MS`, optional `ratio`, `sensor`, `L`)."""
    import scipy.io  # only needed for this layout

    p = Path(path)
    try:
        d = scipy.io.loadmat(str(p))
    except (OSError, ValueError, NotImplementedError) as exc:
        raise InputError(f"Cannot read '{p}' as a MATLAB v5 file ({exc}).") from exc
    if "I_PAN" not in d:
        raise InputError(f"'{p}' holds no 'I_PAN' array: not a pansharpening scene.")
    ms_key = "I_MS_LR" if "I_MS_LR" in d else "I_MS"
    if ms_key not in d:
        raise InputError(f"'{p}' holds neither 'I_MS_LR' nor 'I_MS'.")
    pan = np.asarray(d["I_PAN"], dtype=np.float32)
    ms_hwc = np.asarray(d[ms_key], dtype=np.float32)
    if pan.ndim == 3 and pan.shape[2] == 1:
        pan = pan[:, :, 0]
    if pan.ndim != 2 or ms_hwc.ndim != 3:
        raise InputError(f"'{p}': expected I_PAN (H, W) and {ms_key} (h, w, C).")
    ms = np.ascontiguousarray(ms_hwc.transpose(2, 0, 1))
    ratio = int(np.asarray(d["ratio"]).ravel()[0]) if "ratio" in d else None
    ratio = _check_ratio(pan, ms, str(p), ratio)
    sensor = "unknown"
    if "sensor" in d:
        sensor = canonical_sensor(str(np.asarray(d["sensor"]).ravel()[0]))
    if sensor == "unknown":
        sensor = _sensor_from_filename(p.stem)
    bit_depth = int(np.asarray(d["L"]).ravel()[0]) if "L" in d else None
    return Scene(
        name=p.stem,
        sensor=sensor,
        pan=np.ascontiguousarray(pan),
        ms=ms,
        ratio=ratio,
        band_names=default_band_names(ms.shape[0], sensor),
        bit_depth=bit_depth,
        source=str(p),
    )


def _read_all_bands(path: Path, what: str) -> np.ndarray:
    """Whole raster as `(C, H, W)` float32 (training scenes are small)."""
    from ..io.raster import open_raster, read_bands
    from ..io.window import Window

    ds = open_raster(path, what)
    values, _ = read_bands(
        ds, list(range(1, ds.RasterCount + 1)), Window(0, 0, ds.RasterXSize, ds.RasterYSize)
    )
    return values


def load_geotiff_pair(
    pan_path: str | os.PathLike[str],
    ms_path: str | os.PathLike[str],
    *,
    sensor: str | None = None,
    name: str | None = None,
) -> Scene:
    """Read a PAN raster (first band) and an MS raster covering the same ground, whole.

    Args:
        pan_path: Single-band (or first band used) panchromatic raster.
        ms_path: Multispectral raster, `ratio` times coarser than PAN.
        sensor: Sensor name for the MTF table; None infers it from the file names or "unknown".
        name: Scene name; defaults to the MS file's stem without a trailing "_ms".
    """
    pan_p, ms_p = Path(pan_path), Path(ms_path)
    pan = _read_all_bands(pan_p, "PAN raster")[0]
    ms = _read_all_bands(ms_p, "MS raster")
    source = f"{pan_p},{ms_p}"
    ratio = _check_ratio(pan, ms, source)
    scene_name = name or ms_p.stem.removesuffix("_ms").removesuffix("_MS")
    sens = canonical_sensor(sensor) if sensor else _sensor_from_filename(scene_name)
    return Scene(
        name=scene_name,
        sensor=sens,
        pan=np.ascontiguousarray(pan),
        ms=np.ascontiguousarray(ms),
        ratio=ratio,
        band_names=default_band_names(ms.shape[0], sens),
        source=source,
    )


def load_band_folder(folder: str | os.PathLike[str], *, sensor: str | None = None) -> Scene:
    """Read a folder of `pan.tif` + `lr_<band>.tif` single-band files (band order B, G, R, NIR)."""
    f = Path(folder)
    pan_file = f / "pan.tif"
    if not pan_file.is_file():
        raise InputError(f"The folder '{f}' has no pan.tif: not a band-file scene.")
    found = {p.stem.lower().removeprefix("lr_"): p for p in f.glob("lr_*.tif")}
    names = [b for b in _BAND_FILE_ORDER if b in found]
    if not names:
        raise InputError(f"The folder '{f}' has no lr_<band>.tif files (e.g. lr_red.tif).")
    unknown = sorted(set(found) - set(names))
    if unknown:
        raise InputError(f"'{f}': unknown band files {unknown}; expected names like lr_red.tif.")
    ms = np.stack([_read_all_bands(found[b], "MS band")[0] for b in names])
    pan = _read_all_bands(pan_file, "PAN raster")[0]
    ratio = _check_ratio(pan, ms, str(f))
    return Scene(
        name=f.name,
        sensor=canonical_sensor(sensor) if sensor else "unknown",
        pan=np.ascontiguousarray(pan),
        ms=ms,
        ratio=ratio,
        band_names=tuple(names),
        source=str(f),
    )


def load_scene(spec: str | os.PathLike[str], *, sensor: str | None = None) -> Scene:
    """Load a scene from a spec: `X.mat`, a band-file folder, `X_ms.tif`/`X_pan.tif`, or `PAN,MS`.

    Args:
        spec: Path or comma-separated `PAN,MS` pair.
        sensor: Override of the sensor name (MTF table); None keeps what the data says.
    """
    s = str(spec)
    if "," in s:
        pan_s, ms_s = (part.strip() for part in s.split(",", 1))
        return load_geotiff_pair(pan_s, ms_s, sensor=sensor)
    p = Path(s)
    if not p.exists():
        raise InputError(f"The training scene '{p}' does not exist: check the path.")
    if p.is_dir():
        return load_band_folder(p, sensor=sensor)
    if p.suffix.lower() == ".mat":
        scene = load_mat(p)
        if sensor:
            scene.sensor = canonical_sensor(sensor)
        return scene
    stem = p.stem
    for mine, other in (("_ms", "_pan"), ("_pan", "_ms"), ("_MS", "_PAN"), ("_PAN", "_MS")):
        if stem.endswith(mine):
            partner = p.with_name(stem[: -len(mine)] + other + p.suffix)
            if not partner.is_file():
                break
            pan_p, ms_p = (partner, p) if mine.lower() == "_ms" else (p, partner)
            return load_geotiff_pair(pan_p, ms_p, sensor=sensor)
    raise InputError(
        f"Cannot tell how to read the scene '{p}': pass a .mat file, a folder with pan.tif and "
        "lr_<band>.tif files, a file named X_ms.tif beside X_pan.tif, or 'PAN.tif,MS.tif'."
    )

"""Classical pan-sharpening baselines (NumPy), used as references by the quality assessment.

Every method has the signature `method(pan (H, W), ms (C, h, w), ratio, sensor=None) -> (C, H, W)`
float32. `METHODS` maps the command-line names to them; importing this package needs no torch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .brovey import brovey
from .exp import exp
from .gdal_pansharpen import gdal_pansharpen, gdal_pansharpen_files
from .gsa import gsa
from .mtf_glp_hpm import mtf_glp_hpm

Method = Callable[..., np.ndarray]

METHODS: dict[str, Method] = {
    "exp": exp,
    "brovey": brovey,
    "gsa": gsa,
    "mtf-glp-hpm": mtf_glp_hpm,
    "gdal": gdal_pansharpen,
}

__all__ = [
    "METHODS",
    "brovey",
    "exp",
    "gdal_pansharpen",
    "gdal_pansharpen_files",
    "gsa",
    "mtf_glp_hpm",
]

"""Pan-sharpening quality metrics with the definitions of the pan-sharpening toolboxes (NumPy).

Reduced resolution (with a reference): `q2n`, `q_index` (mean UIQI), `sam`, `ergas`, `scc`, `psnr`,
`ssim`. Full resolution (no reference): `d_lambda_khan`, `d_s`, `hqnr`. Images are (C, H, W).
"""

from __future__ import annotations

from .ergas import ergas
from .full_resolution import d_lambda_khan, d_s, hqnr
from .psnr import psnr
from .q2n import q2n
from .sam import sam
from .scc import scc
from .ssim import ssim
from .uiqi import q_index, uiqi

__all__ = [
    "d_lambda_khan",
    "d_s",
    "ergas",
    "hqnr",
    "psnr",
    "q2n",
    "q_index",
    "sam",
    "scc",
    "ssim",
    "uiqi",
]

"""Training data: real PAN + MS scenes, region-held-out splits and Wald-protocol samples.

`scenes` and `splits` need only NumPy and GDAL; `dataset` imports torch.
"""

from __future__ import annotations

"""OpenMP wait policy of the process: idle worker threads sleep instead of spinning.

On a CPU, PyTorch's operators run on OpenMP worker threads that keep spinning for a while after
each operator ends, and the compiled scan (`ops.scan_native`) runs its own threads right after
such operators: on a machine with few cores the spinning workers take the cores the scan needs.
Measured on a 2-core VM (bench/results/cpu_infer.md), a 512^2 forward pass took 11.6-12.9 s with
the default policy and 8.6-10.1 s with passive waiting (the scan alone 4.8-5.2 s -> 2.8-3.2 s).

OpenMP reads the policy once, when the runtime loads (with torch): `import backend` sets it
before any torch import of the package. A policy the user set is kept, and a process that loaded
torch earlier is left as it is.
"""

from __future__ import annotations

import os

POLICY = "PASSIVE"


def prefer_passive_waiting() -> str:
    """Set `OMP_WAIT_POLICY` to PASSIVE unless the environment already sets it; return the
    policy now in the environment."""
    return os.environ.setdefault("OMP_WAIT_POLICY", POLICY)

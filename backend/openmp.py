"""OpenMP spinning of the process: idle worker threads go to sleep soon instead of spinning.

On a CPU, PyTorch's operators run on OpenMP worker threads that keep spinning for a while after
each operator ends (GNU OpenMP, which PyTorch's Linux wheels use: 300000 spins by default), and
the compiled scan (`ops.scan_native`) runs its own threads right after such operators: on a
machine with few cores the spinning workers take the cores the scan needs. Measured on a 2-core
VM (bench/results/cpu_infer.md), with 10000 spins a 1024^2 forward pass takes a fifth less time
and a training step no longer; sleeping at once (`OMP_WAIT_POLICY=PASSIVE`) helped the forward
pass as much but slowed training steps by about a tenth.

OpenMP reads its settings once, when the runtime loads (with torch): `import backend` sets
`GOMP_SPINCOUNT` before any torch import of the package, unless the user set it or a wait
policy; a process that loaded torch earlier is left as it is.
"""

from __future__ import annotations

import os

SPIN_COUNT = "10000"


def limit_spinning() -> str | None:
    """Set `GOMP_SPINCOUNT` to `SPIN_COUNT` unless `GOMP_SPINCOUNT` or `OMP_WAIT_POLICY` is set;
    return the spin count now in the environment (None if a wait policy governs it)."""
    if "OMP_WAIT_POLICY" in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        return None
    return os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)

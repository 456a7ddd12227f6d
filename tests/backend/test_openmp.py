"""`import backend` limits how long OpenMP's idle workers spin (unless the user chose a spin
count or a wait policy), in a fresh interpreter: OpenMP reads it once, when torch loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "import os, backend, torch; "
    "print(os.environ.get('GOMP_SPINCOUNT', '-'), torch.get_num_threads() >= 1)"
)


def _spin_count(**env_set: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env.update(env_set)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    return out.stdout.split()[0]


def test_import_limits_spinning() -> None:
    assert _spin_count() == "10000"


def test_the_users_settings_are_kept() -> None:
    assert _spin_count(GOMP_SPINCOUNT="5") == "5"
    assert _spin_count(OMP_WAIT_POLICY="ACTIVE") == "-"  # the policy governs

"""`import backend` makes OpenMP's idle workers sleep (unless the user chose a policy), in a
fresh interpreter: OpenMP reads the policy once, when torch loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "import os, backend, torch; "
    "print(os.environ['OMP_WAIT_POLICY'], torch.get_num_threads() >= 1)"
)


def _policy(env_policy: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if env_policy is not None:
        env["OMP_WAIT_POLICY"] = env_policy
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    return out.stdout.split()[0]


def test_import_sets_passive_waiting() -> None:
    assert _policy(None) == "PASSIVE"


def test_a_policy_the_user_set_is_kept() -> None:
    assert _policy("ACTIVE") == "ACTIVE"

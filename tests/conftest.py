"""Fixtures shared by backend and plugin tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (the plugin folder)."""
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real imagery kept beside the checkout in ../shared/data (never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real imagery folder {SHARED_DATA} is absent")
    return SHARED_DATA

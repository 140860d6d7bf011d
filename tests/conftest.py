"""Shared fixtures: where the real data lives, and the repository root."""

from __future__ import annotations

import os
from pathlib import Path

# Before torch loads: spinning OpenMP waits stall badly when the other core is busy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Real faces are read by path, never copied: EDGEKP_DATA, else ../shared/data beside the checkout."""
    return Path(os.environ.get("EDGEKP_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set EDGEKP_DATA)")
    return path

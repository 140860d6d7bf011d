"""Helpers for the data tests: read real .pts folders (with edgekp's reader when it is there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekp.data.records import FaceRecord


def _read_pts(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    start = lines.index("{") + 1
    rows = [line.split() for line in lines[start : lines.index("}")]]
    return np.asarray(rows, dtype=np.float32) - 1.0  # iBUG .pts is 1-based


def read_pts_records(folder: Path, limit: int | None = None) -> list[FaceRecord]:
    """Records of a .pts folder: edgekp's reader if it has landed, else a few lines of our own."""
    try:
        from edgekp.data.readers import read_dataset
    except ImportError:
        read_dataset = None
    if read_dataset is not None:
        records = list(read_dataset(folder, format="pts").records)
        return records[:limit] if limit else records
    records = []
    for pts in sorted(folder.glob("*.pts"))[:limit]:
        image = next((pts.with_suffix(s) for s in (".jpg", ".png", ".jpeg") if pts.with_suffix(s).exists()), None)
        records.append(FaceRecord(source=pts.stem, points=_read_pts(pts), image=image))
    return records


@pytest.fixture(scope="session")
def read_pts():
    """The reader above as a fixture (test modules cannot import conftest)."""
    return read_pts_records

"""Data hashes: what a measurement was made on, so a result names its data and a cache misses when it changes.

(Run lineage's own hashes, of model files and recipes, live with the run directory in ``edgekp.lineage``.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_SMALL = 1 << 16  # files up to this size (annotations) are hashed by content, larger ones (images) by size


def data_hash(path: str | Path) -> str:
    """Hash of a dataset folder or file: relative names and sizes of every file, contents of small ones.

    Images are hashed by name and size only, so hashing a few thousand faces takes milliseconds;
    annotation files (small) are hashed by content, so an edited label misses the cache.
    """
    path = Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        size = f.stat().st_size
        rel = f.name if f == path else f.relative_to(path).as_posix()
        digest.update(f"{rel}|{size}|".encode())
        if size <= _SMALL:
            digest.update(f.read_bytes())
    return digest.hexdigest()

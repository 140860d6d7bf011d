"""Bench results cached as JSON in the run directory (``<run>/bench/cache.json``).

An entry's key is the hash of what determines it: the artifact's sha256, the dataset's hash, the
thread count and the measurement settings. Re-benching an unchanged run costs nothing; replacing
an artifact or the data misses the cache. A cache file that cannot be read (corrupt, truncated,
another version) is logged and rebuilt from scratch rather than failing the bench.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgekp.files.atomic import atomic_write_json
from edgekp.files.hashes import sha256_json
from edgekp.logs import get_logger

log = get_logger(__name__)

VERSION = 1
CACHE_FILE = "cache.json"


def cache_key(artifact_hash: str, data_hash: str | None, threads: int | None, what: str, settings: Any = None) -> str:
    return sha256_json(
        {"artifact": artifact_hash, "data": data_hash, "threads": threads, "what": what, "settings": settings}
    )


class BenchCache:
    """A JSON dict key -> result in ``folder/cache.json``; written after every new entry."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / CACHE_FILE
        self.entries: dict[str, Any] = {}
        self.rebuilt = False
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if (
                    not isinstance(data, dict)
                    or data.get("version") != VERSION
                    or not isinstance(data.get("entries"), dict)
                ):
                    raise ValueError("not an edgekp bench cache of this version")
                self.entries = data["entries"]
            except (ValueError, UnicodeDecodeError, OSError) as exc:
                # The cache only saves time: a bad one is dropped, never trusted and never fatal.
                log.warning("bench cache %s is unreadable (%s); rebuilding it", self.path, str(exc)[:120])
                self.rebuilt = True
                self.entries = {}

    def get(self, key: str) -> Any | None:
        return self.entries.get(key)

    def put(self, key: str, value: Any) -> None:
        self.entries[key] = value
        atomic_write_json(self.path, {"version": VERSION, "entries": self.entries})

"""The sidecar beside every exported file, ``<artifact>.json``: where the export came from and how it did.

It holds the metadata the export embeds in the file (built by edgekp.export.metadata; the file's own
contract is what a runtime reads) plus what only the sidecar records: size, timings, parity.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgekp.files.atomic import atomic_write_json


def sidecar_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".json")


def write_sidecar(artifact: Path, meta: dict[str, str], extra: dict[str, Any]) -> Path:
    """``<artifact>.json``: the embedded metadata plus what only the sidecar holds (size, timings, parity)."""
    path = sidecar_path(artifact)
    atomic_write_json(path, {"metadata": meta, **extra})
    return path


def read_sidecar_metadata(artifact: Path) -> dict[str, Any]:
    """The sidecar's flat metadata; empty when there is no sidecar or it cannot be read."""
    try:
        return dict(json.loads(sidecar_path(artifact).read_text(encoding="utf-8")).get("metadata") or {})
    except (ValueError, OSError, AttributeError):
        return {}

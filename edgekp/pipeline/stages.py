"""Stage bookkeeping for ``edgekp run``: when a finished stage can be reused, when to resume.

Each stage folder gets ``pipeline_stage.json`` holding the hash of its inputs (the stage's fully
resolved recipe and its parents' content hashes). A stage whose stamp matches and whose manifest
says it finished is reused as is; one whose stamp matches but did not finish is resumed; one whose
inputs changed is cleared (it is the pipeline's own folder) and run again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from edgekp.files.atomic import atomic_write_json
from edgekp.files.hashes import sha256_json
from edgekp.lineage.manifest import MANIFEST
from edgekp.logs import get_logger

log = get_logger(__name__)

STAMP = "pipeline_stage.json"
DONE_STATUSES = ("ok",)


def inputs_hash(stage: str, recipe: Any, parents: list[str | None]) -> str:
    return sha256_json({"stage": stage, "recipe": recipe, "parents": parents})


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def state(folder: Path, digest: str, done: tuple[str, ...] = DONE_STATUSES) -> str:
    """'reuse', 'resume' or 'fresh' for the stage folder given the hash of its inputs now."""
    stamp = _read(folder / STAMP)
    if stamp.get("inputs") != digest:
        if folder.exists() and any(folder.iterdir()):
            log.info("stage %s: inputs changed since it last ran; running it again", folder.name)
            shutil.rmtree(folder)
        return "fresh"
    status = _read(folder / MANIFEST).get("status")
    return "reuse" if status in done and stamp.get("done") else "resume"


def begin(folder: Path, digest: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / STAMP, {"inputs": digest, "done": False})


def finish(folder: Path, digest: str, **extra: Any) -> None:
    atomic_write_json(folder / STAMP, {"inputs": digest, "done": True, **extra})


def content_hash(folder: Path) -> str | None:
    """A finished stage's identity for its children: its inputs hash and its manifest's artifacts."""
    stamp, manifest = _read(folder / STAMP), _read(folder / MANIFEST)
    return sha256_json(
        {"inputs": stamp.get("inputs"), "artifacts": manifest.get("artifacts"), "recipe": manifest.get("recipe")}
    )

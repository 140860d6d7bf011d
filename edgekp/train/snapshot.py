"""Committed checkpoints: a training in progress copied into a tracked folder, and back.

Run directories (``runs/``) do not travel with the repository; a *snapshot* does. It holds what
``edgekp train --resume`` needs (manifest.json, last.pt, history.csv) plus the best weights
(model.pt), the curve (history.png), the run's recipe as ``recipe.yaml`` and ``snapshot.json``
(sha256 of every file, the epochs it holds). Restoring copies it into a run folder and checks the
hashes; the resume is then the ordinary one::

    edgekp train --recipe training/<name>/recipe.yaml --out runs/<name> --resume [--device auto]

The trainer rewrites model.pt, last.pt and history.csv one after the other at each epoch end, so a
snapshot of a live run could mix two epochs: the copy is checked (last.pt's epoch and best epoch
against history.csv and model.pt) and retaken until it is consistent, then swapped in whole.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.artifacts import (
    MANIFEST,
    MODEL_FILE,
    atomic_write_bytes,
    atomic_write_json,
    load_checkpoint,
    sha256_file,
)
from edgekp.errors import LineageError

LAST = "last.pt"  # edgekp.train.loop.LAST
SNAPSHOT = "snapshot.json"
RECIPE = "recipe.yaml"
REQUIRED = (MANIFEST, LAST, "history.csv")
OPTIONAL = (MODEL_FILE, "history.png")


@dataclass(frozen=True)
class Snapshot:
    path: Path
    epoch: int  # the last finished epoch last.pt holds
    best_epoch: int
    best_nme: float | None
    files: dict[str, str]  # name -> sha256
    unchanged: bool = False  # the target already held this epoch: nothing was copied

    def resume_command(self, out: str | Path) -> str:
        return f"edgekp train --recipe {self.path / RECIPE} --out {out} --resume"


def _history_epochs(path: Path) -> int:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return max(0, len(lines) - 1)


def _check(folder: Path) -> tuple[int, int, float | None]:
    """(epoch, best epoch, best NME) when last.pt, history.csv and model.pt agree; LineageError otherwise."""
    state = load_checkpoint(folder / LAST)
    epoch, best = int(state["epoch"]), dict(state.get("best") or {})
    best_epoch = int(best.get("epoch", -1))
    if _history_epochs(folder / "history.csv") != epoch + 1:
        raise LineageError(f"history.csv does not end at last.pt's epoch {epoch}")
    if (folder / MODEL_FILE).is_file() and best_epoch >= 0:
        model_epoch = load_checkpoint(folder / MODEL_FILE).get("meta", {}).get("epoch")
        if model_epoch is not None and int(model_epoch) != best_epoch:
            raise LineageError(f"model.pt holds epoch {model_epoch}, last.pt's best is epoch {best_epoch}")
    nme = best.get("nme")
    return epoch, best_epoch, None if nme is None else float(nme)


def _copy_consistent(run: Path, into: Path, attempts: int, wait_s: float) -> tuple[int, int, float | None]:
    for attempt in range(attempts):
        for name in (*REQUIRED, *OPTIONAL):
            if (run / name).is_file():
                shutil.copyfile(run / name, into / name)
            elif name in REQUIRED:
                raise LineageError(f"{str(run)!r} has no {name}: not a training run with a finished epoch yet")
        try:
            return _check(into)
        except LineageError:
            if attempt == attempts - 1:
                raise
            time.sleep(wait_s)  # an epoch end was being written: take the copy again
    raise AssertionError("unreachable")


def _recipe_yaml(manifest: dict[str, Any]) -> bytes:
    import yaml

    recipe = manifest.get("recipe")
    if not isinstance(recipe, dict):
        raise LineageError("the run's manifest records no recipe")
    return yaml.safe_dump(recipe, sort_keys=False).encode()


def read_snapshot(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / SNAPSHOT
    if not path.is_file():
        raise LineageError(f"{str(folder)!r} is not a training snapshot (no {SNAPSHOT})")
    return json.loads(path.read_text())


def snapshot_run(run: str | Path, to: str | Path, attempts: int = 5, wait_s: float = 2.0) -> Snapshot:
    """Copy a (possibly still running) training run into ``to``, replacing an older snapshot there."""
    run, to = Path(run), Path(to)
    if not (run / MANIFEST).is_file():
        raise LineageError(f"{str(run)!r} is not an edgekp run directory (no {MANIFEST})")
    if to.exists() and not (to / SNAPSHOT).is_file() and any(to.iterdir()):
        raise LineageError(f"{str(to)!r} exists and is not a training snapshot; choose another --to")
    to.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{to.name}.", dir=to.parent) as tmp:
        staging = Path(tmp) / "new"
        staging.mkdir()
        epoch, best_epoch, best_nme = _copy_consistent(run, staging, attempts, wait_s)
        if (to / SNAPSHOT).is_file() and read_snapshot(to).get("epoch") == epoch:
            old = read_snapshot(to)
            return Snapshot(to, epoch, best_epoch, best_nme, dict(old.get("files") or {}), unchanged=True)
        manifest = json.loads((staging / MANIFEST).read_text())
        atomic_write_bytes(staging / RECIPE, _recipe_yaml(manifest))
        files = {p.name: sha256_file(p) for p in sorted(staging.iterdir())}
        atomic_write_json(staging / SNAPSHOT, {
            "kind": "training-snapshot", "source": str(run), "status": manifest.get("status"), "epoch": epoch,
            "best_epoch": best_epoch, "best_val_nme": best_nme, "taken": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": files, "resume": f"edgekp train --recipe {to / RECIPE} --out runs/{to.name} --resume",
        })
        # Swap the folder in whole: a reader sees the old snapshot or the new one, never a mix.
        retired = Path(tmp) / "old"
        if to.exists():
            to.rename(retired)
        staging.rename(to)
    return Snapshot(to, epoch, best_epoch, best_nme, files)


def restore_run(snapshot: str | Path, out: str | Path, force: bool = False) -> Snapshot:
    """Copy a snapshot into the run folder ``out`` (hash-checked), ready for ``edgekp train --resume``."""
    snapshot, out = Path(snapshot), Path(out)
    info = read_snapshot(snapshot)
    files = dict(info.get("files") or {})
    for name, digest in files.items():
        if not (snapshot / name).is_file() or sha256_file(snapshot / name) != digest:
            raise LineageError(f"snapshot {str(snapshot)!r}: {name} is missing or differs from its recorded sha256")
    if (out / LAST).is_file() and not force:
        here = int(load_checkpoint(out / LAST)["epoch"])
        if here >= int(info["epoch"]):
            raise LineageError(f"{str(out)!r} already holds epoch {here} (the snapshot: {info['epoch']}); "
                               "resume it directly, or pass --force to replace it")
    out.mkdir(parents=True, exist_ok=True)
    for name in files:
        if name not in (SNAPSHOT, RECIPE):
            shutil.copyfile(snapshot / name, out / f".{name}.tmp")
            (out / f".{name}.tmp").replace(out / name)
    return Snapshot(snapshot, int(info["epoch"]), int(info["best_epoch"]), info.get("best_val_nme"), files)

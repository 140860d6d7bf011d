"""Committed checkpoints: a training run's weights copied into a tracked folder, to continue elsewhere.

Run directories (``runs/``) do not travel with the repository; a *snapshot* does. It holds model
weights only, never optimizer state (every byte in git is downloaded by every user who clones):
``model.pt`` (the best weights, in fp16 when that changes no prediction by more than
``FP16_TOLERANCE``), ``manifest.json``, the curves (``history.csv``/``.png``), the run's recipe as
``recipe.yaml`` and ``snapshot.json`` (sha256 of every file, the epochs it holds). A training
continues on another machine by warm start: a new run whose ``model.init_from`` is the snapshot::

    edgekp train --recipe training/<name>/recipe.yaml --set model.init_from=training/<name> --out runs/<name>

The trainer rewrites model.pt, last.pt and history.csv one after the other at each epoch end, so a
snapshot of a live run could mix two epochs: the copy is checked (last.pt's epoch and best epoch
against history.csv and model.pt) and retaken until it is consistent, then swapped in whole. last.pt
is read for that check and left out of the snapshot.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.errors import LineageError
from edgekp.files.atomic import atomic_write_bytes, atomic_write_json
from edgekp.files.hashes import sha256_file
from edgekp.lineage.checkpoints import load_checkpoint, save_checkpoint
from edgekp.lineage.manifest import MANIFEST
from edgekp.lineage.run_dir import MODEL_FILE

LAST = "last.pt"  # edgekp.train.loop.LAST
SNAPSHOT = "snapshot.json"
RECIPE = "recipe.yaml"
REQUIRED = (MANIFEST, LAST, "history.csv", MODEL_FILE)
OPTIONAL = ("history.png",)
KEPT = (MANIFEST, "history.csv", MODEL_FILE, *OPTIONAL)  # what the snapshot holds: no optimizer state
# fp16 weights are kept only when no output of the model moves by more than this (normalized crop
# coordinates: 1e-3 is 0.13 px of a 128 px crop) on a fixed probe batch.
FP16_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Snapshot:
    path: Path
    epoch: int  # the last finished epoch of the run when the snapshot was taken
    best_epoch: int
    best_nme: float | None
    files: dict[str, str]  # name -> sha256
    weights_dtype: str = "float32"
    unchanged: bool = False  # the target already held this epoch: nothing was copied

    def continue_command(self, out: str | Path) -> str:
        return continue_command(self.path, out)


def continue_command(snapshot: str | Path, out: str | Path) -> str:
    snapshot = Path(snapshot)
    return f"edgekp train --recipe {snapshot / RECIPE} --set model.init_from={snapshot} --out {out}"


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
    if best_epoch >= 0:
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


def halve_weights(model_file: Path, tolerance: float = FP16_TOLERANCE) -> str:
    """Rewrite ``model_file``'s floating weights in fp16 when the model's outputs move by at most
    ``tolerance``; returns the dtype the file holds afterwards. Loading casts them back to fp32."""
    import torch

    from edgekp.lineage.checkpoints import load_model_file

    state = load_checkpoint(model_file)
    weights = state.get("state_dict")
    if not isinstance(weights, dict) or any(v.dtype == torch.float16 for v in weights.values()):
        return "float16" if isinstance(weights, dict) else "float32"
    halved = dict(state, state_dict={k: v.half() if v.is_floating_point() else v for k, v in weights.items()})
    reference = load_model_file(model_file).model
    size = int(getattr(reference, "input_size", 128))
    probe = torch.rand(4, 3, size, size, generator=torch.Generator().manual_seed(0))
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / MODEL_FILE
        save_checkpoint(candidate, halved)
        with torch.no_grad():
            moved = (load_model_file(candidate).model(probe) - reference(probe)).abs().max().item()
    if moved > tolerance:
        return "float32"
    save_checkpoint(model_file, halved)
    return "float16"


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


def write_snapshot_record(
    folder: Path,
    *,
    source: str,
    status: Any,
    epoch: int,
    best_epoch: int,
    best_nme: float | None,
    weights_dtype: str,
    taken: str | None = None,
) -> dict[str, str]:
    """(Re)write ``snapshot.json`` from the files the folder holds; returns name -> sha256."""
    files = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.name in (*KEPT, RECIPE)}
    atomic_write_json(
        folder / SNAPSHOT,
        {
            "kind": "training-snapshot",
            "source": source,
            "status": status,
            "epoch": epoch,
            "best_epoch": best_epoch,
            "best_val_nme": best_nme,
            "weights_dtype": weights_dtype,
            "taken": taken or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": files,
            "continue": continue_command(folder, f"runs/{folder.name}"),
        },
    )
    return files


def snapshot_run(run: str | Path, to: str | Path, attempts: int = 5, wait_s: float = 2.0) -> Snapshot:
    """Copy a (possibly still running) training run's weights into ``to``, replacing an older snapshot there."""
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
            return Snapshot(
                to,
                epoch,
                best_epoch,
                best_nme,
                dict(old.get("files") or {}),
                str(old.get("weights_dtype", "float32")),
                unchanged=True,
            )
        (staging / LAST).unlink()  # checked above, never committed: optimizer state stays with the run
        dtype = halve_weights(staging / MODEL_FILE)
        manifest = json.loads((staging / MANIFEST).read_text())
        atomic_write_bytes(staging / RECIPE, _recipe_yaml(manifest))
        files = write_snapshot_record(
            staging,
            source=str(run),
            status=manifest.get("status"),
            epoch=epoch,
            best_epoch=best_epoch,
            best_nme=best_nme,
            weights_dtype=dtype,
        )
        # The record names the final folder, not the staging one.
        record = read_snapshot(staging)
        record["continue"] = continue_command(to, f"runs/{to.name}")
        atomic_write_json(staging / SNAPSHOT, record)
        # Swap the folder in whole: a reader sees the old snapshot or the new one, never a mix.
        retired = Path(tmp) / "old"
        if to.exists():
            to.rename(retired)
        staging.rename(to)
    return Snapshot(to, epoch, best_epoch, best_nme, files, dtype)


def verify_snapshot(snapshot: str | Path) -> Snapshot:
    """Check every file of a snapshot against its recorded sha256; LineageError names the first that differs."""
    snapshot = Path(snapshot)
    info = read_snapshot(snapshot)
    files = dict(info.get("files") or {})
    for name, digest in files.items():
        if not (snapshot / name).is_file() or sha256_file(snapshot / name) != digest:
            raise LineageError(f"snapshot {str(snapshot)!r}: {name} is missing or differs from its recorded sha256")
    if MODEL_FILE not in files:
        raise LineageError(f"snapshot {str(snapshot)!r} holds no {MODEL_FILE}")
    return Snapshot(
        snapshot,
        int(info["epoch"]),
        int(info["best_epoch"]),
        info.get("best_val_nme"),
        files,
        str(info.get("weights_dtype", "float32")),
    )

"""Where a verb's model comes from: ``--from RUN_DIR``, or a shipped model (the default ``s``, or
``--from shipped:t|s|b``).

Every stage reads a run directory (``manifest.json`` + ``model.pt``). The shipped model lives in
the installed package, which must never be written to, yet export, bench, prune and QAT write
their outputs beside or under their source. So the shipped model is materialized once as a run
directory under the current directory, ``./edgekp-out/kp_hvit_s_merlrav`` (a copy of the model and a
``train`` manifest built from the shipped lineage; ``./edgekp-out/<name>`` for the other sizes), and
every verb's usual output rule applies to that copy:
``./edgekp-out/kp_hvit_s_merlrav/exports/tflite-int8``, ``.../bench``, ``.../qat-tflite``,
``./edgekp-out/kp_hvit_s_merlrav-heads_50``.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.errors import LineageError
from edgekp.files.atomic import atomic_write_bytes, atomic_write_json
from edgekp.files.hashes import sha256_file, sha256_json
from edgekp.lineage.manifest import MANIFEST, ManifestHeader
from edgekp.lineage.run_dir import MODEL_FILE
from edgekp.lineage.shipped import (
    DEFAULT_SIZE,
    PACKAGE_DIR,
    SHIPPED_SIZES,
    shipped_manifest,
    shipped_manifest_path,
    shipped_model_path,
    shipped_name,
    shipped_size,
)
from edgekp.logs import get_logger

log = get_logger(__name__)

OUT_ROOT = "edgekp-out"  # default output folder, under the current directory


@dataclass(frozen=True)
class ModelSource:
    """A run directory to read a model from; ``shipped`` when it is the materialized shipped model."""

    run_dir: Path
    shipped: bool

    @property
    def manifest(self) -> Path:
        return self.run_dir / MANIFEST

    @property
    def model(self) -> Path:
        return self.run_dir / MODEL_FILE

    def __str__(self) -> str:
        return str(self.run_dir)


def _package_root() -> Path:
    import edgekp

    return Path(edgekp.__file__).resolve().parent


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def names_shipped(value: str | None) -> str | None:
    """The shipped size ``value`` names (None, ``shipped``, ``shipped:t|s|b``, or a path to one of the
    package's shipped files); None when it names a run directory or file of the user's."""
    size = shipped_size(value)
    if size is not None:
        return size
    path = Path(str(value)).expanduser()
    if not (path.exists() and _inside(path, PACKAGE_DIR)):
        return None
    stem = path.name.split(".", 1)[0]
    return next((s for s, name in SHIPPED_SIZES.items() if name == stem), DEFAULT_SIZE)


def resolve_source(value: str | None, out_root: str | Path | None = None) -> ModelSource:
    """The run directory a verb reads: ``value`` as given, or a shipped model materialized under ``out_root``."""
    size = names_shipped(value)
    if size is None:
        return ModelSource(Path(str(value)).expanduser(), shipped=False)
    return ModelSource(materialize_shipped(out_root, size), shipped=True)


def default_out_root(out_root: str | Path | None = None) -> Path:
    return Path(out_root) if out_root is not None else Path.cwd() / OUT_ROOT


def workspace_manifest(shipped: dict[str, Any], model_sha: str, package_manifest: Path) -> dict[str, Any]:
    """A ``train`` run manifest for the shipped model, from its lineage (what stages read as a parent)."""
    trained_by = shipped["trained_by"]
    recipe = trained_by["recipe"]
    header = ManifestHeader(
        kind="train",
        edgekp_version=trained_by.get("edgekp_version"),
        git_commit=trained_by.get("git_commit"),
        recipe=recipe,
        recipe_hash=sha256_json(recipe),
        parent=None,
        host=trained_by.get("host"),
        started=trained_by.get("started"),
        finished=trained_by.get("finished"),
        status="ok",
    )
    return {
        **header.to_dict(),
        "artifacts": {MODEL_FILE: model_sha},
        "result": shipped.get("result"),
        "best_val": shipped.get("best_val"),
        "balance": shipped.get("balance"),
        "data": shipped.get("data"),
        "lineage": shipped.get("lineage"),
        "shipped": {
            "name": shipped.get("name"),
            "package_manifest": str(package_manifest),
            "model_sha256": model_sha,
            "materialized": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "reproduce": shipped.get("reproduce"),
        },
    }


def materialize_shipped(out_root: str | Path | None = None, size: str = "s") -> Path:
    """``<out_root>/<shipped name>``: a shipped model as a run directory (created or refreshed; never in
    the package)."""
    root = default_out_root(out_root)
    run_dir = root / shipped_name(size)
    if _inside(run_dir, _package_root()):
        raise LineageError(
            f"the output folder {str(root)!r} is inside the installed edgekp package; "
            "run from another directory or pass --out"
        )
    package_model = shipped_model_path(size)
    shipped = shipped_manifest(size)
    expected = str(shipped.get("model_sha256") or "")
    actual = sha256_file(package_model)
    if expected and actual != expected:
        raise LineageError(
            f"the shipped model {str(package_model)!r} does not match its manifest's sha256; reinstall edgekp"
        )
    manifest_path = run_dir / MANIFEST
    if manifest_path.is_file() and (run_dir / MODEL_FILE).is_file():
        try:
            current = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            current = {}
        if (current.get("shipped") or {}).get("model_sha256") == actual and sha256_file(run_dir / MODEL_FILE) == actual:
            return run_dir
        log.warning(
            "%s held another version of the shipped model; replaced it (outputs already there came from that version)",
            run_dir,
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(
        run_dir / MODEL_FILE, package_model.read_bytes()
    )  # two verbs started at once each write whole files
    atomic_write_json(manifest_path, workspace_manifest(shipped, actual, shipped_manifest_path(size)))
    log.info("shipped model %s copied to %s (the run directory every verb reads)", shipped_name(size), run_dir)
    return run_dir


def shipped_lineage(
    trained_by: dict[str, Any],
    data: dict[str, Any],
    data_root: Path | None,
    data_hash: Callable[[Path], str],
    training_run: str | None = None,
) -> dict[str, Any]:
    """The hashes that pin what a shipped model came from: recipe, held-out list, each training dataset.

    ``data_hash`` hashes one dataset folder; the caller passes the bench's (file names and sizes,
    annotation contents), which lives in a layer above this one. A dataset not found under
    ``data_root`` gets ``None`` rather than a guess. Used by scripts/ship_model.py."""
    recipe = trained_by["recipe"]
    datasets: dict[str, Any] = {}
    for entry in (recipe.get("data") or {}).get("train", []):
        rel = str(entry["path"])
        counts = (data.get("per_dataset") or {}).get(rel, {})
        path = (data_root / rel) if data_root is not None else None
        datasets[rel] = {
            "format": entry.get("format"),
            "train_faces": counts.get("train"),
            "val_faces": counts.get("val"),
            "sha256": data_hash(path) if path is not None and path.exists() else None,
        }
    return {
        "recipe_sha256": sha256_json(recipe),
        "holdout_sha256": sha256_json(data.get("holdout")),
        "holdout_faces": sum(len(v) for v in (data.get("holdout") or {}).values()),
        "train_faces": data.get("train_faces"),
        "val_faces": data.get("val_faces"),
        "datasets": datasets,
        "training_run": training_run,
    }

"""A run's ``manifest.json``, typed: the header every run writes, and a read view of the fields stages read.

Writing: :class:`ManifestHeader` is what every run's manifest starts with (``RunDir.create`` and the
shipped model's workspace copy both write it), in the order the JSON has always had; the fields a
stage adds as it runs (``artifacts``, ``result``, ``parity``, ...) go through ``RunDir.update`` and
``RunDir.finish``. Reading: :class:`Manifest` gives the fields other stages read, with their types,
so a field's meaning (e.g. which training recipe a compression run descends from) is defined once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgekp.config.base import validate
from edgekp.config.train import TrainRecipe
from edgekp.errors import LineageError

if TYPE_CHECKING:
    from edgekp.lineage.run_dir import RunDir

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ParentRef:
    """The run a run was made from: where it was, what kind, and its content hash then."""

    path: str
    kind: str
    hash: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParentRef:
        return cls(str(data["path"]), str(data["kind"]), data.get("hash"))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "hash": self.hash}


@dataclass(frozen=True)
class ManifestHeader:
    """The fields every manifest starts with, in the order they are written (the JSON's key order)."""

    kind: str
    edgekp_version: str | None
    git_commit: str | None
    recipe: dict[str, Any] | None
    recipe_hash: str | None
    parent: ParentRef | None
    host: dict[str, Any] | None
    started: str | None
    finished: str | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "edgekp_version": self.edgekp_version,
            "git_commit": self.git_commit,
            "recipe": self.recipe,
            "recipe_hash": self.recipe_hash,
            "parent": None if self.parent is None else self.parent.to_dict(),
            "host": self.host,
            "started": self.started,
            "finished": self.finished,
            "status": self.status,
        }


def read_manifest(path: str | Path, expect_kinds: tuple[str, ...] | None = None) -> dict[str, Any]:
    """``<path>/manifest.json`` as a mapping with a ``kind``; LineageError (one line) when the folder is
    missing, holds no manifest, a corrupt one, or one of a kind not in ``expect_kinds``."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise LineageError(f"run directory not found: {str(path)!r}")
    if not manifest_path.is_file():
        raise LineageError(f"{str(path)!r} is not an edgekp run directory (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LineageError(f"{str(manifest_path)!r} is corrupt ({exc})") from None
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if not isinstance(kind, str):
        raise LineageError(f"{str(manifest_path)!r} has no 'kind'")
    if expect_kinds is not None and kind not in expect_kinds:
        raise LineageError(f"{str(path)!r} is a {kind!r} run; this stage needs one of: {', '.join(expect_kinds)}")
    return manifest


@dataclass(frozen=True)
class ExportEntry:
    """What an export run was asked for (its recipe's single ``exports`` item)."""

    target: str
    precision: str
    route: str | None


@dataclass(frozen=True)
class Manifest:
    path: Path  # the run directory
    raw: dict[str, Any]

    @classmethod
    def of(cls, run: RunDir) -> Manifest:
        return cls(run.path, run.manifest)

    @classmethod
    def read(cls, run_dir: str | Path, expect_kinds: tuple[str, ...] | None = None) -> Manifest:
        return cls(Path(run_dir), read_manifest(run_dir, expect_kinds))

    @property
    def kind(self) -> str:
        return str(self.raw.get("kind"))

    @property
    def parent(self) -> ParentRef | None:
        parent = self.raw.get("parent")
        return ParentRef.from_dict(parent) if parent else None

    @property
    def status(self) -> str | None:
        status = self.raw.get("status")
        return None if status is None else str(status)

    @property
    def recipe(self) -> dict[str, Any]:
        recipe = self.raw.get("recipe")
        return recipe if isinstance(recipe, dict) else {}

    @property
    def artifacts(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.raw.get("artifacts") or {}).items()}

    @property
    def parity(self) -> dict[str, Any]:
        return dict(self.raw.get("parity") or {})

    @property
    def error(self) -> str | None:
        return self.raw.get("error") or None

    @property
    def failed_dir(self) -> str | None:
        return self.raw.get("failed_dir") or None

    @property
    def holdout(self) -> dict[str, list[str]] | None:
        return (self.raw.get("data") or {}).get("holdout")

    def train_recipe_data(self) -> dict[str, Any] | None:
        """The training recipe at the root of the run's lineage, as recorded: a train run's own recipe,
        or the ``train_recipe`` a compression run carries along."""
        recipe = self.raw.get("train_recipe") or (self.raw.get("recipe") if self.kind == "train" else None)
        return recipe if isinstance(recipe, dict) else None

    def train_recipe(self) -> TrainRecipe | None:
        """That recipe validated (None when the run records none); LineageError when it no longer validates."""
        data = self.train_recipe_data()
        return None if data is None else validate(TrainRecipe, data, f"{self.path}/{MANIFEST}")

    def require_train_recipe(self) -> TrainRecipe:
        recipe = self.train_recipe()
        if recipe is None:
            raise LineageError(f"{str(self.path)!r} does not record the training recipe it descends from")
        return recipe

    def export_request(self) -> ExportEntry:
        """An export run's request; '?' where an old or foreign manifest lacks it."""
        req = (self.recipe.get("exports") or [{}])[0]
        route = req.get("route")
        return ExportEntry(
            str(req.get("target", "?")), str(req.get("precision", "?")), None if route is None else str(route)
        )

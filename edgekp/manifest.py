"""A typed view of a run's ``manifest.json``: the fields other stages read, with their types, in one place.

``RunDir`` writes and updates the raw document (edgekp.artifacts); readers go through
:class:`Manifest` instead of walking the dict, so a field's meaning (e.g. which training recipe a
compression run descends from) is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.artifacts import RunDir
from edgekp.config.base import validate
from edgekp.config.train import TrainRecipe
from edgekp.errors import LineageError


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
        return cls.of(RunDir.open(run_dir, expect_kinds=expect_kinds))

    @property
    def kind(self) -> str:
        return str(self.raw.get("kind"))

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
        return None if data is None else validate(TrainRecipe, data, f"{self.path}/manifest.json")

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

"""Every stage's recipe, resolved and validated before the first stage runs.

A pipeline recipe names each stage's recipe file plus ``set:`` overrides; here each is loaded with
its overrides through the stage's own schema (the same one ``--recipe``/``--set`` use on the command
line), and every export item is checked against its target's routes. So a typo in a prune override
is a one-line ConfigError at start-up, not a crash after training has finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.config.export import ExportItem, ExportRecipe
from edgekp.config.loader import load_recipe
from edgekp.config.pipeline import CompressStage, PipelineRecipe
from edgekp.config.prune import PruneRecipe
from edgekp.config.qat import QatRecipe
from edgekp.config.train import TrainRecipe
from edgekp.errors import ConfigError, EdgeKPError

STAGE_RECIPES: dict[str, type[Any]] = {"prune": PruneRecipe, "qat": QatRecipe}


@dataclass(frozen=True)
class CompressPlan:
    name: str  # "prune" | "qat"
    spec: CompressStage
    recipe: PruneRecipe | QatRecipe


@dataclass(frozen=True)
class PipelinePlan:
    recipe: PipelineRecipe
    out: Path
    root: str | None
    train: TrainRecipe
    compress: tuple[CompressPlan, ...]
    export: ExportRecipe
    exports: dict[str, list[ExportItem]]  # model stage -> its export items

    def compress_plan(self, name: str) -> CompressPlan | None:
        return next((c for c in self.compress if c.name == name), None)


def data_root(recipe: PipelineRecipe, out: Path) -> str | None:
    return recipe.data.root.replace("{out}", str(out)) if recipe.data.root else None


def _stage_recipe(name: str, spec: CompressStage) -> PruneRecipe | QatRecipe:
    try:
        return load_recipe(spec.recipe, spec.set, expect=STAGE_RECIPES[name])
    except EdgeKPError as exc:
        raise ConfigError(f"pipeline stage {name!r}: {exc}") from exc


def _check_item(stage: str, item: ExportItem) -> None:
    """An unknown route is a recipe error (not a skipped export): the target lists its routes."""
    from edgekp.export.base import get_target

    if item.route is not None:
        try:
            get_target(item.target).capabilities.route(item.route)
        except EdgeKPError as exc:
            raise ConfigError(f"pipeline export.{stage}: {item.target}: {exc}") from None


def plan_pipeline(recipe: PipelineRecipe, out: Path) -> PipelinePlan:
    root = data_root(recipe, out)
    train_overrides = [*recipe.train.set, *([f"data.root={root}"] if root else [])]
    try:
        train = load_recipe(recipe.train.recipe, train_overrides, expect=TrainRecipe)
    except EdgeKPError as exc:
        raise ConfigError(f"pipeline stage 'train': {exc}") from exc
    compress = tuple(
        CompressPlan(name, spec, _stage_recipe(name, spec))
        for name in ("prune", "qat")
        if (spec := getattr(recipe, name)) is not None and spec.enabled
    )
    spec = recipe.export
    overrides = [
        *spec.set,
        *([f"data_root={root}"] if root and not any(s.startswith("data_root=") for s in spec.set) else []),
    ]
    try:
        export = load_recipe(spec.recipe, overrides, expect=ExportRecipe)
    except EdgeKPError as exc:
        raise ConfigError(f"pipeline stage 'export': {exc}") from exc
    exports: dict[str, list[ExportItem]] = {}
    for stage in ("train", "prune", "qat"):
        items = getattr(spec, stage)
        exports[stage] = list(export.exports) if items is None else list(items)
        for item in exports[stage]:
            _check_item(stage, item)
    return PipelinePlan(recipe, out, root, train, compress, export, exports)

"""The table of recipe kinds: ``kind:`` in a YAML file -> the strict model that reads it."""

from __future__ import annotations

from pydantic import BaseModel


def recipe_kinds() -> dict[str, type[BaseModel]]:
    from edgekp.config.export import ExportRecipe
    from edgekp.config.pipeline import PipelineRecipe
    from edgekp.config.prune import PruneRecipe
    from edgekp.config.qat import QatRecipe
    from edgekp.config.train import TrainRecipe

    return {
        "train": TrainRecipe,
        "prune": PruneRecipe,
        "export": ExportRecipe,
        "qat": QatRecipe,
        "pipeline": PipelineRecipe,
    }

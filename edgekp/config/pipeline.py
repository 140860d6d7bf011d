"""The pipeline recipe (``kind: pipeline``): data -> train -> prune -> QAT -> export -> bench -> report.

Each stage names the recipe file of the verb that runs it (``train``, ``prune``, ``qat``, ``export``)
plus ``set:`` overrides applied to that recipe exactly like ``--set`` on the command line, so a
pipeline never duplicates a stage's schema. ``data.root`` is handed to every stage that reads data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edgekp.config.base import StrictModel
from edgekp.config.export import ExportItem
from edgekp.config.report import Floors


class StageRef(StrictModel):
    recipe: str = Field(description="recipe file of the stage's verb, e.g. recipes/prune/heads_50.yaml")
    set: list[str] = Field(default_factory=list, description="overrides of that recipe, as for --set key.sub=value")


class DataStage(StrictModel):
    root: str | None = Field(
        None, description="data root handed to the train recipe (data.root) and to export calibration"
    )


class CompressStage(StageRef):
    enabled: bool = True
    parent: Literal["train", "prune"] = Field("train", description="the stage this one starts from")


class ExportStage(StageRef):
    recipe: str = "recipes/export/default.yaml"
    train: list[ExportItem] | None = Field(
        None, description="exports of the trained model (None: the export recipe's list; []: none)"
    )
    prune: list[ExportItem] | None = Field(
        None, description="exports of the pruned model (None: the export recipe's list)"
    )
    qat: list[ExportItem] | None = Field(None, description="exports of the QAT model (None: the export recipe's list)")


class BenchStage(StrictModel):
    data: str | None = Field(
        None, description="faces to score (relative to data.root); None: the training run's validation set"
    )
    format: str = "auto"
    max_faces: int | None = Field(None, ge=1)
    threads: list[int] = Field(default_factory=lambda: [1])
    warmup: int = Field(10, ge=0)
    min_runs: int = Field(100, ge=1)
    min_seconds: float = Field(2.0, ge=0)
    peers: bool = Field(False, description="also measure dlib and MediaPipe (downloads them with pip, opt-in)")
    peers_cache: str | None = None


class ReportStage(StrictModel):
    title: str | None = None
    floors: Floors = Field(default_factory=Floors)
    strict: bool = Field(False, description="fail the pipeline if a row failed or breached a floor")


class PipelineRecipe(StrictModel):
    kind: Literal["pipeline"] = "pipeline"
    version: Literal[1] = 1
    name: str = "pipeline"
    data: DataStage = Field(default_factory=DataStage)
    train: StageRef
    prune: CompressStage | None = None
    qat: CompressStage | None = None
    export: ExportStage = Field(default_factory=ExportStage)
    bench: BenchStage = Field(default_factory=BenchStage)
    report: ReportStage = Field(default_factory=ReportStage)

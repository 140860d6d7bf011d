"""The prune recipe: how heads are scored, how many go, on what schedule, and the fine-tuning after.

Sections left out (data, balance, augment, loss) come from the parent training run's recipe, as in
every compression recipe; ``finetune`` is the fine-tuning schedule after the last removal.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edgekp.config.base import StrictModel
from edgekp.config.compress import CompressRecipeBase
from edgekp.config.train import OptimSpec

Importance = Literal["taylor", "magnitude", "random"]


def _step_finetune_defaults() -> OptimSpec:
    # Brief: between iterative steps the model only needs to recover, not to converge.
    return OptimSpec(lr=3e-4, warmup_epochs=0.0, max_epochs=1, patience=1)


class ScoringSpec(StrictModel):
    """The data heads are scored on: the first ``faces`` of a seeded shuffle of the training split."""

    faces: int = Field(512, ge=1, description="training faces to score on (all of them if fewer)")
    batch_size: int = Field(32, ge=1)
    loss: Literal["coordinate", "two_part"] = Field(
        "coordinate", description="taylor: the coordinate loss on originals, or the two-part loss with augmented copies"
    )
    accumulate: Literal["signed", "absolute"] = Field(
        "signed",
        description="taylor: |sum over batches of gate x dL/dgate| (signed, Michel et al. as the issue "
        "states it) or sum over batches of |gate x dL/dgate| (absolute)",
    )


class TargetSpec(StrictModel):
    """Stop removing heads early, measured on validation faces after each step (ratio is the ceiling)."""

    latency_drop_pct: float | None = Field(
        None, gt=0, lt=100, description="stop once 1-thread torch latency dropped by at least this % vs the parent"
    )
    nme_rise_pct: float | None = Field(
        None,
        gt=0,
        description="stop before validation NME rises by more than this % (relative) vs the parent; "
        "the step that passed it is undone",
    )
    val_faces: int = Field(256, ge=1, description="validation faces used for the NME check")
    latency_repeats: int = Field(30, ge=5, description="timed forward passes per latency measurement (median)")

    @model_validator(mode="after")
    def _one_goal(self) -> TargetSpec:
        if self.latency_drop_pct is None and self.nme_rise_pct is None:
            raise ValueError("a target needs latency_drop_pct or nme_rise_pct (or leave target out)")
        return self


class StructureSpec(StrictModel):
    """Structures removed after the heads (edgekp.compress.channels): whole transformer modules, then MLP
    hidden channels. Heads are a small share of the CPU time; the MLPs and whole modules are not."""

    blocks: dict[str, int] = Field(
        default_factory=dict, description="per stage (ref2, ref3, level2), how many of its last transformer modules go"
    )
    mlp_ratio: float = Field(0.0, ge=0, lt=1, description="fraction of every MLP's hidden channels removed (magnitude)")
    fold_input_norm: bool = Field(
        False,
        description="re-parametrize: fold the input normalization into the first convolution (no SUB/MUL "
        "over the full image; the border then pads the raw image, which the fine-tune absorbs)",
    )

    @property
    def any(self) -> bool:
        return bool(self.mlp_ratio) or any(self.blocks.values()) or self.fold_input_norm


class PruneRecipe(CompressRecipeBase):
    kind: Literal["prune"] = "prune"
    importance: Importance = Field(
        "taylor", description="head importance: taylor (Michel et al. 2019), magnitude, random"
    )
    ratio: float = Field(0.5, ge=0, lt=1, description="fraction of attention heads to remove, in [0, 1)")
    scope: Literal["global", "per_block"] = Field(
        "global",
        description="global: lowest scores anywhere (scores normalized per layer); per_block: ratio of each block",
    )
    schedule: Literal["one_shot", "iterative"] = Field(
        "one_shot",
        description="one_shot: score once, remove all; iterative: remove a share, fine-tune briefly, rescore, repeat",
    )
    steps: int = Field(3, ge=1, description="iterative rounds; with a target, the number of measured steps")
    step_finetune: OptimSpec = Field(
        default_factory=_step_finetune_defaults,
        description="iterative: the brief fine-tuning after each step but the last",
    )
    min_heads_per_block: int = Field(1, ge=1, description="heads every attention block keeps")
    scoring: ScoringSpec = Field(default_factory=ScoringSpec)
    target: TargetSpec | None = Field(None, description="optional early stop on latency drop or NME rise")
    structures: StructureSpec = Field(
        default_factory=StructureSpec, description="modules and MLP channels removed after the heads (none by default)"
    )

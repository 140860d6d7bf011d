"""Sections shared by the compression recipes (prune, qat): fine-tuning data and schedule.

A compression run fine-tunes with the trainer's own loop and two-part loss; any section left
out is taken from the parent training run's recipe, so a recipe only says what differs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edgekp.config.base import StrictModel
from edgekp.config.data import AugmentSpec, BalanceSpec, DataSpec
from edgekp.config.train import LossSpec, OptimSpec


def _finetune_defaults() -> OptimSpec:
    return OptimSpec(lr=3e-4, warmup_epochs=0.2, max_epochs=6, patience=3)


class CompressRecipeBase(StrictModel):
    version: Literal[1] = 1
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(None, ge=1)
    data: DataSpec | None = Field(None, description="fine-tuning data; default: the parent training run's")
    balance: BalanceSpec | None = Field(None, description="default: the parent training run's")
    augment: AugmentSpec | None = Field(None, description="default: the parent training run's")
    loss: LossSpec | None = Field(None, description="default: the parent training run's")
    finetune: OptimSpec = Field(default_factory=_finetune_defaults, description="fine-tuning schedule")

"""The train recipe: model, data, balance, augmentation, loss and optimisation."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from edgekp.config.base import StrictModel
from edgekp.config.data import AugmentSpec, BalanceSpec, DataSpec


class ModelSpec(StrictModel):
    name: str = Field("kp_hvit_s", description="registered model variant (edgekp.models.list_models())")
    input_size: int = Field(128, ge=32, le=512)
    num_points: int = Field(68, ge=1)
    overrides: dict[str, Any] = Field(default_factory=dict, description="keyword overrides of the variant's config")
    init_from: str | None = Field(
        None,
        description="warm start: a run directory or model file whose weights initialize the network "
        "(same architecture); the optimizer, schedule and EMA start fresh",
    )


class LossSpec(StrictModel):
    type: Literal["l1", "smooth_l1", "wing"] = "wing"
    second_weight: float = Field(1.0, ge=0, description="weight of the loss on the expanded (augmented) copies")
    occluded_weight: float = Field(
        1.0,
        ge=0,
        description="weight of externally occluded points (visibility 1, location estimated by the annotators); "
        "points without a location (visibility 0) never count",
    )
    wing_w: float = Field(10.0, gt=0, description="Wing loss width, in pixels of the model input")
    jaw_weight: float = Field(
        1.0,
        gt=0,
        description="weight of the jaw contour's points (the scheme's jaw line) against the others' 1",
    )
    wing_epsilon: float = Field(2.0, gt=0, description="Wing loss curvature, in pixels of the model input")


class OptimSpec(StrictModel):
    batch_size: int = Field(64, ge=1)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(0.05, ge=0)
    schedule: Literal["cosine", "plateau"] = "cosine"
    warmup_epochs: float = Field(1.0, ge=0)
    max_epochs: int = Field(60, ge=1)
    patience: int = Field(8, ge=1, description="stop after this many epochs without a better validation NME")
    grad_clip: float | None = Field(5.0, gt=0)
    ema_decay: float | None = Field(None, gt=0, lt=1, description="keep an exponential moving average of weights")
    time_budget_min: float | None = Field(
        None, gt=0, description="stop (keeping the best checkpoint) after this many minutes"
    )


class TrainRecipe(StrictModel):
    kind: Literal["train"] = "train"
    version: Literal[1] = 1
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(None, ge=1, description="torch CPU threads (default: all cores)")
    workers: int = Field(0, ge=0, description="data loader worker processes")
    model: ModelSpec = Field(default_factory=ModelSpec)
    data: DataSpec = Field(default_factory=DataSpec)
    balance: BalanceSpec = Field(default_factory=BalanceSpec)
    augment: AugmentSpec = Field(default_factory=AugmentSpec)
    loss: LossSpec = Field(default_factory=LossSpec)
    optim: OptimSpec = Field(default_factory=OptimSpec)

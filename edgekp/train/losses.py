"""Coordinate losses and the patent's two-part loss (originals + expanded copies)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from edgekp.config.train import LossSpec


def wing_loss(pred: Tensor, target: Tensor, w: float, epsilon: float) -> Tensor:
    """Wing loss (Feng et al. 2018) on pixel-scaled coordinates, mean over points and batch."""
    diff = (pred - target).abs()
    c = w - w * math.log1p(w / epsilon)
    loss = torch.where(diff < w, w * torch.log1p(diff / epsilon), diff - c)
    return loss.mean()


def coordinate_loss(pred: Tensor, target: Tensor, spec: LossSpec, input_size: int) -> Tensor:
    """pred/target are N x K x 2 normalized to [0, 1]; losses act on input-pixel units so Wing's
    width keeps its usual meaning whatever the input size."""
    scale = float(input_size)
    if spec.type == "wing":
        return wing_loss(pred * scale, target * scale, spec.wing_w, spec.wing_epsilon)
    if spec.type == "smooth_l1":
        return torch.nn.functional.smooth_l1_loss(pred * scale, target * scale)
    return torch.nn.functional.l1_loss(pred * scale, target * scale)


@dataclass(frozen=True)
class LossParts:
    total: Tensor
    first: Tensor
    second: Tensor


def two_part_loss(
    pred_original: Tensor, target_original: Tensor, pred_expanded: Tensor, target_expanded: Tensor,
    spec: LossSpec, input_size: int,
) -> LossParts:
    """First loss on the originals + ``second_weight`` x second loss on the expanded copies
    against their transformed labels."""
    first = coordinate_loss(pred_original, target_original, spec, input_size)
    second = coordinate_loss(pred_expanded, target_expanded, spec, input_size)
    return LossParts(first + spec.second_weight * second, first, second)

"""Coordinate losses and the patent's two-part loss (originals + expanded copies), with visibility.

Every loss is a weighted mean over points: a point's weight is 0 when it has no location
(visibility 0, or a NaN target), ``LossSpec.occluded_weight`` when it is externally occluded
(visibility 1) and 1 when visible. The mean divides by the sum of the weights, so an unlabelled
point changes neither the numerator nor the denominator: its gradient is exactly zero and the other
points' gradients are what they would be had the point never existed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from edgekp.config.train import LossSpec
from edgekp.data.schemes import Scheme
from edgekp.errors import ConfigError

OCCLUDED = 1


def point_weights(target: Tensor, visibility: Tensor | None = None, occluded_weight: float = 1.0) -> Tensor:
    """N x K loss weights from the targets (NaN: no location) and optional N x K visibility (0/1/2)."""
    weights = torch.isfinite(target).all(dim=-1).to(target.dtype)
    if visibility is not None:
        vis = visibility.to(target.device)
        weights = weights * (vis > 0).to(target.dtype)
        weights = torch.where(vis == OCCLUDED, weights * occluded_weight, weights)
    return weights


def jaw_scale(scheme: Scheme, jaw_weight: float) -> Tensor | None:
    """K per-point factors: ``jaw_weight`` on the scheme's jaw contour, 1 elsewhere (None when all are 1)."""
    if jaw_weight == 1.0:
        return None
    if not scheme.jaw:
        raise ConfigError(f"loss.jaw_weight needs a jaw contour, and scheme {scheme.name!r} defines none")
    scale = torch.ones(scheme.num_points)
    scale[list(scheme.jaw)] = jaw_weight
    return scale


def _elementwise(pred: Tensor, target: Tensor, spec: LossSpec) -> Tensor:
    """N x K x 2 per-coordinate loss, in the units given."""
    diff = (pred - target).abs()
    if spec.type == "wing":
        w, eps = spec.wing_w, spec.wing_epsilon
        c = w - w * math.log1p(w / eps)
        return torch.where(diff < w, w * torch.log1p(diff / eps), diff - c)
    if spec.type == "smooth_l1":
        return torch.nn.functional.smooth_l1_loss(pred, target, reduction="none")
    return diff


def wing_loss(pred: Tensor, target: Tensor, w: float, epsilon: float) -> Tensor:
    """Wing loss (Feng et al. 2018) on pixel-scaled coordinates, mean over points and batch."""
    return _elementwise(pred, target, LossSpec(type="wing", wing_w=w, wing_epsilon=epsilon)).mean()


def coordinate_loss(
    pred: Tensor,
    target: Tensor,
    spec: LossSpec,
    input_size: int,
    visibility: Tensor | None = None,
    point_scale: Tensor | None = None,
) -> Tensor:
    """pred/target are N x K x 2 normalized to [0, 1]; losses act on input-pixel units so Wing's
    width keeps its usual meaning whatever the input size. Weighted by ``point_weights``, times the
    optional K per-point factors ``point_scale`` (``jaw_scale``)."""
    weights = point_weights(target, visibility, spec.occluded_weight)
    if point_scale is not None:
        weights = weights * point_scale.to(weights.device, weights.dtype)
    has_weight = weights > 0
    # A point without a location gets the prediction itself as its target (detached): no NaN or
    # placeholder enters the arithmetic, and with weight 0 its gradient is exactly zero.
    safe = torch.where(has_weight[..., None], target, pred.detach())
    scale = float(input_size)
    per_point = _elementwise(pred * scale, safe * scale, spec).sum(dim=-1)  # N x K
    total = weights.sum()
    return (per_point * weights).sum() / (2.0 * total).clamp_min(1e-12)


@dataclass(frozen=True)
class LossParts:
    total: Tensor
    first: Tensor
    second: Tensor


def two_part_loss(
    pred_original: Tensor,
    target_original: Tensor,
    pred_expanded: Tensor,
    target_expanded: Tensor,
    spec: LossSpec,
    input_size: int,
    visibility_original: Tensor | None = None,
    visibility_expanded: Tensor | None = None,
    point_scale: Tensor | None = None,
) -> LossParts:
    """First loss on the originals + ``second_weight`` x second loss on the expanded copies
    against their transformed labels (each with its own visibility: a flip swaps it)."""
    first = coordinate_loss(pred_original, target_original, spec, input_size, visibility_original, point_scale)
    second = coordinate_loss(pred_expanded, target_expanded, spec, input_size, visibility_expanded, point_scale)
    return LossParts(first + spec.second_weight * second, first, second)

"""Head importance: Taylor (gate x gradient), activation magnitude, or random; one score per head.

Scores are returned per attention module (in ``model.attention_modules()`` order) and normalized per
layer to unit L2 norm, as Michel et al. (2019) do, so a global ranking compares heads across layers
whose raw gradient scales differ by orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from edgekp.config.data import AugmentSpec
from edgekp.config.prune import Importance, ScoringSpec
from edgekp.config.train import LossSpec
from edgekp.data.schemes import Scheme
from edgekp.models.attention import LinearAttention, gate_gradients
from edgekp.train.data import FaceArrays
from edgekp.train.evaluate import to_tensor_images
from edgekp.train.losses import coordinate_loss, two_part_loss

LayerScores = dict[str, np.ndarray]


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs besides the model: the faces, the loss, and how to augment for the two-part loss."""

    faces: FaceArrays
    scheme: Scheme
    loss: LossSpec
    augment: AugmentSpec
    input_size: int
    seed: int = 0


def scoring_batches(ctx: ScoringContext, spec: ScoringSpec) -> list[np.ndarray]:
    """Index batches over the first ``spec.faces`` faces of a seeded shuffle (same faces every call)."""
    order = np.random.default_rng(ctx.seed).permutation(len(ctx.faces))[: spec.faces]
    return [order[i : i + spec.batch_size] for i in range(0, len(order), spec.batch_size)]


def normalize_per_layer(scores: LayerScores) -> LayerScores:
    """Each layer's scores divided by their L2 norm (an all-zero layer stays zero)."""
    out = {}
    for name, s in scores.items():
        norm = float(np.linalg.norm(s))
        out[name] = (s / norm if norm > 0 else s).astype(np.float64)
    return out


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _loss(
    model: nn.Module, ctx: ScoringContext, spec: ScoringSpec, index: np.ndarray, gen: torch.Generator
) -> torch.Tensor:
    device = _device(model)
    images = to_tensor_images(ctx.faces.images[index])
    points = torch.from_numpy(ctx.faces.points[index])
    if spec.loss == "coordinate":
        return coordinate_loss(model(images.to(device)), points.to(device), ctx.loss, ctx.input_size)
    from edgekp.data.augment import BatchAugmenter

    expanded = BatchAugmenter(ctx.augment, ctx.scheme)(images, points, gen)
    n = len(images)
    pred = model(torch.cat([images, expanded.images]).to(device))
    return two_part_loss(
        pred[:n], points.to(device), pred[n:], expanded.points.to(device), ctx.loss, ctx.input_size
    ).total


def taylor_scores(model: nn.Module, ctx: ScoringContext, spec: ScoringSpec) -> LayerScores:
    """|sum over data of gate x dLoss/dgate| per head (Michel et al. 2019), before normalization.

    The model stays in eval mode: gradients flow the same, and batch-norm statistics are not touched.
    Weight gradients are not needed, so they are switched off for speed and to leave no .grad behind.
    """
    was_training = model.training
    model.eval()
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in frozen:
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(ctx.seed)
    try:
        with gate_gradients(model) as gates:
            acc = {name: torch.zeros_like(g, dtype=torch.float64) for name, g in gates}
            for index in scoring_batches(ctx, spec):
                for _, g in gates:
                    g.grad = None
                _loss(model, ctx, spec, index, gen).backward()
                for name, g in gates:
                    contrib = (g.detach() * g.grad).double() * len(index)  # undo the batch mean: a sum over faces
                    acc[name] += contrib.abs() if spec.accumulate == "absolute" else contrib
            for _, g in gates:
                g.grad = None
    finally:
        for p, was in frozen:
            p.requires_grad_(was)
        model.train(was_training)
    return {name: a.abs().cpu().numpy() for name, a in acc.items()}


@torch.no_grad()
def magnitude_scores(model: nn.Module, ctx: ScoringContext, spec: ScoringSpec) -> LayerScores:
    """Mean L2 norm, per token, of each head's contribution to the block output (its proj columns applied).

    Measuring after the output projection, not before, counts a head whose output the projection
    shrinks as small: that is the quantity its removal takes away.
    """
    was_training = model.training
    model.eval()
    modules = [(n, m) for n, m in model.named_modules() if isinstance(m, LinearAttention)]
    acc = {name: np.zeros(m.num_heads) for name, m in modules}
    count = {"tokens": 0}
    handles = []

    def hook_for(name: str, attn: LinearAttention):
        def hook(_: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            x = args[0]  # N, L, H*D: the gated head outputs entering proj
            n, length, _ = x.shape
            heads = x.reshape(n, length, attn.num_heads, attn.head_dim)
            w = attn.proj.weight.reshape(attn.proj.out_features, attn.num_heads, attn.head_dim)
            contrib = torch.einsum("nlhd,ohd->nlho", heads, w)  # scoring only, never exported
            acc[name] += contrib.norm(dim=-1).sum(dim=(0, 1)).double().cpu().numpy() / length

        return hook

    for name, attn in modules:
        handles.append(attn.proj.register_forward_pre_hook(hook_for(name, attn)))
    try:
        device = _device(model)
        for index in scoring_batches(ctx, spec):
            model(to_tensor_images(ctx.faces.images[index]).to(device))
            count["tokens"] += len(index)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {name: a / max(count["tokens"], 1) for name, a in acc.items()}


def random_scores(model: nn.Module, seed: int) -> LayerScores:
    """Uniform random scores from a seeded generator: the baseline importance must beat."""
    rng = np.random.default_rng(seed)
    return {name: rng.random(m.num_heads) for name, m in model.named_modules() if isinstance(m, LinearAttention)}


def score_heads(model: nn.Module, method: Importance, ctx: ScoringContext, spec: ScoringSpec) -> LayerScores:
    """Per-layer normalized importance of every head of ``model`` (higher = more important)."""
    if method == "taylor":
        raw = taylor_scores(model, ctx, spec)
    elif method == "magnitude":
        raw = magnitude_scores(model, ctx, spec)
    else:
        raw = random_scores(model, ctx.seed)
    return normalize_per_layer(raw)

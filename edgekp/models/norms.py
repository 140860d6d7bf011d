"""Token normalizers of the transformer modules: LayerNorm (the shipped one) or a foldable BatchNorm.

LayerNorm normalizes each token by its own mean and variance: a reduction, a square root and a
division per token at inference, which int8 runtimes run in float (or as many small int8 ops).
BatchNorm over the channels of the tokens uses statistics fixed in training, so at inference it is
one per-channel scale and shift: nothing per token, and foldable into the Linear that follows.
"""

from __future__ import annotations

import torch
from torch import nn

TOKEN_NORMS = ("layer", "batch", "none")


class TokenBatchNorm(nn.BatchNorm1d):
    """BatchNorm1d over C of N x L x C tokens (statistics over batch and tokens while training).

    In eval mode it is written as ``x * scale + shift`` on the last axis, so exporters see two
    broadcast elementwise ops (no transposes), which graph optimizers fold into the next MatMul.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training or not self.track_running_stats:
            return super().forward(x.transpose(1, 2)).transpose(1, 2)
        scale = self.weight * torch.rsqrt(self.running_var + self.eps)
        return x * scale + (self.bias - self.running_mean * scale)

    def scale_shift(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(scale, shift) of the eval-mode map, for folding into a following Linear."""
        scale = self.weight * torch.rsqrt(self.running_var + self.eps)
        return scale, self.bias - self.running_mean * scale


def make_token_norm(kind: str, dim: int) -> nn.Module:
    if kind == "layer":
        return nn.LayerNorm(dim)
    if kind == "batch":
        return TokenBatchNorm(dim)
    return nn.Identity()  # "none": an ablation (no normalization before attention and MLP)


def fold_token_norms(model: nn.Module) -> int:
    """Fold every TokenBatchNorm into the Linear that reads its output (attention qkv, MLP fc1), in place.

    norm(x) = x * s + t, so Linear(norm(x)) = x @ (W * s)^T + (b + W t): the norm becomes Identity and
    the inference graph has no per-token normalization op at all. Returns how many norms were folded.
    For exports only: the folded model has no norm parameters to train.
    """
    from edgekp.models.blocks import TransformerModule

    folded = 0
    for module in model.modules():
        if not isinstance(module, TransformerModule):
            continue
        for norm_name, linear in (("norm1", module.attn.qkv), ("norm2", module.mlp.fc1)):
            norm = getattr(module, norm_name)
            if not isinstance(norm, TokenBatchNorm):
                continue
            with torch.no_grad():
                scale, shift = norm.scale_shift()
                bias = linear.bias if linear.bias is not None else torch.zeros(linear.out_features)
                new_bias = bias + linear.weight @ shift
                linear.weight.mul_(scale.reshape(1, -1))
                linear.bias = nn.Parameter(new_bias)
            setattr(module, norm_name, nn.Identity())
            folded += 1
    return folded


class InputNormalization(nn.Module):
    """(x - mean) / std over the image channels: the graph's first op (config ``input_norm: graph``).

    A module of its own so that an int8 export can keep it in float by name (``normalize``) with the
    first convolution, where the image's 3 channels make int8 kernels slow."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        # Not persistent: they come from the config, so the state dict holds only learned weights.
        self.register_buffer("mean", torch.tensor(mean).reshape(1, -1, 1, 1), persistent=False)
        self.register_buffer("inv_std", 1.0 / torch.tensor(std).reshape(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) * self.inv_std

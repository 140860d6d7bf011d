"""Part 4, the feature fusion network: semantic enhancement, then the connection module.

All resampling uses static integer factors (avg-pool with kernel = stride, nearest upsampling with an
integer scale factor), which every converter maps to a plain op.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edgekp.models.blocks import ConvNormAct, make_act


class Resample(nn.Module):
    """Bring a map from ``grid`` to ``target`` (integer ratio either way)."""

    def __init__(self, grid: int, target: int) -> None:
        super().__init__()
        self.grid, self.target = grid, target

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.grid > self.target:
            k = self.grid // self.target
            return F.avg_pool2d(x, kernel_size=k, stride=k)
        if self.grid < self.target:
            return F.interpolate(x, scale_factor=float(self.target // self.grid), mode="nearest")
        return x

    def extra_repr(self) -> str:
        return f"{self.grid} -> {self.target}"


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation: re-weight channels from their global average."""

    def __init__(self, channels: int, ratio: float) -> None:
        super().__init__()
        hidden = max(4, round(channels * ratio))
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.act = nn.ReLU()
        self.expand = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.mean(dim=(2, 3), keepdim=True)
        return x * torch.sigmoid(self.expand(self.act(self.reduce(w))))


class FeatureSemanticEnhancement(nn.Module):
    """Bring every level's feature to the common grid and enrich it.

    Each feature is projected to ``dim`` channels (1x1 conv, at its own resolution: cheaper for the
    large shallow map) and resampled to the common grid. Deeper semantics are then injected into the
    shallower maps top-down (each map plus the enhanced map of the level below it), a depth-wise 3x3
    conv smooths the sum, and channel attention re-weights it.
    """

    def __init__(
        self, in_channels: list[int], grids: list[int], target: int, dim: int, act: str, se_ratio: float
    ) -> None:
        super().__init__()
        self.project = nn.ModuleList(ConvNormAct(c, dim, 1, 1, act) for c in in_channels)
        self.resample = nn.ModuleList(Resample(g, target) for g in grids)
        self.smooth = nn.ModuleList(ConvNormAct(dim, dim, 3, 1, act, groups=dim) for _ in in_channels)
        self.attention = nn.ModuleList(ChannelAttention(dim, se_ratio) for _ in in_channels)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        maps = [rs(pr(f)) for f, pr, rs in zip(features, self.project, self.resample, strict=True)]
        enhanced: list[torch.Tensor] = [maps[0]] * len(maps)
        deeper: torch.Tensor | None = None
        for i in reversed(range(len(maps))):  # deepest first, so shallower maps receive its semantics
            x = maps[i] if deeper is None else maps[i] + deeper
            deeper = self.attention[i](self.smooth[i](x))
            enhanced[i] = deeper
        return enhanced


class ConnectionModule(nn.Module):
    """Concatenate the enhanced features along channels into one fused feature."""

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(features, dim=1)


class FeatureFusion(nn.Module):
    def __init__(
        self, in_channels: list[int], grids: list[int], target: int, dim: int, act: str, se_ratio: float
    ) -> None:
        super().__init__()
        self.enhance = FeatureSemanticEnhancement(in_channels, grids, target, dim, act, se_ratio)
        self.connect = ConnectionModule()
        self.out_channels = dim * len(in_channels)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        return self.connect(self.enhance(features))


class FullyConnectedHead(nn.Module):
    """Part 5: reduce channels, pool to a small fixed map, flatten, two FC layers -> K x 2 in [0, 1].

    Pooling to pool x pool (not to 1x1) keeps where features are, which coordinate regression needs.
    ``decode='linear'`` adds 0.5 so an untrained model predicts the crop centre and gradients never
    saturate; ``'sigmoid'`` bounds the output to [0, 1].
    """

    def __init__(
        self, cin: int, grid: int, channels: int, pool: int, hidden: int, num_points: int, act: str, decode: str
    ) -> None:
        super().__init__()
        self.num_points = num_points
        self.decode = decode
        self.pool_kernel = grid // pool
        self.reduce = ConvNormAct(cin, channels, 1, 1, act)
        self.fc1 = nn.Linear(channels * pool * pool, hidden)
        self.act = make_act(act)
        self.fc2 = nn.Linear(hidden, num_points * 2)
        nn.init.normal_(self.fc2.weight, std=1e-3)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduce(x)
        if self.pool_kernel > 1:
            x = F.avg_pool2d(x, kernel_size=self.pool_kernel, stride=self.pool_kernel)
        x = self.fc2(self.act(self.fc1(x.flatten(1))))
        x = torch.sigmoid(x) if self.decode == "sigmoid" else x + 0.5
        return x.reshape(-1, self.num_points, 2)

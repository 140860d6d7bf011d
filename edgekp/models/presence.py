"""The face-presence head: one logit per crop, "a face fills this crop as in training".

It reads the fused features (``KeypointHVit.forward_features``), the same map the landmark head
reads, so it adds one small branch and no second backbone pass. Pooling to 2 x 2 (not 1 x 1) keeps
coarse position: a face off the crop's centre, or one far too small or too large, is what a tracker
must notice when its crop drifts, and a global average would blur those away.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

GRID = 4  # the fused map is averaged to GRID x GRID first (training caches this, edgekp.train.presence)
POOL = 2


class PresenceHead(nn.Module):
    def __init__(self, cin: int, grid: int, hidden: int) -> None:
        super().__init__()
        # Fixed integer pooling kernels (not adaptive pooling): every exporter maps them to one AveragePool.
        self.first_kernel = max(1, grid // GRID)
        self.second_kernel = max(1, min(grid, GRID) // POOL)
        side = min(grid, GRID) // self.second_kernel
        self.reduce = nn.Conv2d(cin, hidden, 1)
        self.fc1 = nn.Linear(hidden * side * side, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        """The frozen part: the fused map averaged to GRID x GRID (no weights)."""
        k = self.first_kernel
        return F.avg_pool2d(features, k, k) if k > 1 else features

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.reduce(pooled))
        k = self.second_kernel
        x = F.avg_pool2d(x, k, k) if k > 1 else x
        return self.fc2(F.relu(self.fc1(x.flatten(1))))  # N x 1 logit

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.classify(self.pool(features))

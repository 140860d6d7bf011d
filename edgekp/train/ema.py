"""Exponential moving average of a model's weights (evaluated and shipped instead of the raw weights)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightEma:
    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        # Warm-up of the decay so early averages are not dominated by the random init.
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for ema_v, v in zip(self.model.state_dict().values(), model.state_dict().values(), strict=True):
            if ema_v.dtype.is_floating_point:
                ema_v.mul_(decay).add_(v.detach(), alpha=1 - decay)
            else:
                ema_v.copy_(v)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])

"""Learning-rate schedules: linear warm-up then cosine decay per step, or reduce-on-plateau."""

from __future__ import annotations

import math
from typing import Any

import torch

from edgekp.config.train import OptimSpec


class LrSchedule:
    """One object for both schedules so the loop calls ``step_batch`` and ``step_epoch`` alike."""

    def __init__(self, optimizer: torch.optim.Optimizer, spec: OptimSpec, steps_per_epoch: int) -> None:
        self.optimizer = optimizer
        self.spec = spec
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.step = 0
        self.plateau_scale = 1.0
        self.best = math.inf
        self.bad = 0

    def _factor(self) -> float:
        warmup = self.spec.warmup_epochs * self.steps_per_epoch
        if warmup > 0 and self.step < warmup:
            return (self.step + 1) / warmup
        if self.spec.schedule == "plateau":
            return self.plateau_scale
        total = max(1.0, self.spec.max_epochs * self.steps_per_epoch - warmup)
        progress = min(1.0, (self.step - warmup) / total)
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress))

    def apply(self) -> float:
        lr = self.spec.lr * self._factor()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def step_batch(self) -> None:
        self.step += 1

    def step_epoch(self, val_nme: float) -> None:
        """Plateau: halve the rate after ``patience // 2`` epochs without improvement."""
        if val_nme < self.best - 1e-6:
            self.best, self.bad = val_nme, 0
            return
        self.bad += 1
        if self.spec.schedule == "plateau" and self.bad >= max(1, self.spec.patience // 2):
            self.plateau_scale *= 0.5
            self.bad = 0

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "plateau_scale": self.plateau_scale, "best": self.best, "bad": self.bad}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.plateau_scale = float(state["plateau_scale"])
        self.best = float(state["best"])
        self.bad = int(state["bad"])

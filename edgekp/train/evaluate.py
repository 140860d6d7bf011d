"""Predict preloaded crops with a torch model and score them (shared by training and eval)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from edgekp.data.schemes import Scheme


def to_tensor_images(images: np.ndarray) -> torch.Tensor:
    """N x S x S x 3 uint8 -> N x 3 x S x S float32 in [0, 1] (the model's input contract)."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


@torch.no_grad()
def predict_arrays(
    model: nn.Module, images: np.ndarray, batch_size: int = 128, device: torch.device | None = None
) -> np.ndarray:
    device = device or torch.device("cpu")
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        batch = to_tensor_images(images[start : start + batch_size]).to(device)
        out.append(model(batch).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0,), dtype=np.float32)


def score(
    pred: np.ndarray,
    gt: np.ndarray,
    scheme: Scheme,
    is_large: np.ndarray | None = None,
    *,
    norm: str = "inter_ocular",
    yaw: np.ndarray | None = None,
    visibility: np.ndarray | None = None,
) -> dict[str, Any]:
    """NME over labelled points (normalization ``norm``), FR@0.10, AUC@0.10, split by pose when
    ``is_large`` is given and by |yaw| bin when ``yaw`` is."""
    from edgekp.metrics import summarize

    return summarize(pred, gt, scheme, norm=norm, is_large=is_large, yaw=yaw, visibility=visibility)  # type: ignore[arg-type]

"""The module a converter sees: the model with the app's input form and every output it has.

An app hands the model what a camera gives: NHWC pixels, uint8 for a fully integer TFLite model. The
transpose, the uint8 -> float cast and the 1/255 scale live here, in the graph, so no app repeats
them. A model with a face-presence head (``has_presence``, ``forward_with_presence``) returns both
outputs. Module names of the model keep their meaning under the prefix ``MODEL_PREFIX``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from edgekp.export.contract import has_presence

MODEL_PREFIX = "model"  # the wrapped model's attribute name: its modules are "model.<name>" here


def outputs(model: Any, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The model's outputs for NCHW float input: landmarks, or (landmarks, presence logit)."""
    if has_presence(model):
        return model.forward_with_presence(x)
    return model(x)


class DeployModel(nn.Module):
    """``layout`` NHWC or NCHW, ``dtype`` uint8 (0-255) or float32 ([0, 1]) in; the model's outputs out."""

    def __init__(self, model: nn.Module, layout: str = "NHWC", dtype: str = "float32") -> None:
        super().__init__()
        self.model = model
        self.layout, self.dtype = layout, dtype

    def forward(self, x: torch.Tensor) -> Any:
        if self.layout == "NHWC":
            x = x.permute(0, 3, 1, 2)
        if self.dtype == "uint8":
            x = x.to(torch.float32) * (1.0 / 255.0)
        return outputs(self.model, x)


def example_input(size: int, layout: str, dtype: str) -> torch.Tensor:
    shape = (1, size, size, 3) if layout == "NHWC" else (1, 3, size, size)
    if dtype == "uint8":
        return torch.randint(0, 256, shape, dtype=torch.uint8)
    return torch.rand(shape)


def to_input(images: Any, layout: str, dtype: str) -> torch.Tensor:
    """N x 3 x S x S float32 [0, 1] (what every Runner takes) -> the deploy module's input."""
    x = torch.from_numpy(images) if not isinstance(images, torch.Tensor) else images
    if layout == "NHWC":
        x = x.permute(0, 2, 3, 1)
    if dtype == "uint8":
        x = torch.round(x * 255.0).clamp(0, 255).to(torch.uint8)
    return x.contiguous()


def scoped(names: tuple[str, ...]) -> tuple[str, ...]:
    """Module names of the model as they are inside a DeployModel."""
    return tuple(f"{MODEL_PREFIX}.{n}" for n in names)

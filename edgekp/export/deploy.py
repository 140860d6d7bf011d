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


def normalization_as_conv(model: nn.Module, scale: float) -> nn.Module | None:
    """A copy of ``model`` whose input normalization ((x * scale - mean) / std) is a 1x1 convolution.

    On an NHWC input the converter leaves (x - mean) / std as two elementwise ops broadcasting over a
    last dimension of 3, which XNNPACK runs slowly (kp_hvit_s: the NHWC fp32 file 1.13-1.17x the NCHW
    one's latency with one TRANSPOSE fewer); a 1x1 CONV_2D is one vectorized kernel, and it takes the
    1/255 of a uint8 input too. None when the model has no such module (``input_norm: folded``)."""
    import copy

    from edgekp.models.norms import InputNormalization

    if not isinstance(getattr(model, "normalize", None), InputNormalization):
        return None
    model = copy.deepcopy(model)
    norm = model.normalize
    inv_std = norm.inv_std.reshape(-1).float()
    conv = nn.Conv2d(3, 3, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.diag(inv_std * scale).reshape(3, 3, 1, 1))
        conv.bias.copy_(-norm.mean.reshape(-1).float() * inv_std)
    model.normalize = conv  # same name: an int8 export keeps it float by name, as before
    return model


class DeployModel(nn.Module):
    """``layout`` NHWC or NCHW, ``dtype`` uint8 (0-255) or float32 ([0, 1]) in; the model's outputs out."""

    def __init__(self, model: nn.Module, layout: str = "NHWC", dtype: str = "float32") -> None:
        super().__init__()
        self.scale = 1.0 / 255.0 if dtype == "uint8" else 1.0
        conv = normalization_as_conv(model, self.scale) if layout == "NHWC" else None
        self.folded = conv is not None  # the scale is inside the normalization's convolution
        self.model = conv if conv is not None else model
        self.layout, self.dtype = layout, dtype

    def forward(self, x: torch.Tensor) -> Any:
        # Cast first, then transpose: a transpose of the uint8 input stays outside XNNPACK (measured on
        # kp_hvit_s int8: TRANSPOSE on UINT8 not delegated); a float one is delegated or cancels out.
        if self.dtype == "uint8":
            x = x.to(torch.float32)
            if not self.folded:
                x = x * self.scale
        if self.layout == "NHWC":
            x = x.permute(0, 3, 1, 2)
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

"""Re-parametrizations of a trained model that remove ops from its inference graph.

``fold_input_normalization``: (x - mean) / std enters the first convolution's weights (scaled per
input channel) and its BatchNorm's running mean (the constant it leaves). Exact away from the
image border; on the border the convolution now pads the raw image with zeros rather than the
normalized one (black instead of the mean colour), which a short fine-tune absorbs.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from edgekp.models.hvit import KeypointHVit


def fold_input_normalization(model: KeypointHVit) -> KeypointHVit:
    """A copy of ``model`` with ``input_norm: folded`` (itself when it is folded already)."""
    if model.config.input_norm == "folded":
        return model
    folded = copy.deepcopy(model)
    first = folded.stem[0]
    conv, bn = first[0], first[1]
    if not isinstance(conv, nn.Conv2d) or not isinstance(bn, nn.BatchNorm2d) or conv.bias is not None:
        raise TypeError("fold_input_normalization expects the stem to start with a bias-free Conv2d and a BatchNorm2d")
    with torch.no_grad():
        inv_std, mean = folded.normalize.inv_std, folded.normalize.mean
        conv.weight.mul_(inv_std)  # W' = W / std along input channels
        shift = (conv.weight * mean).sum(dim=(1, 2, 3))  # conv_W((x - m) / s) = conv_W'(x) - shift, inside the image
        bn.running_mean.add_(shift)
    folded.normalize = nn.Identity()
    folded.config = model.config.replace(input_norm="folded")
    return folded

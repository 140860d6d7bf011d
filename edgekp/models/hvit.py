"""The patent's hierarchical linear-attention keypoint network (design.md section 2).

Input N x 3 x S x S float32 RGB in [0, 1]; output N x K x 2 (x, y) normalized to [0, 1] in the crop.
Normalization (mean/std from the config) is the graph's first op (``normalize``), so every export
carries it; with ``input_norm: folded`` the first convolution carries it instead (models/reparam.py).
"""

from __future__ import annotations

import torch
from torch import nn

from edgekp.models.attention import LinearAttention
from edgekp.models.blocks import HierarchicalFeatureExtraction, ImageSplit, ShallowFeatureExtraction
from edgekp.models.config import STAGE_FIELDS, HvitConfig
from edgekp.models.fusion import FeatureFusion, FullyConnectedHead
from edgekp.models.norms import InputNormalization
from edgekp.models.presence import PresenceHead


class KeypointHVit(nn.Module):
    """stem -> image split -> hierarchy (level 1: ref1, ref2, ref3; level 2) -> fusion -> FC head."""

    def __init__(self, config: HvitConfig, variant: str = "custom") -> None:
        super().__init__()
        self.config = config
        self.variant = variant  # registry name; saved with checkpoints
        c = config
        # "folded": the first convolution carries the normalization (models/reparam.py).
        self.normalize = InputNormalization(c.mean, c.std) if c.input_norm == "graph" else nn.Identity()
        self.stem = ShallowFeatureExtraction(c.in_chans, c.stem_channels, c.act)
        self.split = ImageSplit(self.stem.out_channels, c.ref1.dim, c.patch_size)
        self.hierarchy = HierarchicalFeatureExtraction(c)
        grids = c.grids
        self.fusion = FeatureFusion(
            [getattr(c, name).dim for name in STAGE_FIELDS],
            [grids[name] for name in STAGE_FIELDS],
            c.fusion_grid,
            c.fusion_dim,
            c.act,
            c.se_ratio,
        )
        self.head = FullyConnectedHead(
            self.fusion.out_channels,
            c.fusion_grid,
            c.head_channels,
            c.pool_size,
            c.head_hidden,
            c.num_points,
            c.act,
            c.decode,
        )
        # Optional (config.presence_hidden > 0): models without it keep exactly their state dict.
        self.presence = (
            PresenceHead(self.fusion.out_channels, c.fusion_grid, c.presence_hidden) if c.presence_hidden else None
        )
        self._init_weights()

    def _init_weights(self) -> None:
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear) and not name.startswith("head.fc2"):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    @property
    def num_points(self) -> int:
        return self.config.num_points

    @property
    def input_size(self) -> int:
        return self.config.input_size

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The fused feature map (N x 4*fusion_dim x G x G, G = the fusion grid) before the FC head."""
        x = self.split(self.stem(self.normalize(x)))
        return self.fusion(self.hierarchy(x))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    @property
    def has_presence(self) -> bool:
        return self.presence is not None

    @property
    def presence_threshold(self) -> float | None:
        """The probability under which a tracker drops the face (chosen on validation crops)."""
        return self.config.presence_threshold

    def forward_with_presence(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(landmarks N x K x 2, face-presence logit N x 1) from one backbone pass."""
        if self.presence is None:
            raise RuntimeError("this model has no presence head (config.presence_hidden is 0)")
        features = self.forward_features(x)
        return self.forward_head(features), self.presence(features)

    def inference_form(self) -> KeypointHVit:
        """The model as exporters should convert it: a copy with BatchNorm token norms folded into the
        next Linear (``token_norm: batch``); the model itself when there is nothing to fold."""
        import copy

        from edgekp.models.norms import TokenBatchNorm, fold_token_norms

        if not any(isinstance(m, TokenBatchNorm) for m in self.modules()):
            return self
        folded = copy.deepcopy(self).eval()
        fold_token_norms(folded)
        # What is left is exactly a model without token norms (and with qkv biases, which the fold
        # writes): its config says so, so the folded model rebuilds from its config (QAT saves it).
        folded.config = self.config.replace(token_norm="none", qkv_bias=True)
        return folded

    def attention_modules(self) -> list[tuple[str, LinearAttention]]:
        """Every attention module with its qualified name, in a stable (definition) order."""
        return [(name, m) for name, m in self.named_modules() if isinstance(m, LinearAttention)]

    def attention_config_paths(self) -> list[tuple[str, str, int]]:
        """(attention module name, config stage, index in that stage's heads) in attention_modules order.

        What a pruning step needs to write the new head counts back into the config.
        """
        out = []
        for name, _ in self.attention_modules():
            parts = name.split(".")  # e.g. hierarchy.level1.ref2.1.transformer.attn
            stage = parts[2] if parts[1] == "level1" else "level2"
            index = int(parts[3] if parts[1] == "level1" else parts[2])
            out.append((name, stage, index))
        return out

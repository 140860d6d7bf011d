"""The network's named building blocks (design.md section 2), one class each.

Between modules features travel as N x C x H x W maps (what convs, merges and the fusion want);
inside a transformer module they are N x L x C tokens (what LayerNorm, Linear and attention want).
"""

from __future__ import annotations

import torch
from torch import nn

from edgekp.models.attention import LinearAttention
from edgekp.models.config import HvitConfig, StageConfig
from edgekp.models.norms import make_token_norm


def make_act(name: str) -> nn.Module:
    # All three export natively (GELU as one op at ONNX opset 20).
    return {"gelu": nn.GELU, "relu": nn.ReLU, "hardswish": nn.Hardswish}[name]()


class ConvNormAct(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int, act: str | None, groups: int = 1) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act is not None:
            layers.append(make_act(act))
        super().__init__(*layers)


class ShallowFeatureExtraction(nn.Sequential):
    """Part 1: a few 3x3 stride-2 conv + BN + activation layers giving low-level features."""

    def __init__(self, in_chans: int, channels: tuple[int, ...], act: str) -> None:
        layers, cin = [], in_chans
        for cout in channels:
            layers.append(ConvNormAct(cin, cout, 3, 2, act))
            cin = cout
        super().__init__(*layers)
        self.out_channels = cin


class ImageSplit(nn.Module):
    """Part 2: cut the shallow map into non-overlapping patch x patch patches and embed each one.

    A conv with kernel = stride = patch is exactly "flatten each patch, apply one Linear".
    """

    def __init__(self, cin: int, dim: int, patch_size: int) -> None:
        super().__init__()
        self.embed = nn.Conv2d(cin, dim, patch_size, stride=patch_size, bias=False)
        self.norm = nn.BatchNorm2d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.embed(x))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, act: str) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = make_act(act)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class TransformerModule(nn.Module):
    """Pre-norm transformer block with multi-head linear attention, on an N x C x H x W map."""

    def __init__(
        self, dim: int, num_heads: int, stage: StageConfig, cfg: HvitConfig, hidden: int | None = None
    ) -> None:
        super().__init__()
        self.norm1 = make_token_norm(cfg.token_norm, dim)
        self.attn = LinearAttention(
            dim,
            num_heads,
            stage.head_dim,
            kernel=cfg.attn_kernel,
            eps=cfg.attn_eps,
            qkv_bias=cfg.qkv_bias,
            fused_denominator=cfg.attn_fused_denominator,
        )
        self.norm2 = make_token_norm(cfg.token_norm, dim)
        self.mlp = Mlp(dim, hidden if hidden is not None else max(1, round(dim * stage.mlp_ratio)), cfg.act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, c, h, w = x.shape
        # Tokens through channels-last (N,H,W,C -> N,L,C), not flatten(2).transpose(1, 2): the same
        # values, but the converters' NHWC maps then need no transposes here (TFLite: 51 -> 23 for
        # kp_hvit_t_qf, fp32 0.94x the latency).
        t = x.permute(0, 2, 3, 1).reshape(-1, h * w, c)  # batch -1: exports keep a dynamic batch
        t = t + self.attn(self.norm1(t))
        t = t + self.mlp(self.norm2(t))
        return t.reshape(-1, h, w, c).permute(0, 3, 1, 2)


class LocalPositionEmbedding(nn.Module):
    """Position from the local neighbourhood: a depth-wise conv on the token grid, added to the tokens."""

    def __init__(self, dim: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, kernel, padding=kernel // 2, groups=dim, bias=False)
        self.norm = nn.BatchNorm2d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.norm(self.conv(x))


class EmbeddingTransformModule(nn.Module):
    """Local position embedding followed by a transformer module (reference network 1 has two)."""

    def __init__(
        self, dim: int, num_heads: int, stage: StageConfig, cfg: HvitConfig, hidden: int | None = None
    ) -> None:
        super().__init__()
        self.pos = LocalPositionEmbedding(dim, cfg.pos_kernel)
        self.transformer = TransformerModule(dim, num_heads, stage, cfg, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.transformer(self.pos(x))


class LocalMerge(nn.Module):
    """Merge neighbouring patches: stride 2 halves the resolution and changes the channels.

    A depth-wise 3x3 conv mixes each patch with its neighbours (stride 2: the 2x2 groups are merged
    into one token), then a point-wise conv maps the channels. In a stage of several local-merge
    transform modules only the first one halves the grid (stride 2); the others merge neighbours at
    stride 1, so that deep stages keep a usable grid at 128 px (a 16x16 grid halved twice per stage
    would vanish by the second level).
    """

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.neighbours = ConvNormAct(cin, cin, 3, stride, act=None, groups=cin)
        self.project = ConvNormAct(cin, cout, 1, 1, act=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.neighbours(x))


class LocalMergeTransformModule(nn.Module):
    """A local merge module followed by a transformer module with multi-head linear attention."""

    def __init__(
        self, cin: int, num_heads: int, stride: int, stage: StageConfig, cfg: HvitConfig, hidden: int | None = None
    ) -> None:
        super().__init__()
        self.merge = LocalMerge(cin, stage.dim, stride)
        self.transformer = TransformerModule(stage.dim, num_heads, stage, cfg, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.transformer(self.merge(x))


class ReferenceNetwork1(nn.Sequential):
    """First-level reference network 1: two embedding-transform modules of identical structure."""

    def __init__(self, stage: StageConfig, cfg: HvitConfig) -> None:
        super().__init__(
            *(
                EmbeddingTransformModule(stage.dim, heads, stage, cfg, stage.hidden(i))
                for i, heads in enumerate(stage.heads)
            )
        )


class MergeStage(nn.Sequential):
    """Reference networks 2 and 3, and the second level: several local-merge transform modules.

    The first module halves the grid; see LocalMerge for why the others keep it.
    """

    def __init__(self, cin: int, stage: StageConfig, cfg: HvitConfig) -> None:
        modules = []
        for i, heads in enumerate(stage.heads):
            modules.append(
                LocalMergeTransformModule(
                    cin if i == 0 else stage.dim, heads, 2 if i == 0 else 1, stage, cfg, stage.hidden(i)
                )
            )
        super().__init__(*modules)


class ReferenceNetwork(MergeStage):
    """First-level reference network 2 or 3."""


class SecondLevel(MergeStage):
    """The second level of the hierarchy, on top of reference network 3."""


class FirstLevel(nn.Module):
    """Three reference feature extraction networks in sequence; returns each one's reference feature."""

    def __init__(self, cfg: HvitConfig) -> None:
        super().__init__()
        self.ref1 = ReferenceNetwork1(cfg.ref1, cfg)
        self.ref2 = ReferenceNetwork(cfg.ref1.dim, cfg.ref2, cfg)
        self.ref3 = ReferenceNetwork(cfg.ref2.dim, cfg.ref3, cfg)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f1 = self.ref1(x)
        f2 = self.ref2(f1)
        f3 = self.ref3(f2)
        return f1, f2, f3


class HierarchicalFeatureExtraction(nn.Module):
    """Part 3: the first level (three reference features) and the second level on top of it."""

    def __init__(self, cfg: HvitConfig) -> None:
        super().__init__()
        self.level1 = FirstLevel(cfg)
        self.level2 = SecondLevel(cfg.ref3.dim, cfg.level2, cfg)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f1, f2, f3 = self.level1(x)
        return [f1, f2, f3, self.level2(f3)]

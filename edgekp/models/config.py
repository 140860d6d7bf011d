"""The model's config: a frozen dataclass that alone is enough to rebuild the network.

Head counts live per transformer module and ``head_dim`` per stage, decoupled from the stage width,
so a model whose heads were pruned (fewer heads in some module) rebuilds from its config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from edgekp.config.base import nearest
from edgekp.errors import ConfigError

Activation = Literal["gelu", "relu", "hardswish"]
KernelName = Literal["elu", "relu"]
Decode = Literal["linear", "sigmoid"]
TokenNorm = Literal["layer", "batch", "none"]
InputNorm = Literal["graph", "folded"]

_ACTIVATIONS = ("gelu", "relu", "hardswish")
_KERNELS = ("elu", "relu")
_DECODES = ("linear", "sigmoid")
_TOKEN_NORMS = ("layer", "batch", "none")
_INPUT_NORMS = ("graph", "folded")

# ImageNet statistics: inputs are RGB in [0, 1]; the model normalizes internally as its first op.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class StageConfig:
    """One network of the hierarchy: its width and, per module, the number of attention heads.

    ``len(heads)`` is the number of modules in the stage (embedding-transform modules for reference
    network 1, local-merge transform modules otherwise).
    """

    dim: int
    heads: tuple[int, ...]
    head_dim: int = 16
    mlp_ratio: float = 2.0
    # Per-module MLP hidden widths (what channel pruning writes); None: round(dim * mlp_ratio) each.
    mlp_hidden: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "heads", tuple(int(h) for h in self.heads))
        if self.mlp_hidden is not None:
            object.__setattr__(self, "mlp_hidden", tuple(int(h) for h in self.mlp_hidden))
        if self.dim < 1 or self.head_dim < 1 or self.mlp_ratio <= 0:
            raise ConfigError(f"stage needs dim >= 1, head_dim >= 1, mlp_ratio > 0 (got {self})")
        if not self.heads or any(h < 1 for h in self.heads):
            raise ConfigError(f"stage heads must be a non-empty list of counts >= 1 (got {list(self.heads)})")
        if self.mlp_hidden is not None and (len(self.mlp_hidden) != len(self.heads) or min(self.mlp_hidden) < 1):
            raise ConfigError(
                f"stage mlp_hidden needs one width >= 1 per module ({len(self.heads)}), got {list(self.mlp_hidden)}"
            )

    @property
    def depth(self) -> int:
        return len(self.heads)

    def hidden(self, index: int) -> int:
        """The MLP hidden width of module ``index``."""
        return self.mlp_hidden[index] if self.mlp_hidden is not None else max(1, round(self.dim * self.mlp_ratio))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dim": self.dim,
            "heads": list(self.heads),
            "head_dim": self.head_dim,
            "mlp_ratio": self.mlp_ratio,
        }
        if self.mlp_hidden is not None:  # only when set: unpruned configs stay what they were
            out["mlp_hidden"] = list(self.mlp_hidden)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "stage") -> StageConfig:
        if isinstance(data, StageConfig):
            return data
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping with keys dim, heads, head_dim, mlp_ratio (got {data!r})")
        _reject_unknown(data, [f.name for f in dataclasses.fields(cls)], where)
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}") from None


STAGE_FIELDS = ("ref1", "ref2", "ref3", "level2")
# The face-presence head's fields: written only when set, and never part of a training recipe's model
# (the head is trained afterwards on the frozen network, edgekp.train.presence).
PRESENCE_FIELDS = ("presence_hidden", "presence_threshold")


@dataclass(frozen=True)
class HvitConfig:
    """Everything that shapes the network. Spatial sizes are static; only the batch is dynamic."""

    input_size: int = 128
    num_points: int = 68
    in_chans: int = 3
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    # Shallow feature extraction: one 3x3 stride-2 conv per entry.
    stem_channels: tuple[int, ...] = (16, 32)
    # Image split: non-overlapping patch_size x patch_size patches of the stem's map become tokens.
    patch_size: int = 2
    # First level: reference network 1 (exactly two embedding-transform modules), 2 and 3;
    # second level: more local-merge transform modules. Each stage after ref1 halves the grid once.
    ref1: StageConfig = field(default_factory=lambda: StageConfig(48, (2, 2), 24))
    ref2: StageConfig = field(default_factory=lambda: StageConfig(96, (3, 3), 24))
    ref3: StageConfig = field(default_factory=lambda: StageConfig(144, (4, 4), 24))
    level2: StageConfig = field(default_factory=lambda: StageConfig(192, (4, 4), 24))
    pos_kernel: int = 3  # depth-wise kernel of the local position embedding
    fusion_dim: int = 48  # channels of each level after semantic enhancement (concat = 4x this)
    se_ratio: float = 0.25  # channel-attention bottleneck
    head_channels: int = 32  # 1x1 reduction before the pooled map is flattened into the FC head
    pool_size: int = 4  # side of the pooled map flattened into the FC head (keeps position)
    head_hidden: int = 256
    act: Activation = "gelu"
    attn_kernel: KernelName = "elu"
    attn_eps: float = 1e-6
    # True: the attention's numerator and denominator come from one matmul of the same phi(Q), so
    # int8 quantizes both alike (FusedAttentionNormalizer); False (the shipped layout): two matmuls.
    attn_fused_denominator: bool = False
    # Normalizer of the transformer modules' tokens: "layer" (shipped), "batch" (fixed statistics at
    # inference: a per-channel affine, foldable), "none" (an ablation). See models/norms.py.
    token_norm: TokenNorm = "layer"
    # "graph" (shipped): (x - mean) / std is the graph's first op, then the stem pads with zeros of
    # the normalized image. "folded": no such op; the first convolution's weights carry the affine and
    # it pads the raw image with zeros (black), which removes a SUB and a MUL over the full image
    # (about 4 % of kp_hvit_t_q's TFLite latency; models/reparam.py converts a trained model).
    input_norm: InputNorm = "graph"
    qkv_bias: bool = True
    decode: Decode = "linear"
    # Face-presence head (models/presence.py): hidden width of the small head on the fused features
    # that scores "is a face in this crop"; 0 (default) = no head, so every older checkpoint loads as
    # it was. ``presence_threshold`` is the probability under which a tracker drops the face, chosen
    # on validation crops when the head was trained (edgekp.train.presence).
    presence_hidden: int = 0
    presence_threshold: float | None = None

    def __post_init__(self) -> None:
        for name in ("mean", "std", "stem_channels"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in STAGE_FIELDS:
            object.__setattr__(self, name, StageConfig.from_dict(getattr(self, name), where=name))
        self._validate()

    # -- derived sizes -------------------------------------------------------------------------
    @property
    def token_grid(self) -> int:
        """Side of the token grid after the stem and the image split (reference network 1's grid)."""
        return self.input_size // (2 ** len(self.stem_channels) * self.patch_size)

    @property
    def grids(self) -> dict[str, int]:
        g = self.token_grid
        return {"ref1": g, "ref2": g // 2, "ref3": g // 4, "level2": g // 8}

    @property
    def fusion_grid(self) -> int:
        """The common resolution of the feature fusion: reference network 2's grid."""
        return self.token_grid // 2

    def stages(self) -> dict[str, StageConfig]:
        return {name: getattr(self, name) for name in STAGE_FIELDS}

    def _validate(self) -> None:
        if self.num_points < 1 or self.in_chans < 1:
            raise ConfigError(f"num_points and in_chans must be >= 1 (got {self.num_points}, {self.in_chans})")
        if len(self.mean) != self.in_chans or len(self.std) != self.in_chans or min(self.std) <= 0:
            raise ConfigError(f"mean/std need {self.in_chans} entries and std > 0 (got {self.mean}, {self.std})")
        if not self.stem_channels or self.patch_size < 1:
            raise ConfigError("stem_channels must be non-empty and patch_size >= 1")
        # Three halvings after the image split, and fusion by integer factors, need a grid divisible by 8.
        unit = 2 ** len(self.stem_channels) * self.patch_size * 8
        if self.input_size < unit or self.input_size % unit:
            raise ConfigError(
                f"input_size {self.input_size} must be a multiple of {unit} for this stem/patch_size "
                f"(e.g. {unit * max(1, round(self.input_size / unit))})"
            )
        if len(self.ref1.heads) != 2:
            raise ConfigError(
                f"ref1 is two embedding-transform modules: heads needs 2 entries (got {list(self.ref1.heads)})"
            )
        if self.pool_size < 1 or self.fusion_grid % self.pool_size:
            raise ConfigError(f"pool_size {self.pool_size} must divide the fusion grid {self.fusion_grid}")
        if self.pos_kernel < 1 or self.pos_kernel % 2 == 0:
            raise ConfigError(f"pos_kernel must be odd (got {self.pos_kernel})")
        for name, value, choices in (
            ("act", self.act, _ACTIVATIONS),
            ("attn_kernel", self.attn_kernel, _KERNELS),
            ("decode", self.decode, _DECODES),
            ("token_norm", self.token_norm, _TOKEN_NORMS),
            ("input_norm", self.input_norm, _INPUT_NORMS),
        ):
            if value not in choices:
                raise ConfigError(f"{name} must be one of {', '.join(choices)} (got {value!r})")
        if min(self.fusion_dim, self.head_channels, self.head_hidden) < 1 or not 0 < self.se_ratio <= 1:
            raise ConfigError("fusion_dim, head_channels, head_hidden must be >= 1 and 0 < se_ratio <= 1")
        if self.attn_eps <= 0:
            raise ConfigError(f"attn_eps must be > 0 (got {self.attn_eps})")
        if self.presence_hidden < 0:
            raise ConfigError(f"presence_hidden must be >= 0 (0: no presence head), got {self.presence_hidden}")
        if self.presence_threshold is not None and not 0 < self.presence_threshold < 1:
            raise ConfigError(f"presence_threshold is a probability in (0, 1), got {self.presence_threshold}")

    # -- plain-data round trip ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, StageConfig):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            if f.name in PRESENCE_FIELDS and value == f.default:
                continue  # a model without a presence head keeps the exact config dict (and hashes) it had
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HvitConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"a model config must be a mapping (got {type(data).__name__})")
        _reject_unknown(data, [f.name for f in dataclasses.fields(cls)], "model config")
        return cls(**data)

    def replace(self, **overrides: Any) -> HvitConfig:
        """A copy with top-level fields replaced; a stage may be given as a partial mapping."""
        _reject_unknown(overrides, [f.name for f in dataclasses.fields(self)], "model override")
        for name in STAGE_FIELDS:
            if isinstance(overrides.get(name), dict):
                overrides[name] = StageConfig.from_dict({**getattr(self, name).to_dict(), **overrides[name]}, name)
        return dataclasses.replace(self, **overrides)


def _reject_unknown(data: dict[str, Any], valid: list[str], where: str) -> None:
    for key in data:
        if key not in valid:
            hint = nearest(str(key), valid)
            tip = f"; did you mean {hint!r}?" if hint else f"; valid keys: {', '.join(valid)}"
            raise ConfigError(f"{where}: unknown key {key!r}{tip}")

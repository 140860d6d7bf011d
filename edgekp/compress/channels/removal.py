"""MLP hidden-channel and whole-block removal, rebuilt from config.

Why these structures: on the shipped model the MLPs (fc1/fc2) are the largest FULLY_CONNECTED share
of the TFLite time (bench --profile), while heads are a small share (50 % of heads removed cut TFLite
latency by 2 %). A hidden channel c of a module's MLP is row c of fc1 (and its bias) and column c of
fc2; a block is one transformer module of a stage (any but the first, which changes the grid).

Channel importance here is magnitude: ||fc1.weight[c]|| * ||fc2.weight[:, c]|| (how much the channel
can pass from input to output), a data-free score; fine-tuning after removal recovers the rest.
"""

from __future__ import annotations

import math
import re

import torch

from edgekp.errors import ConfigError
from edgekp.models.blocks import Mlp
from edgekp.models.hvit import KeypointHVit
from edgekp.models.registry import model_from_config

_MODULE = re.compile(r"^hierarchy\.(?:level1\.(ref[123])|(level2))\.(\d+)\.transformer\.mlp$")


def _mlps(model: KeypointHVit) -> list[tuple[str, str, int, Mlp]]:
    """(module name, config stage, index in the stage, Mlp) for every transformer MLP, in order."""
    out = []
    for name, module in model.named_modules():
        match = _MODULE.match(name)
        if match and isinstance(module, Mlp):
            out.append((name, match.group(1) or match.group(2), int(match.group(3)), module))
    return out


def mlp_widths(model: KeypointHVit) -> dict[str, int]:
    return {name: mlp.fc1.out_features for name, _, _, mlp in _mlps(model)}


@torch.no_grad()
def mlp_channel_scores(model: KeypointHVit) -> dict[str, torch.Tensor]:
    """Per MLP, one magnitude score per hidden channel (higher = keep)."""
    return {name: mlp.fc1.weight.norm(dim=1) * mlp.fc2.weight.norm(dim=0) for name, _, _, mlp in _mlps(model)}


def remove_mlp_channels(model: KeypointHVit, ratio: float, *, multiple: int = 8, min_channels: int = 8) -> KeypointHVit:
    """A new model with ``ratio`` of each MLP's hidden channels removed (lowest magnitude first).

    The kept width is rounded to a ``multiple`` (int8/SIMD kernels run whole vectors of 8-16
    channels; a width of 97 costs what 104 does) and never below ``min_channels``.
    """
    if not 0 <= ratio < 1:
        raise ConfigError(f"channel ratio must be in [0, 1) (got {ratio})")
    scores = mlp_channel_scores(model)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    stages = {name: stage for name, stage in model.config.stages().items()}
    widths = {name: [stage.hidden(i) for i in range(stage.depth)] for name, stage in stages.items()}
    for name, stage, index, mlp in _mlps(model):
        hidden = mlp.fc1.out_features
        keep_n = max(min_channels, multiple * math.ceil(hidden * (1 - ratio) / multiple))
        keep_n = min(hidden, keep_n)
        keep = torch.sort(torch.argsort(scores[name], descending=True)[:keep_n]).values
        state[f"{name}.fc1.weight"] = state[f"{name}.fc1.weight"][keep]
        state[f"{name}.fc1.bias"] = state[f"{name}.fc1.bias"][keep]
        state[f"{name}.fc2.weight"] = state[f"{name}.fc2.weight"][:, keep]
        widths[stage][index] = keep_n
    config = model.config.replace(**{s: {"mlp_hidden": w} for s, w in widths.items()})
    return _rebuild(model, config, state)


def removable_blocks(model: KeypointHVit) -> dict[str, int]:
    """Per stage, how many modules can go: all but the first (which changes the grid); ref1 is fixed
    at two embedding-transform modules by the architecture."""
    return {name: (stage.depth - 1 if name != "ref1" else 0) for name, stage in model.config.stages().items()}


def check_block_removal(model: KeypointHVit, per_stage: dict[str, int]) -> None:
    """ConfigError unless every stage named exists and can lose that many modules."""
    can = removable_blocks(model)
    for stage, n in per_stage.items():
        if stage not in can:
            raise ConfigError(f"unknown stage {stage!r} (stages: {', '.join(can)})")
        if n > can[stage]:
            raise ConfigError(f"stage {stage!r} can lose at most {can[stage]} module(s), not {n}")


def remove_blocks(model: KeypointHVit, per_stage: dict[str, int]) -> KeypointHVit:
    """A new model with the last ``per_stage[stage]`` transformer modules of each stage removed."""
    check_block_removal(model, per_stage)
    overrides = {}
    for stage, n in per_stage.items():
        if n:
            cfg = getattr(model.config, stage)
            depth = cfg.depth - n
            overrides[stage] = {
                "heads": list(cfg.heads[:depth]),
                "mlp_hidden": list(cfg.mlp_hidden[:depth]) if cfg.mlp_hidden else None,
            }
    config = model.config.replace(**overrides)
    kept = {}
    for key, value in model.state_dict().items():
        match = re.match(r"^hierarchy\.(?:level1\.(ref[123])|(level2))\.(\d+)\.", key)
        if match:
            stage = match.group(1) or match.group(2)
            if int(match.group(3)) >= getattr(config, stage).depth:
                continue
        kept[key] = value.detach().clone()
    return _rebuild(model, config, kept)


def _rebuild(model: KeypointHVit, config: object, state: dict[str, torch.Tensor]) -> KeypointHVit:
    pruned = model_from_config(config, variant=model.variant)  # type: ignore[arg-type]
    pruned.load_state_dict(state, strict=True)
    device = next(model.parameters()).device
    return pruned.to(device).train(model.training)

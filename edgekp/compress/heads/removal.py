"""Choosing which heads go (global or per block, with a floor) and removing them physically.

Removal slices each pruned module's q/k/v rows and output-projection columns (the per-head layout is
documented in ``edgekp.models.attention``), writes the smaller head counts into the config, rebuilds
the network from that config alone and loads the sliced weights: no masks are left in the graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from edgekp.errors import ConfigError
from edgekp.models.hvit import KeypointHVit
from edgekp.models.registry import model_from_config

Removal = dict[str, list[int]]  # attention module name -> head indices (in the model given) to remove


def round_half_up(x: float) -> int:
    # Python's round() goes to even (round(2.5) == 2); counts of heads should not depend on parity.
    return int(math.floor(x + 0.5 + 1e-9))


def head_counts(model: KeypointHVit) -> dict[str, int]:
    return {name: attn.num_heads for name, attn in model.attention_modules()}


@dataclass(frozen=True)
class Quota:
    """How many heads to remove, in total (global) or per block, counted on the original model."""

    scope: str
    total: int
    per_block: dict[str, int]


def plan_quota(original: dict[str, int], ratio: float, scope: str, min_heads: int) -> Quota:
    """The removal counts a ratio asks for; a per_block ratio that would break the floor is an error.

    In global scope the floor is applied when choosing (see ``choose_heads``), so any ratio in [0, 1)
    is valid there; in per_block scope the user asked for that share of *each* block, so a block it
    would empty (or push under the floor) is refused rather than silently pruned less.
    """
    for name, h in original.items():
        if h < min_heads:
            raise ConfigError(f"block {name!r} has {h} heads, fewer than min_heads_per_block {min_heads}; lower it")
    if scope == "per_block":
        counts = {name: round_half_up(ratio * h) for name, h in original.items()}
        for name, h in original.items():
            if h - counts[name] < min_heads:
                raise ConfigError(
                    f"ratio {ratio:g} with scope per_block would leave block {name!r} with {h - counts[name]} of its "
                    f"{h} heads (min_heads_per_block {min_heads}); use a smaller ratio or scope global"
                )
        return Quota(scope, sum(counts.values()), counts)
    return Quota(scope, round_half_up(ratio * sum(original.values())), {})


def choose_heads(
    scores: dict[str, np.ndarray],
    current: dict[str, int],
    original: dict[str, int],
    quota: Quota,
    fraction: float,
    min_heads: int,
) -> tuple[Removal, int]:
    """Heads to remove now so that ``fraction`` of the quota is reached, lowest score first.

    ``current`` are the model's head counts now (earlier steps may have removed some); returns the
    removal (indices in the current model) and how many heads the floor kept from the global quota.
    """
    removal: Removal = {name: [] for name in current}
    if quota.scope == "per_block":
        for name, h in current.items():
            want = round_half_up(fraction * quota.per_block[name]) - (original[name] - h)
            order = np.argsort(scores[name], kind="stable")
            removal[name] = sorted(int(i) for i in order[: max(want, 0)])
        return removal, 0
    already = sum(original.values()) - sum(current.values())
    want = max(round_half_up(fraction * quota.total) - already, 0)
    ranked = sorted(
        ((float(s), name, i) for name, vals in scores.items() for i, s in enumerate(vals)),
        key=lambda t: (t[0], t[1], t[2]),
    )
    left = dict(current)
    taken = 0
    for _, name, i in ranked:
        if taken == want:
            break
        if left[name] - 1 < min_heads:
            continue  # the floor: this block keeps its last heads whatever their score
        removal[name].append(i)
        left[name] -= 1
        taken += 1
    return {n: sorted(v) for n, v in removal.items()}, want - taken


def remove_heads(model: KeypointHVit, removal: Removal) -> KeypointHVit:
    """A new model without the given heads, rebuilt from its config; the input model is left as it was."""
    modules = dict(model.attention_modules())
    unknown = sorted(set(removal) - set(modules))
    if unknown:
        raise KeyError(f"no attention module named {unknown[0]!r}")
    config = model.config
    stage_heads = {name: list(stage.heads) for name, stage in config.stages().items()}
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for name, stage, index in model.attention_config_paths():
        drop = sorted(set(removal.get(name, [])))
        if not drop:
            continue
        attn = modules[name]
        keep = [h for h in range(attn.num_heads) if h not in drop]
        if not keep:
            raise ConfigError(f"removing heads {drop} would leave attention block {name!r} with no head")
        rows = torch.cat([torch.arange(attn.num_heads * 3 * attn.head_dim)[attn.head_slices(h)[0]] for h in keep])
        cols = torch.cat([torch.arange(attn.num_heads * attn.head_dim)[attn.head_slices(h)[1]] for h in keep])
        state[f"{name}.qkv.weight"] = state[f"{name}.qkv.weight"][rows]
        if f"{name}.qkv.bias" in state:
            state[f"{name}.qkv.bias"] = state[f"{name}.qkv.bias"][rows]
        state[f"{name}.proj.weight"] = state[f"{name}.proj.weight"][:, cols]
        state[f"{name}.head_gate"] = state[f"{name}.head_gate"][keep]
        stage_heads[stage][index] = len(keep)
    new_config = config.replace(**{s: {"heads": h} for s, h in stage_heads.items()})
    pruned = model_from_config(new_config, variant=model.variant)
    pruned.load_state_dict(state, strict=True)
    device = next(model.parameters()).device
    return pruned.to(device).train(model.training)

"""MLP channel and whole-block removal: physically smaller, rebuilt from config, and exact where it must be."""

from __future__ import annotations

import pytest
import torch
from face_fixtures import scaled_tiny_model

from edgekp.compress.channels import (
    mlp_channel_scores,
    mlp_widths,
    removable_blocks,
    remove_blocks,
    remove_mlp_channels,
)
from edgekp.errors import ConfigError
from edgekp.models import count_parameters, create_model, model_from_config


def test_removing_channels_equals_zeroing_them() -> None:
    """A removed hidden channel contributes exactly nothing: the pruned model equals the full model with
    those fc1 rows and biases zeroed (act(0) = 0 for gelu, relu and hard-swish)."""
    torch.manual_seed(0)
    model = scaled_tiny_model(64, attn_std=0.3)
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.normal_(m.bias, std=0.1)
    pruned = remove_mlp_channels(model, 0.5, multiple=4, min_channels=4)
    masked = create_model("kp_hvit_test", input_size=64).eval()
    masked.load_state_dict(model.state_dict())
    scores = mlp_channel_scores(model)
    widths = mlp_widths(pruned)
    with torch.no_grad():
        for name, width in widths.items():
            drop = torch.argsort(scores[name], descending=True)[width:]
            mlp = masked.get_submodule(name)
            mlp.fc1.weight[drop] = 0
            mlp.fc1.bias[drop] = 0
    assert all(w < model.get_submodule(n).fc1.out_features for n, w in widths.items())
    assert count_parameters(pruned) < count_parameters(model)
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(pruned(x), masked(x), atol=1e-5)
    rebuilt = model_from_config(pruned.config.to_dict())
    rebuilt.load_state_dict(pruned.state_dict(), strict=True)  # the config alone rebuilds it


def test_kept_width_rounds_to_the_multiple() -> None:
    model = create_model("kp_hvit_s")
    widths = mlp_widths(remove_mlp_channels(model, 0.3))
    assert all(w % 8 == 0 and w < model.get_submodule(n).fc1.out_features for n, w in widths.items())
    with pytest.raises(ConfigError, match=r"in \[0, 1\)"):
        remove_mlp_channels(model, 1.0)


def test_removing_blocks_shortens_stages_and_rebuilds_from_config() -> None:
    model = create_model("kp_hvit_s").eval()
    assert removable_blocks(model) == {"ref1": 0, "ref2": 1, "ref3": 1, "level2": 1}
    pruned = remove_blocks(model, {"ref3": 1, "level2": 1})
    assert pruned.config.ref3.depth == 1 and pruned.config.level2.depth == 1 and pruned.config.ref2.depth == 2
    assert len(pruned.attention_modules()) == len(model.attention_modules()) - 2
    state = model.state_dict()
    for key, value in pruned.state_dict().items():  # every kept weight is the parent's, unchanged
        assert torch.equal(value, state[key])
    assert pruned(torch.rand(1, 3, 128, 128)).shape == (1, 68, 2)
    with pytest.raises(ConfigError, match="can lose at most 0"):
        remove_blocks(model, {"ref1": 1})

"""Linear attention: gate semantics, head layout, rebuild with fewer heads."""

from __future__ import annotations

import copy

import pytest
import torch

from edgekp.models import LinearAttention, create_model, gate_gradients, model_from_config


@pytest.mark.parametrize("fused", [False, True])
def test_linear_attention_matches_the_formula(fused: bool) -> None:
    torch.manual_seed(0)
    attn = LinearAttention(12, 3, 4, fused_denominator=fused).eval()
    x = torch.randn(2, 10, 12)
    w, b = attn.qkv.weight, attn.qkv.bias
    phi = lambda t: torch.nn.functional.elu(t) + 1  # noqa: E731
    heads = []
    for h in range(3):
        rows, _ = attn.head_slices(h)
        q, k, v = (x @ w[rows].T + b[rows]).split(4, dim=-1)
        q, k = phi(q), phi(k)
        num = q @ (k.transpose(1, 2) @ v)
        den = q @ k.sum(1, keepdim=True).transpose(1, 2)
        heads.append(num / den)
    want = attn.proj(torch.cat(heads, dim=-1))
    assert torch.allclose(attn(x), want, atol=1e-5)


def test_gate_zero_removes_a_head_exactly() -> None:
    torch.manual_seed(0)
    model = create_model("kp_hvit_test", input_size=64).eval()
    x = torch.rand(2, 3, 64, 64)
    gated = copy.deepcopy(model)
    name, attn = gated.attention_modules()[3]
    with torch.no_grad():
        attn.head_gate[1] = 0.0
    # Same model with that head's v rows zeroed: its output is exactly zero, like a zero gate.
    zeroed = copy.deepcopy(model)
    target = dict(zeroed.attention_modules())[name]
    rows, _ = target.head_slices(1)
    d = target.head_dim
    with torch.no_grad():
        target.qkv.weight[rows.start + 2 * d : rows.stop] = 0
        target.qkv.bias[rows.start + 2 * d : rows.stop] = 0
        assert torch.equal(gated(x), zeroed(x))
        assert torch.equal(gated.forward_features(x), zeroed.forward_features(x))
        assert not torch.allclose(gated.forward_features(x), model.forward_features(x))


def test_pruned_model_rebuilds_from_config_and_equals_the_gated_model() -> None:
    torch.manual_seed(0)
    model = create_model("kp_hvit_test", input_size=64).eval()
    paths = model.attention_config_paths()
    name, stage, index = paths[2]  # ref2, first module
    attn = dict(model.attention_modules())[name]
    with torch.no_grad():
        attn.head_gate[0] = 0.0
    heads = list(getattr(model.config, stage).heads)
    heads[index] -= 1
    pruned = model_from_config(model.config.replace(**{stage: {"heads": heads}}).to_dict()).eval()
    state = model.state_dict()
    keep_rows, keep_cols = attn.head_slices(1)  # head 1 of 2 survives
    state[f"{name}.qkv.weight"] = state[f"{name}.qkv.weight"][keep_rows]
    state[f"{name}.qkv.bias"] = state[f"{name}.qkv.bias"][keep_rows]
    state[f"{name}.proj.weight"] = state[f"{name}.proj.weight"][:, keep_cols]
    state[f"{name}.head_gate"] = state[f"{name}.head_gate"][1:]
    pruned.load_state_dict(state)
    assert dict(pruned.attention_modules())[name].num_heads == 1
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(pruned(x), model(x), atol=1e-6)


def test_gate_gradients_give_dloss_dgate() -> None:
    model = create_model("kp_hvit_test", input_size=64)
    x = torch.rand(2, 3, 64, 64)
    with gate_gradients(model) as gates:
        model(x).sum().backward()
        assert len(gates) == len(model.attention_modules())
        for _, gate in gates:
            assert gate.grad is not None and gate.grad.shape == gate.shape
    assert all(not m.head_gate.requires_grad for _, m in model.attention_modules())


def test_attention_modules_order_is_stable() -> None:
    a = [n for n, _ in create_model("kp_hvit_s").attention_modules()]
    b = [n for n, _ in create_model("kp_hvit_s").attention_modules()]
    assert a == b and a[0].startswith("hierarchy.level1.ref1.0") and a[-1].startswith("hierarchy.level2")


def test_fused_denominator_loads_the_same_weights_and_keeps_the_normalizer_scope() -> None:
    """attn_fused_denominator changes no parameter: a two-matmul checkpoint loads into it, the outputs
    agree, and the division is still the `attn.normalizer` module the QAT recipes keep in float."""
    torch.manual_seed(0)
    two = create_model("kp_hvit_test", input_size=64).eval()
    one = create_model("kp_hvit_test", input_size=64, attn_fused_denominator=True).eval()
    one.load_state_dict(two.state_dict())
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(one(x), two(x), atol=1e-5)
    assert {n for n, _ in one.named_modules() if n.endswith("attn.normalizer")} == {
        n for n, _ in two.named_modules() if n.endswith("attn.normalizer")
    }
    assert create_model("kp_hvit_s").config.attn_fused_denominator is False  # the shipped layout stays

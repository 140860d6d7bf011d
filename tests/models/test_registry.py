"""Registry, config round trip, shapes, gradients, size targets."""

from __future__ import annotations

import pytest
import torch

from edgekp.errors import ConfigError
from edgekp.models import HvitConfig, count_flops, count_parameters, create_model, list_models, model_from_config

ALL = list_models()


def test_registry_lists_the_variants() -> None:
    assert {"kp_hvit_t", "kp_hvit_s", "kp_hvit_b", "kp_hvit_test"} <= set(ALL)
    assert list_models("kp_hvit_?") == ["kp_hvit_b", "kp_hvit_s", "kp_hvit_t"]


def test_unknown_name_suggests_nearest() -> None:
    with pytest.raises(ConfigError, match="did you mean 'kp_hvit_s'"):
        create_model("kp_hvit_ss")


def test_unknown_override_suggests_nearest() -> None:
    with pytest.raises(ConfigError, match="did you mean 'num_points'"):
        create_model("kp_hvit_test", num_point=5)


def test_bad_input_size_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="multiple of 64"):
        create_model("kp_hvit_test", input_size=100)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("k", [68, 98])
def test_output_shape_and_range(name: str, k: int) -> None:
    size = 64  # every variant accepts it; the 128 px default is covered by the size-target test
    model = create_model(name, num_points=k, input_size=size).eval()
    assert model.config.num_points == k and model.config.input_size == size
    with torch.no_grad():
        y = model(torch.rand(2, 3, size, size))
    assert y.shape == (2, k, 2) and y.dtype == torch.float32
    assert torch.isfinite(y).all()
    # Untrained: near the crop centre (decode = linear + 0.5).
    assert (y - 0.5).abs().max() < 0.2


@pytest.mark.parametrize("name", ALL)
def test_config_round_trip(name: str) -> None:
    model = create_model(name)
    cfg = model.config
    again = HvitConfig.from_dict(cfg.to_dict())
    assert again == cfg
    rebuilt = model_from_config(cfg.to_dict())
    assert rebuilt.state_dict().keys() == model.state_dict().keys()


def test_every_parameter_gets_a_gradient_and_no_nan() -> None:
    model = create_model("kp_hvit_test", input_size=64).train()
    x = torch.rand(3, 3, 64, 64)
    y = model(x)
    loss = (y - torch.rand_like(y)).abs().mean()
    loss.backward()
    assert torch.isfinite(loss)
    for name, p in model.named_parameters():
        if name.endswith("head_gate"):
            assert p.grad is None  # frozen unless gate_gradients() is used
            continue
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_forward_features_is_the_fused_map() -> None:
    model = create_model("kp_hvit_test", input_size=64).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        f = model.forward_features(x)
        assert f.shape == (1, 4 * model.config.fusion_dim, model.config.fusion_grid, model.config.fusion_grid)
        assert torch.equal(model.forward_head(f), model(x))


def test_structure_has_every_named_part() -> None:
    from edgekp.models import blocks, fusion

    model = create_model("kp_hvit_s")
    kinds = {type(m) for m in model.modules()}
    for cls in (
        blocks.ShallowFeatureExtraction,
        blocks.ImageSplit,
        blocks.HierarchicalFeatureExtraction,
        blocks.FirstLevel,
        blocks.ReferenceNetwork1,
        blocks.ReferenceNetwork,
        blocks.SecondLevel,
        blocks.EmbeddingTransformModule,
        blocks.LocalPositionEmbedding,
        blocks.TransformerModule,
        blocks.LocalMergeTransformModule,
        blocks.LocalMerge,
        fusion.FeatureFusion,
        fusion.FeatureSemanticEnhancement,
        fusion.ChannelAttention,
        fusion.ConnectionModule,
        fusion.FullyConnectedHead,
    ):
        assert cls in kinds, cls.__name__
    assert len(model.hierarchy.level1.ref1) == 2


def test_kp_hvit_s_meets_its_size_targets() -> None:
    model = create_model("kp_hvit_s")
    params = count_parameters(model)
    flops = count_flops(model, 128)  # FlopCounterMode: 2 FLOPs per multiply-add
    assert params <= 1_500_000, params
    assert flops <= 350_000_000, flops


def test_variants_are_ordered_by_cost() -> None:
    costs = [count_parameters(create_model(n)) for n in ("kp_hvit_test", "kp_hvit_t", "kp_hvit_s", "kp_hvit_b")]
    assert costs == sorted(costs)


@pytest.mark.parametrize(
    "options",
    [
        {"attn_kernel": "relu", "decode": "sigmoid", "act": "hardswish"},
        {"input_size": 192, "pool_size": 2},
        {"input_size": 256, "stem_channels": [8, 8, 16], "patch_size": 1},
    ],
)
def test_config_options_build_and_run(options: dict) -> None:
    model = create_model("kp_hvit_test", **options).eval()
    size = model.config.input_size
    with torch.no_grad():
        y = model(torch.rand(1, 3, size, size))
    assert y.shape == (1, 68, 2) and torch.isfinite(y).all()
    if model.config.decode == "sigmoid":
        assert ((y >= 0) & (y <= 1)).all()


def test_quantization_friendly_variants_keep_their_parents_layout() -> None:
    """kp_hvit_s_q / kp_hvit_t_q: the parents' stages with the relu kernel, the fused denominator and
    BatchNorm token norms; BatchNorm folds away in the inference form."""
    from edgekp.models.norms import TokenBatchNorm

    for name, parent in (("kp_hvit_s_q", "kp_hvit_s"), ("kp_hvit_t_q", "kp_hvit_t")):
        q, p = create_model(name).config, create_model(parent).config
        assert (q.attn_kernel, q.attn_fused_denominator, q.token_norm) == ("relu", True, "batch")
        assert q.stages() == p.stages() and q.act == p.act
        model = create_model(name).eval()
        assert not any(isinstance(m, TokenBatchNorm) for m in model.inference_form().modules())


def test_kp_hvit_t_ql_is_what_its_prune_recipe_leaves_of_kp_hvit_t_q() -> None:
    from pathlib import Path

    from edgekp.config.loader import load_recipe
    from edgekp.config.prune import PruneRecipe
    from edgekp.models import model_config

    recipe = load_recipe(
        Path(__file__).resolve().parents[2] / "recipes" / "prune" / "t_q_blocks2_heads50.yaml", expect=PruneRecipe
    )
    parent, lite = model_config("kp_hvit_t_q"), model_config("kp_hvit_t_ql")
    for stage in ("ref1", "ref2", "ref3", "level2"):
        assert getattr(lite, stage).depth == getattr(parent, stage).depth - recipe.structures.blocks.get(stage, 0), (
            stage
        )
    assert sum(sum(s.heads) for s in lite.stages().values()) <= round(
        sum(sum(s.heads) for s in parent.stages().values()) * (1 - recipe.ratio)
    )
    assert lite.input_norm == "folded" and recipe.structures.fold_input_norm
    assert (
        lite.replace(ref1=parent.ref1, ref2=parent.ref2, ref3=parent.ref3, level2=parent.level2, input_norm="graph")
        == parent
    )


def test_kp_hvit_t_qf_is_kp_hvit_t_q_folded() -> None:
    from pathlib import Path

    from edgekp.config.loader import load_recipe
    from edgekp.config.prune import PruneRecipe
    from edgekp.models import model_config

    recipe = load_recipe(
        Path(__file__).resolve().parents[2] / "recipes" / "prune" / "t_q_fold.yaml", expect=PruneRecipe
    )
    assert recipe.ratio == 0 and not any(recipe.structures.blocks.values()) and recipe.structures.fold_input_norm
    assert model_config("kp_hvit_t_qf") == model_config("kp_hvit_t_q").replace(input_norm="folded")

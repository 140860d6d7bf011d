"""fold_input_normalization: the normalization moves into the first convolution, exactly inside the image."""

from __future__ import annotations

import torch

from edgekp.models import create_model, model_from_config
from edgekp.models.reparam import fold_input_normalization


def _model_with_real_statistics() -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model("kp_hvit_test", input_size=64).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
    return model


def test_folded_stem_matches_inside_the_image_and_the_graph_loses_its_sub_and_mul() -> None:
    model = _model_with_real_statistics()
    folded = fold_input_normalization(model).eval()
    assert folded.config.input_norm == "folded" and model.config.input_norm == "graph"
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        reference = model.stem[0](model.normalize(x))
        out = folded.stem[0](x)
    # Output row/column 0 read the padding (raw zeros now, normalized zeros before); the rest is exact.
    torch.testing.assert_close(out[..., 1:, 1:], reference[..., 1:, 1:], rtol=1e-5, atol=1e-5)
    assert (out - reference)[..., :1, :].abs().max() > 1e-3

    def ops(m: torch.nn.Module) -> list[str]:
        graph = torch.export.export(m, (x,)).graph
        return [str(n.target) for n in graph.nodes if n.op == "call_function"]

    assert "aten.sub.Tensor" in ops(model) and "aten.sub.Tensor" not in ops(folded)
    assert ops(folded).count("aten.mul.Tensor") == ops(model).count("aten.mul.Tensor") - 1


def test_a_folded_model_rebuilds_from_its_config() -> None:
    folded = fold_input_normalization(_model_with_real_statistics()).eval()
    rebuilt = model_from_config(folded.config.to_dict()).eval()
    rebuilt.load_state_dict(folded.state_dict())
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), folded(x), rtol=0, atol=0)
    assert fold_input_normalization(folded) is folded


def test_a_prune_recipe_can_fold_the_input_normalization() -> None:
    from edgekp.compress.heads.pruner import remove_structures
    from edgekp.config.prune import StructureSpec

    model = _model_with_real_statistics()
    kept, info = remove_structures(model, StructureSpec())
    assert kept is model and info == {}
    folded, info = remove_structures(model, StructureSpec(fold_input_norm=True))
    assert folded.config.input_norm == "folded" and info["fold_input_norm"] is True

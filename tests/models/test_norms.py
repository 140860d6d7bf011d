"""Token normalizers: BatchNorm over token channels trains like BatchNorm and folds away for export."""

from __future__ import annotations

import pytest
import torch

from edgekp.errors import ConfigError
from edgekp.models import create_model
from edgekp.models.norms import TokenBatchNorm, fold_token_norms


def test_token_batchnorm_eval_is_the_batchnorm_of_the_channels() -> None:
    torch.manual_seed(0)
    norm = TokenBatchNorm(8)
    x = torch.randn(4, 10, 8) * 3 + 1
    norm.train()(x)  # updates running statistics over batch and tokens
    norm.eval()
    reference = torch.nn.functional.batch_norm(
        x.transpose(1, 2), norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0, norm.eps
    ).transpose(1, 2)
    assert torch.allclose(norm(x), reference, atol=1e-5)


@pytest.mark.parametrize("qkv_bias", [True, False])
def test_folded_model_computes_the_same_without_norm_ops(qkv_bias: bool) -> None:
    torch.manual_seed(0)
    model = create_model("kp_hvit_test", input_size=64, token_norm="batch", qkv_bias=qkv_bias)
    with torch.no_grad():
        model.train()(torch.rand(8, 3, 64, 64))
        for m in model.modules():
            if isinstance(m, TokenBatchNorm):  # non-trivial affine, so a wrong fold shows
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    model.eval()
    folded = model.inference_form()
    assert folded is not model and not any(isinstance(m, TokenBatchNorm) for m in folded.modules())
    assert any(isinstance(m, TokenBatchNorm) for m in model.modules())  # the original is untouched
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(folded(x), model(x), atol=1e-5)
    assert fold_token_norms(folded) == 0
    from edgekp.models import model_from_config

    rebuilt = model_from_config(folded.config.to_dict()).eval()  # the folded model's config rebuilds it
    rebuilt.load_state_dict(folded.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), model(x), atol=1e-5)


def test_layernorm_model_has_nothing_to_fold_and_token_norm_is_checked() -> None:
    model = create_model("kp_hvit_test", input_size=64)
    assert model.inference_form() is model
    with pytest.raises(ConfigError, match="token_norm must be one of"):
        create_model("kp_hvit_test", input_size=64, token_norm="group")

"""tflite.int8_ops: op kinds LiteRT's quantizer leaves float can be made int8 (matmuls, adds, ...)."""

from __future__ import annotations

import numpy as np
import pytest
from face_fixtures import require_backend, scaled_tiny_model

from edgekp.config.export import ExportRecipe
from edgekp.errors import ConfigError
from edgekp.export.tflite import convert_litert, int8_op_counts

SIZE = 64


def test_the_default_recipe_adds_no_int8_ops() -> None:
    # Measured slower (int8 BATCH_MATMUL is not an XNNPACK kernel): opt-in only.
    assert ExportRecipe().tflite.int8_ops == []


def test_the_config_offers_exactly_the_ops_the_quantizer_knows() -> None:
    from typing import get_args

    from edgekp.config.export import TFLiteOptions
    from edgekp.export.pt2e_scope import EXTRA_INT8_OPS

    offered = get_args(get_args(TFLiteOptions.model_fields["int8_ops"].annotation)[0])
    assert set(offered) == set(EXTRA_INT8_OPS)


def test_an_unknown_op_is_a_config_error(tmp_path) -> None:
    require_backend("tflite", "litert")
    with pytest.raises(ConfigError, match="unknown op softmax"):
        convert_litert(
            scaled_tiny_model(SIZE, 0), SIZE, "int8", "static", None, tmp_path / "m.tflite", (), ("softmax",)
        )
    assert not (tmp_path / "m.tflite").exists()


@pytest.mark.slow
def test_int8_ops_quantize_the_attention_matmuls_but_never_the_division(tmp_path) -> None:
    require_backend("tflite", "litert")
    # The quantization-friendly attention (kp_hvit_*_q): ReLU features, one matmul for both terms.
    model = scaled_tiny_model(SIZE, 0, attn_kernel="relu", attn_fused_denominator=True)
    attention_blocks = sum(type(m).__name__ == "LinearAttention" for m in model.modules())
    calib = np.random.default_rng(0).random((8, 3, SIZE, SIZE), dtype=np.float32)
    counts = {}
    for ops in ((), ("matmul", "add")):
        path = tmp_path / f"{'-'.join(ops) or 'none'}.tflite"
        convert_litert(model, SIZE, "int8", "static", calib, path, ("head",), ops)
        counts[ops] = int8_op_counts(path)
    assert counts[()].get("BATCH_MATMUL", 0) == 0
    assert counts[("matmul", "add")]["BATCH_MATMUL"] == 2 * attention_blocks  # k^T v and q [kv | mean k^T]
    assert counts[("matmul", "add")].get("ADD", 0) > counts[()].get("ADD", 0)
    assert "DIV" not in counts[("matmul", "add")]  # int8 DIV aborts where a denominator rounds to zero

"""Folding the weights' QuantizeLinear nodes of a Q/DQ graph into int8 initializers changes nothing
onnxruntime computes and makes the file smaller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgekp.export.onnx_qdq import fold_weight_quantizers


def _qdq_conv(path: Path, per_channel: bool) -> Path:
    rng = np.random.default_rng(0)
    weight = rng.normal(0, 0.5, (8, 3, 3, 3)).astype(np.float32)
    scale = (np.abs(weight).reshape(8, -1).max(1) / 127).astype(np.float32) if per_channel else np.float32(np.abs(weight).max() / 127)
    zero = np.zeros(8 if per_channel else (), np.int8)
    act_scale, act_zero = np.float32(1 / 255), np.uint8(0)

    def const(name: str, value: np.ndarray) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name + "_v"))

    nodes = [
        const("ws", scale), const("wz", zero), const("xs", act_scale), const("xz", act_zero),
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
        helper.make_node("QuantizeLinear", ["w", "ws", "wz"], ["wq"], axis=0),
        helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], axis=0),
        helper.make_node("Conv", ["xd", "wd"], ["y"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])],
                              initializer=[numpy_helper.from_array(weight, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("per_channel", [True, False])
def test_folded_weights_are_int8_and_outputs_identical(tmp_path: Path, per_channel: bool) -> None:
    import onnxruntime as ort

    original = _qdq_conv(tmp_path / "a.onnx", per_channel)
    folded = _qdq_conv(tmp_path / "b.onnx", per_channel)
    assert fold_weight_quantizers(folded) == 1
    graph = onnx.load(str(folded)).graph
    assert [n.op_type for n in graph.node].count("QuantizeLinear") == 1  # the activation's stays
    assert [i.data_type for i in graph.initializer] == [TensorProto.INT8] and folded.stat().st_size < original.stat().st_size
    x = np.random.default_rng(1).random((1, 3, 16, 16), dtype=np.float32)
    run = lambda p: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]  # noqa: E731
    np.testing.assert_array_equal(run(original), run(folded))

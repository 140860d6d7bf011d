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
    scale = (
        (np.abs(weight).reshape(8, -1).max(1) / 127).astype(np.float32)
        if per_channel
        else np.float32(np.abs(weight).max() / 127)
    )
    zero = np.zeros(8 if per_channel else (), np.int8)
    act_scale, act_zero = np.float32(1 / 255), np.uint8(0)

    def const(name: str, value: np.ndarray) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name + "_v"))

    nodes = [
        const("ws", scale),
        const("wz", zero),
        const("xs", act_scale),
        const("xz", act_zero),
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
        helper.make_node("QuantizeLinear", ["w", "ws", "wz"], ["wq"], axis=0),
        helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], axis=0),
        helper.make_node("Conv", ["xd", "wd"], ["y"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])],
        initializer=[numpy_helper.from_array(weight, "w")],
    )
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
    assert [i.data_type for i in graph.initializer] == [
        TensorProto.INT8
    ] and folded.stat().st_size < original.stat().st_size
    x = np.random.default_rng(1).random((1, 3, 16, 16), dtype=np.float32)
    run = lambda p: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]  # noqa: E731
    np.testing.assert_array_equal(run(original), run(folded))


def test_a_tie_is_folded_as_the_fake_quantizer_rounded_it(tmp_path: Path) -> None:
    """A weight exactly half a step off the grid (NNCF's overflow fix puts each channel's largest there):
    QuantizeLinear's own rounding (half to even) gives one integer, the QAT model's fake-quantizer may
    have given the other. With the fake-quantized weights passed in, the file holds the QAT model's."""
    path = _qdq_conv(tmp_path / "t.onnx", per_channel=True)
    model = onnx.load(str(path))
    weight = numpy_helper.to_array(model.graph.initializer[0]).copy()
    scale_node = next(n for n in model.graph.node if n.output[0] == "ws")
    scale = numpy_helper.to_array(scale_node.attribute[0].t).copy()
    scale[0] = 2.0**-7  # a power of two, so that w / scale is exactly 63.5 in float32
    scale_node.attribute[0].t.CopyFrom(numpy_helper.from_array(scale, "ws_v"))
    weight[0] = np.clip(weight[0], -0.49, 0.49)
    weight[0, 0, 0, 0] = 63.5 * scale[0]  # a tie: rint gives 64
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(weight, "w"))
    onnx.save(model, str(path))
    grid = np.rint(weight / scale[:, None, None, None]) * scale[:, None, None, None]
    grid[0, 0, 0, 0] = 63 * scale[0]  # the fake-quantizer rounded the tie down
    node = next(n for n in model.graph.node if n.op_type == "QuantizeLinear" and n.input[0] == "w")
    node.name = "/conv/stem/0/0/conv2d/0__1.0/QuantizeLinear"  # NNCF's naming: .../<quantizer id>/QuantizeLinear
    onnx.save(model, str(path))
    plain = tmp_path / "plain.onnx"
    onnx.save(model, str(plain))
    fold_weight_quantizers(plain)
    fold_weight_quantizers(path, {"stem/0/0/conv2d/0__1.0": grid.astype(np.float32)})
    folded = {p.name: numpy_helper.to_array(onnx.load(str(p)).graph.initializer[0]) for p in (plain, path)}
    assert folded["plain.onnx"][0, 0, 0, 0] == 64 and folded["t.onnx"][0, 0, 0, 0] == 63
    np.testing.assert_array_equal(folded["t.onnx"].reshape(-1)[1:], folded["plain.onnx"].reshape(-1)[1:])


def test_nncf_int8_file_holds_the_fake_quantized_weights(tmp_path: Path, overflow_fix: str = "enable") -> None:
    """Right after NNCF's calibration (where the overflow fix leaves every channel's largest weight on a
    tie), the int8 weights times their scales are exactly the QAT model's fake-quantized weights, for
    every weight quantizer. Both sides are NNCF's and the file's own numbers: no CPU changes them."""
    import torch
    from face_fixtures import scaled_tiny_model

    from edgekp.compress import qat_nncf
    from edgekp.config.qat import QatRecipe
    from edgekp.export.base import ExportSpec, get_target
    from edgekp.export.onnx_qdq import nncf_weight_grid

    torch.manual_seed(0)
    recipe = QatRecipe.model_validate({"quantizer": "nncf", "target": "onnx", "overflow_fix": overflow_fix})
    calib = np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32)
    model = qat_nncf.prepare(scaled_tiny_model(64), calib, recipe, [])
    grid = nncf_weight_grid(model, 64)
    artifact = get_target("onnx").convert_qat(model, ExportSpec(64, 68, "int8", "qat-nncf"), tmp_path)
    graph = onnx.load(str(artifact)).graph
    ints = {
        i.name: numpy_helper.to_array(i)
        for i in graph.initializer
        if i.data_type in (TensorProto.INT8, TensorProto.UINT8)
    }
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node if n.op_type == "Constant"}
    checked = 0
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in ints:
            continue
        key = next(k for k in grid if node.name.endswith("/" + k + "/DequantizeLinear"))
        q, scale = ints[node.input[0]].astype(np.float32), consts[node.input[1]]
        shape = [1] * q.ndim
        shape[next((a.i for a in node.attribute if a.name == "axis"), 1)] = scale.size
        np.testing.assert_allclose(
            q * scale.reshape(shape), grid[key], rtol=0, atol=1e-6 * float(np.abs(grid[key]).max())
        )
        checked += 1
    # LayerNorm weights reach their QuantizeLinear through an Identity node: not folded, quantized at run time.
    assert checked == len(ints) == len([k for k in grid if "layer_norm" not in k]) > 10
    if overflow_fix == "enable":  # the overflow fix's 7-bit grid: most int8 weights within +-64
        signed = [v for v in ints.values() if v.dtype == np.int8]
        assert sum(int(np.abs(v.astype(int)).max()) <= 64 for v in signed) > len(signed) // 2

"""Store the weights of a Q/DQ ONNX graph as int8.

NNCF's ONNX export of a fake-quantized model keeps every weight in float and quantizes it at run
time (float initializer -> QuantizeLinear -> DequantizeLinear). That file is larger than the fp32
model, and onnxruntime re-quantizes the weights on every call. Here each QuantizeLinear fed by a
constant is evaluated once, exactly as the operator defines it (divide by the scale, round half to
even, add the zero point, saturate), and replaced by its int8 result: the form onnxruntime's own
quantizer writes (int8 initializer -> DequantizeLinear), numerically identical to the original.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_SATURATE = {np.dtype(np.int8): (-128, 127), np.dtype(np.uint8): (0, 255)}


def _constants(graph) -> dict[str, np.ndarray]:  # noqa: ANN001 - onnx GraphProto
    from onnx import numpy_helper

    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def _quantize(weight: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, axis: int) -> np.ndarray:
    if scale.ndim == 1 and scale.size > 1:  # per-channel: scale runs along `axis`
        shape = [1] * weight.ndim
        shape[axis] = scale.size
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    low, high = _SATURATE[zero_point.dtype]
    q = np.rint(weight.astype(np.float32) / scale.astype(np.float32)) + zero_point.astype(np.int32)
    return np.clip(q, low, high).astype(zero_point.dtype)


def fold_weight_quantizers(path: Path) -> int:
    """Rewrite ``path`` in place with int8 weights; returns how many QuantizeLinear nodes were folded."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    constants = _constants(graph)
    initializers = {init.name: init for init in graph.initializer}
    consumers: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    folded, keep = 0, []
    for node in graph.node:
        weight = node.input[0] if node.op_type == "QuantizeLinear" else None
        if weight not in initializers or len(node.input) < 3 or any(i not in constants for i in node.input[1:3]):
            keep.append(node)
            continue
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        scale, zero_point = constants[node.input[1]], constants[node.input[2]]
        q = _quantize(constants[weight], scale, zero_point, axis if axis >= 0 else axis + len(initializers[weight].dims))
        graph.initializer.append(numpy_helper.from_array(q, node.output[0]))
        consumers[weight] -= 1
        if consumers[weight] == 0:
            graph.initializer.remove(initializers[weight])
        folded += 1
    del graph.node[:]
    graph.node.extend(keep)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return folded

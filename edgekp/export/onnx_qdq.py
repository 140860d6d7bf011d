"""Store the weights of a Q/DQ ONNX graph as int8.

NNCF's ONNX export of a fake-quantized model keeps every weight in float and quantizes it at run
time (float initializer -> QuantizeLinear -> DequantizeLinear). That file is larger than the fp32
model, and onnxruntime re-quantizes the weights on every call. Here each QuantizeLinear fed by a
constant is evaluated once, exactly as the operator defines it (divide by the scale, round half to
even, add the zero point, saturate), and replaced by its int8 result: the form onnxruntime's own
quantizer writes (int8 initializer -> DequantizeLinear), numerically identical to the original.

Ties. With NNCF's overflow fix (7-bit weights in an int8 grid) the scale is twice each channel's
largest |weight|, so that weight sits exactly on a half step (63.5). NNCF's fake-quant rounds it in
a shifted domain ((w - low) / range * (levels - 1)), QuantizeLinear rounds w / scale half to even:
they settle that tie differently (and float error or FMA can push it either way), so the int8 file
and the QAT model differed by one step on the largest weight of every channel (~0.5 % of the
output on every image). ``fold_weight_quantizers(path, grid)`` therefore takes the fake-quantized
weights NNCF itself computed (``nncf_weight_grid``): values on the grid, which divide by the scale
to integers with no tie left to break.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekp.logs import get_logger

log = get_logger(__name__)

_SATURATE = {np.dtype(np.int8): (-128, 127), np.dtype(np.uint8): (0, 255)}


def _constants(graph) -> dict[str, np.ndarray]:
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


_HOOK_PREFIXES = ("__nncf_hooks.pre_hooks.", "__nncf_hooks.post_hooks.")


def nncf_weight_grid(model: Any, input_size: int) -> dict[str, np.ndarray]:
    """The fake-quantized weights of an NNCF model, keyed by quantizer id (``stem/0/0/conv2d/0__1.0``).

    One forward pass with hooks on the quantizers; a weight quantizer is one whose input is a
    Parameter (activation quantizers see computed tensors and are skipped).
    """
    import torch
    from nncf.torch.quantization.layers import BaseQuantizer

    grid: dict[str, np.ndarray] = {}
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, BaseQuantizer):
            key = next((name[len(p) :] for p in _HOOK_PREFIXES if name.startswith(p)), name)

            def keep(_m: Any, args: tuple, out: Any, key: str = key) -> None:
                if isinstance(args[0], torch.nn.Parameter):
                    grid[key] = out.detach().cpu().numpy().astype(np.float32)

            handles.append(module.register_forward_hook(keep))
    try:
        with torch.no_grad():
            chans = int(getattr(getattr(model, "config", None), "in_chans", 3))
            model.eval()(torch.zeros(1, chans, input_size, input_size))
    finally:
        for handle in handles:
            handle.remove()
    return grid


def _grid_value(node_name: str, grid: dict[str, np.ndarray], shape: tuple[int, ...]) -> np.ndarray | None:
    # NNCF names each exported QuantizeLinear ".../<quantizer id>/QuantizeLinear".
    for key, value in grid.items():
        if node_name.endswith("/" + key + "/QuantizeLinear") and value.shape == shape:
            return value
    return None


def fold_weight_quantizers(path: Path, grid: dict[str, np.ndarray] | None = None) -> int:
    """Rewrite ``path`` in place with int8 weights; returns how many QuantizeLinear nodes were folded.

    ``grid``: NNCF's own fake-quantized weights (``nncf_weight_grid``); a weight found there is folded
    from it, so the file's integers are the QAT model's even on rounding ties.
    """
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
    folded, from_grid, keep = 0, 0, []
    for node in graph.node:
        weight = node.input[0] if node.op_type == "QuantizeLinear" else None
        if weight not in initializers or len(node.input) < 3 or any(i not in constants for i in node.input[1:3]):
            keep.append(node)
            continue
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        scale, zero_point = constants[node.input[1]], constants[node.input[2]]
        value = constants[weight]
        on_grid = _grid_value(node.name, grid, value.shape) if grid else None
        from_grid += on_grid is not None
        q = _quantize(
            value if on_grid is None else on_grid,
            scale,
            zero_point,
            axis if axis >= 0 else axis + len(initializers[weight].dims),
        )
        graph.initializer.append(numpy_helper.from_array(q, node.output[0]))
        consumers[weight] -= 1
        if consumers[weight] == 0:
            graph.initializer.remove(initializers[weight])
        folded += 1
    del graph.node[:]
    graph.node.extend(keep)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    log.info(
        "onnx Q/DQ: %d weight quantizers folded to int8 (%d from NNCF's fake-quantized weights)", folded, from_grid
    )
    return folded

"""CoreML QAT: coremltools.optimize.torch LinearQuantizer (W8A8) -> fine-tune -> finalize -> int8 ML Program.

The quantizer traces the model with torch.fx. Two things in that trace need fixing, both from the
attention's ``1.0 / length`` (length read from the tensor's shape): an activation observer is put on
that Python float (which then fails at run time), and under ``torch.jit.trace`` the division becomes an
int32 tensor op that MIL's ``inverse`` rejects. One probe pass over the graph drops observers whose
input is not a tensor and folds float scalars into constants (spatial sizes are static; only the
batch varies, and no float is derived from it).

CoreML executes only on Apple platforms: on Linux the .mlpackage is verified structurally (quantize /
dequantize op counts); accuracy and latency need a macOS host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgekp.config.qat import QatRecipe
from edgekp.logs import get_logger

log = get_logger(__name__)


def _config(ignored: list[str]) -> Any:
    import coremltools.optimize.torch.quantization as ctq

    # milestones=None: observers and fake quantization stay on from the first step (QAT from the start).
    return ctq.LinearQuantizerConfig.from_dict(
        {
            "global_config": {
                "quantization_scheme": "symmetric",
                "weight_dtype": "qint8",
                "activation_dtype": "quint8",
            },
            "module_name_configs": {name: None for name in ignored},
        }
    )


def _clean_trace(gm: torch.fx.GraphModule, size: int) -> None:
    """Drop observers on non-tensors and fold Python-float scalars into constants (see module doc)."""
    import torch.fx as fx

    class Probe(fx.Interpreter):
        def __init__(self, module: torch.fx.GraphModule) -> None:
            super().__init__(module)
            self.not_tensor: set[str] = set()
            self.floats: dict[fx.Node, float] = {}

        def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
            if str(target).startswith("activation_post_process") and not isinstance(args[0], torch.Tensor):
                self.not_tensor.add(str(target))
                return args[0]
            return super().call_module(target, args, kwargs)

        def run_node(self, n: fx.Node) -> Any:
            value = super().run_node(n)
            if n.op == "call_function" and isinstance(value, float):
                self.floats[n] = value
            return value

    probe = Probe(gm)
    was_training = gm.training
    gm.eval()  # batch 2 in eval: BatchNorm on 1x1 maps needs no batch statistics
    with torch.no_grad():
        probe.run(torch.rand(2, 3, size, size))
    gm.train(was_training)
    for node in list(gm.graph.nodes):
        if node.op == "call_module" and node.target in probe.not_tensor:
            node.replace_all_uses_with(node.args[0])
            gm.graph.erase_node(node)
    for node, value in probe.floats.items():
        for user in list(node.users):
            user.args = fx.node.map_arg(user.args, lambda a, n=node, v=value: v if a is n else a)
            user.kwargs = fx.node.map_arg(user.kwargs, lambda a, n=node, v=value: v if a is n else a)
    # No dead-code elimination: finalize() looks up every traced node's qconfig by name.
    gm.graph.lint()
    gm.recompile()


def _prepared(model: nn.Module, ignored: list[str]) -> tuple[nn.Module, Any]:
    import coremltools.optimize.torch.quantization as ctq

    size = int(model.config.input_size)
    quantizer = ctq.LinearQuantizer(model, _config(ignored))
    prepared = quantizer.prepare(example_inputs=(torch.rand(1, 3, size, size),), inplace=False)
    _clean_trace(prepared, size)
    from edgekp.compress.qat_pt2e import observe_only_in_training

    prepared.register_forward_pre_hook(observe_only_in_training)  # frozen ranges outside training
    return prepared, quantizer


def prepare(model: nn.Module, calibration: np.ndarray, recipe: QatRecipe, ignored: list[str]) -> nn.Module:
    prepared, _ = _prepared(model, ignored)
    prepared.train()  # observers run in train mode only (see _prepared): set the ranges from the calibration faces
    for m in prepared.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()  # ...without moving the parent's BatchNorm statistics
    with torch.no_grad():
        for start in range(0, len(calibration), 16):
            prepared(torch.from_numpy(calibration[start : start + 16]))
    return prepared.eval()


def quant_state(model: nn.Module) -> Any:
    return {"scheme": "coremltools LinearQuantizer W8A8 symmetric (weights qint8 per-channel, activations quint8)"}


def restore(model: nn.Module, state: Any, state_dict: dict[str, Any], ignored: list[str]) -> nn.Module:
    prepared, _ = _prepared(model, ignored)
    prepared.load_state_dict(state_dict)
    return prepared.eval()


def quantizer_names(model: nn.Module) -> list[str]:
    from torch.ao.quantization import FakeQuantizeBase

    return [name for name, m in model.named_modules() if isinstance(m, FakeQuantizeBase)]


def op_counts(path: Path) -> dict[str, int]:
    """MIL op types of a saved .mlpackage, read without loading it (works on Linux)."""
    import coremltools as ct

    spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    counts: dict[str, int] = {}
    for fn in spec.mlProgram.functions.values():
        for block in fn.block_specializations.values():
            for op in block.operations:
                counts[op.type] = counts.get(op.type, 0) + 1
    return dict(sorted(counts.items()))

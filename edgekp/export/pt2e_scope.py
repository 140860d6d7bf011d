"""A LiteRT PT2E quantizer that leaves named modules in float (PTQ export and QAT alike).

litert-torch's own module-name filter parses ``nn_module_stack``'s keys, whose spelling torch.export
changed, so ``set_module_name(name, None)`` matched nothing; this reads the qualified paths in the
stack's values instead. A module kept in float keeps its op types but computes in float.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Ops LiteRT's quantizer leaves in float that ``int8_ops`` can annotate too (inputs and output int8),
# by name -> their torch.ops.aten overloads. Measured on kp_hvit_t_qf (benchmarks/tflite_int8_scopes.py,
# VNNI host): none of them makes the graph faster. int8 BATCH_MATMUL runs in TFLite's own kernel, not
# XNNPACK (the model 2x slower). config/export.py's TFLiteOptions.int8_ops lists the same names.
_ATEN_OVERLOADS = {
    "matmul": ("matmul.default", "bmm.default"),
    "add": ("add.Tensor",),
    "mul": ("mul.Tensor",),
    "relu": ("relu.default",),
    "gelu": ("gelu.default",),
    "mean": ("mean.dim",),
    "sigmoid": ("sigmoid.default",),
}
EXTRA_INT8_OPS = tuple(_ATEN_OVERLOADS)
# The linear-attention division stays float whatever is asked: an int8 denominator can round to
# its zero point, and TFLite's int8 DIV then aborts the whole invoke.
_NEVER_INT8 = ("normalizer",)


def _aten_targets(ops: Sequence[str]) -> set[Any]:
    import operator

    import torch

    unknown = sorted(set(ops) - set(_ATEN_OVERLOADS))
    if unknown:
        from edgekp.errors import ConfigError

        raise ConfigError(f"int8_ops: unknown op {', '.join(unknown)} (choose from {', '.join(EXTRA_INT8_OPS)})")
    return {operator.attrgetter(overload)(torch.ops.aten) for op in ops for overload in _ATEN_OVERLOADS[op]}


def inside(node: Any, module_name: str) -> bool:
    """Whether an exported graph node comes from module ``module_name`` or one inside it."""
    for path, _ in (node.meta.get("nn_module_stack") or {}).values():
        path = str(path).removeprefix("L['self'].")
        if path == module_name or path.startswith(module_name + "."):
            return True
    return False


def _in_never_int8(node: Any) -> bool:
    return any(
        part in str(path).split(".")
        for path, _ in (node.meta.get("nn_module_stack") or {}).values()
        for part in _NEVER_INT8
    )


def scoped_quantizer(
    float_modules: Sequence[str],
    *,
    is_qat: bool = False,
    is_dynamic: bool = False,
    qat_only_ops: list[str] | None = None,
    int8_ops: Sequence[str] = (),
) -> Any:
    """Symmetric per-channel int8 (LiteRT's scheme) on everything outside ``float_modules``.

    ``qat_only_ops`` replaces the quantizer's QAT-only annotators (None: litert-torch's);
    ``int8_ops`` (names from EXTRA_INT8_OPS) are annotated int8 as well, outside ``float_modules``."""
    from litert_torch.quantize import pt2e_quantizer as pq
    from litert_torch.quantize import pt2e_quantizer_utils as pqu
    from torchao.quantization.pt2e.quantizer import QuantizationAnnotation

    extra_targets = _aten_targets(int8_ops)

    class ScopedQuantizer(pq.PT2EQuantizer):
        def __init__(self) -> None:
            super().__init__()
            self.float_modules = list(float_modules)
            if qat_only_ops is not None:
                self.STATIC_QAT_ONLY_OPS = list(qat_only_ops)

        def _keep(self, node: Any) -> bool:
            return not any(inside(node, name) for name in self.float_modules)

        def _annotate_for_static_quantization_config(self, model: Any) -> Any:
            model = self._annotate_all_static_patterns(model, self.global_config, self._keep)
            return self._annotate_extra(model) if extra_targets else model

        def _annotate_extra(self, model: Any) -> Any:
            import torch

            config = self.global_config
            for node in model.graph.nodes:
                if (
                    node.op != "call_function"
                    or node.target not in extra_targets
                    or not self._keep(node)
                    or _in_never_int8(node)
                ):
                    continue
                done = node.meta.get("quantization_annotation")
                if done is not None and done._annotated:  # a fused pattern of LiteRT's own got there first
                    continue
                inputs = {arg: pqu.get_input_act_qspec(config) for arg in node.args if isinstance(arg, torch.fx.Node)}
                node.meta["quantization_annotation"] = QuantizationAnnotation(
                    input_qspec_map=inputs, output_qspec=pqu.get_output_act_qspec(config), _annotated=True
                )
            return model

        def _annotate_for_dynamic_quantization_config(self, model: Any) -> Any:
            return self._annotate_all_dynamic_patterns(model, self.global_config, self._keep)

    config = pq.get_symmetric_quantization_config(is_per_channel=True, is_qat=is_qat, is_dynamic=is_dynamic)
    return ScopedQuantizer().set_global(config)

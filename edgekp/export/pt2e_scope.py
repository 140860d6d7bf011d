"""A LiteRT PT2E quantizer that leaves named modules in float (PTQ export and QAT alike).

litert-torch's own module-name filter parses ``nn_module_stack``'s keys, whose spelling torch.export
changed, so ``set_module_name(name, None)`` matched nothing; this reads the qualified paths in the
stack's values instead. A module kept in float keeps its op types but computes in float.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def inside(node: Any, module_name: str) -> bool:
    """Whether an exported graph node comes from module ``module_name`` or one inside it."""
    for path, _ in (node.meta.get("nn_module_stack") or {}).values():
        path = str(path).removeprefix("L['self'].")
        if path == module_name or path.startswith(module_name + "."):
            return True
    return False


def scoped_quantizer(float_modules: Sequence[str], *, is_qat: bool = False, is_dynamic: bool = False,
                     qat_only_ops: list[str] | None = None) -> Any:
    """Symmetric per-channel int8 (LiteRT's scheme) on everything outside ``float_modules``.

    ``qat_only_ops`` replaces the quantizer's QAT-only annotators (None: litert-torch's)."""
    from litert_torch.quantize import pt2e_quantizer as pq

    class ScopedQuantizer(pq.PT2EQuantizer):
        def __init__(self) -> None:
            super().__init__()
            self.float_modules = list(float_modules)
            if qat_only_ops is not None:
                self.STATIC_QAT_ONLY_OPS = list(qat_only_ops)

        def _keep(self, node: Any) -> bool:
            return not any(inside(node, name) for name in self.float_modules)

        def _annotate_for_static_quantization_config(self, model: Any) -> Any:
            return self._annotate_all_static_patterns(model, self.global_config, self._keep)

        def _annotate_for_dynamic_quantization_config(self, model: Any) -> Any:
            return self._annotate_all_dynamic_patterns(model, self.global_config, self._keep)

    config = pq.get_symmetric_quantization_config(is_per_channel=True, is_qat=is_qat, is_dynamic=is_dynamic)
    return ScopedQuantizer().set_global(config)

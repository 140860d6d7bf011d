"""Export: one Target per runtime behind one interface; parity, metadata and lineage done once.

from edgekp.export import get_target, list_targets, export_one, ExportRequest

A new target: declare its options class (edgekp.config.export.declare_target), subclass Target and
decorate it with register_target (tests/export/test_custom_target.py does it outside the package).
"""

from edgekp.export.base import (
    PRECISIONS,
    Capabilities,
    ExportSpec,
    Route,
    Runner,
    Target,
    TorchRunner,
    get_target,
    list_targets,
    register_target,
    target_for_suffix,
    unregister_target,
)

__all__ = [
    "PRECISIONS",
    "Capabilities",
    "ExportRequest",
    "ExportSpec",
    "Route",
    "Runner",
    "Target",
    "TorchRunner",
    "export_many",
    "export_one",
    "get_target",
    "list_targets",
    "load_calibration",
    "register_target",
    "target_for_suffix",
    "unregister_target",
]


def __getattr__(name: str):  # the pipeline pulls in data/model code: import it only when asked
    if name in ("ExportRequest", "export_one", "export_many"):
        from edgekp.export import pipeline

        return getattr(pipeline, name)
    if name == "load_calibration":
        from edgekp.data.calibration import load_calibration

        return load_calibration
    raise AttributeError(name)

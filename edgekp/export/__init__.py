"""Export: one Target per runtime behind one interface; parity, metadata and lineage done once.

from edgekp.export import get_target, list_targets, export_one, ExportRequest
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
]


def __getattr__(name: str):  # the pipeline pulls in data/model code: import it only when asked
    if name in ("ExportRequest", "export_one", "export_many"):
        from edgekp.export import pipeline

        return getattr(pipeline, name)
    if name == "load_calibration":
        from edgekp.export.calibration import load_calibration

        return load_calibration
    raise AttributeError(name)

"""The checkpoint formats compressors write, registered with the one loader (edgekp.lineage.checkpoints).

Kept apart from the quantizers so that registering costs nothing: the CLI imports edgekp.compress at
start-up, and the QAT machinery (torch, NNCF, ...) is imported only when a QAT checkpoint is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgekp.lineage.checkpoints import LoadedModel, register_format

QAT_FORMAT = "edgekp-qat/1"


def _load_qat(path: Path, state: dict[str, Any]) -> LoadedModel:
    from edgekp.compress.qat import restore_qat_model

    return restore_qat_model(path, state)


register_format(QAT_FORMAT, _load_qat)

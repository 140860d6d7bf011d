"""The report's floors: limits ``edgekp report --strict`` (and a pipeline's ``report.floors``) enforce.

A recipe section, so it lives with the other recipes: the pipeline recipe holds one and the report
reads it, and neither has to import the other.
"""

from __future__ import annotations

from pydantic import Field

from edgekp.config.base import StrictModel


class Floors(StrictModel):
    """Limits ``--strict`` enforces on every edgekp row that was measured (peers are exempt)."""

    nme_max: float | None = Field(None, gt=0, description="NME (fraction of inter-ocular distance) at most this")
    fr_max: float | None = Field(None, ge=0, le=1, description="failure rate at most this")
    auc_min: float | None = Field(None, ge=0, le=1, description="AUC@0.10 at least this")
    delta_nme_max: float | None = Field(None, description="NME minus the run's PyTorch fp32 NME at most this")
    p50_ms_max: float | None = Field(None, gt=0, description="host median latency at most this many ms")

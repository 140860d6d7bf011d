"""Parity: run the artifact and PyTorch on the same faces, compare, gather every failure, raise once.

Numbers are in normalized coordinates (the model's output unit): max/mean abs difference of the
points, and the NME (inter-ocular) of both against the ground truth, so an int8 export is judged
by what it does to accuracy rather than by a raw difference it is expected to have.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edgekp.errors import ExportValidationError


@dataclass(frozen=True)
class Tolerance:
    max_abs: float | None = None  # max |artifact - torch| over every coordinate
    nme_rel: float | None = None  # (NME_artifact - NME_torch) / NME_torch


@dataclass
class Check:
    name: str
    value: float
    limit: float
    passed: bool


@dataclass
class ParityReport:
    target: str
    precision: str
    route: str
    faces: int
    reference: str
    runtime: str
    estimated: bool  # True when the artifact could not run here and a stand-in was measured
    max_abs: float | None = None
    mean_abs: float | None = None
    nme_torch: float | None = None
    nme_artifact: float | None = None
    nme_delta_rel: float | None = None
    presence_max_abs: float | None = None  # max |artifact - torch| of the presence logit (models with that head)
    presence_agreement: float | None = None  # fraction of faces where both decide alike (logit > 0)
    face_set: str = ""  # the parity set's name, for the NME line
    checks: list[Check] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # structural problems and errors
    note: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems and all(c.passed for c in self.checks)

    def failures(self) -> list[str]:
        out = [f"{c.name} = {c.value:.3g} exceeds {c.limit:.3g}" for c in self.checks if not c.passed]
        return out + list(self.problems)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


def _nme(pred: np.ndarray, gt: np.ndarray, scheme: Any) -> float | None:
    if scheme is None:
        return None
    from edgekp.metrics import nme

    # Faces without both outer eye corners labelled (profiles with unlabelled points) have no
    # inter-ocular NME (NaN): the mean is over the faces that have one.
    per_face = nme(pred, gt, scheme)
    return float(np.nanmean(per_face)) if np.isfinite(per_face).any() else None


def compare(
    torch_pred: np.ndarray,
    artifact_pred: np.ndarray,
    gt: np.ndarray | None,
    scheme: Any,
    tolerance: Tolerance,
    report: ParityReport,
) -> ParityReport:
    """Fill ``report`` with the differences and one Check per configured limit."""
    if artifact_pred.shape != torch_pred.shape:
        report.problems.append(f"output shape {artifact_pred.shape} differs from torch {torch_pred.shape}")
        return report
    if not np.all(np.isfinite(artifact_pred)):
        report.problems.append("the artifact produced NaN or inf")
        return report
    diff = np.abs(artifact_pred.astype(np.float64) - torch_pred.astype(np.float64))
    report.max_abs, report.mean_abs = float(diff.max()), float(diff.mean())
    if gt is not None:
        report.nme_torch = _nme(torch_pred, gt, scheme)
        report.nme_artifact = _nme(artifact_pred, gt, scheme)
        if report.nme_torch is not None and report.nme_artifact is not None and report.nme_torch > 0:
            report.nme_delta_rel = (report.nme_artifact - report.nme_torch) / report.nme_torch
    if tolerance.max_abs is not None:
        report.checks.append(Check("max_abs", report.max_abs, tolerance.max_abs, report.max_abs <= tolerance.max_abs))
    if tolerance.nme_rel is not None:
        if report.nme_delta_rel is None:
            report.problems.append("NME tolerance set but NME could not be computed (no scheme or ground truth)")
        else:
            ok = report.nme_delta_rel <= tolerance.nme_rel or math.isclose(report.nme_delta_rel, tolerance.nme_rel)
            report.checks.append(Check("nme_delta_rel", report.nme_delta_rel, tolerance.nme_rel, ok))
    return report


# Presence decisions of an int8 artifact may flip on faces right at the threshold; more is a broken head.
PRESENCE_AGREEMENT_MIN = 0.95


def compare_presence(
    torch_logit: np.ndarray | None, artifact_logit: np.ndarray | None, tolerance: Tolerance, report: ParityReport
) -> None:
    """The presence output of a model that has one: the same limits as the landmarks, in logits."""
    if torch_logit is None:
        return
    if artifact_logit is None:
        report.problems.append("the model has a presence output but the artifact does not")
        return
    diff = np.abs(artifact_logit.reshape(-1).astype(np.float64) - torch_logit.reshape(-1).astype(np.float64))
    report.presence_max_abs = float(diff.max())
    report.presence_agreement = float(np.mean((artifact_logit.reshape(-1) > 0) == (torch_logit.reshape(-1) > 0)))
    if tolerance.max_abs is not None:
        report.checks.append(
            Check(
                "presence_max_abs",
                report.presence_max_abs,
                tolerance.max_abs,
                report.presence_max_abs <= tolerance.max_abs,
            )
        )
    else:
        report.checks.append(
            Check(
                "presence_agreement",
                report.presence_agreement,
                PRESENCE_AGREEMENT_MIN,
                report.presence_agreement >= PRESENCE_AGREEMENT_MIN,
            )
        )


def summary(report: ParityReport) -> str:
    """One human line: what was compared and the numbers."""
    parts = [
        f"{report.target} {report.precision} ({report.route})",
        f"{report.faces} faces",
        f"{report.runtime} vs {report.reference}",
    ]
    if report.max_abs is not None:
        parts.append(f"max abs {report.max_abs:.2e}")
    if report.nme_torch is not None and report.nme_artifact is not None:
        on = f", {report.face_set}" if report.face_set else ""
        parts.append(f"NME {report.nme_artifact:.2%} vs torch {report.nme_torch:.2%} (inter-ocular{on})")
    if report.nme_delta_rel is not None:
        parts.append(f"relative change {report.nme_delta_rel:+.2%}")
    if report.presence_max_abs is not None:
        parts.append(f"presence max abs {report.presence_max_abs:.2e}")
    if report.estimated:
        parts.append("ESTIMATED, not measured on the target runtime")
    return ", ".join(parts)


def raise_if_failed(reports: list[ParityReport]) -> None:
    """One ExportValidationError listing every failure of every report (nothing when all passed)."""
    failed = [r for r in reports if not r.passed]
    if not failed:
        return
    lines = []
    for r in failed:
        lines.append(f"{r.target} {r.precision} ({r.route}): " + "; ".join(r.failures()))
    total = sum(len(r.failures()) for r in failed)
    raise ExportValidationError(f"export failed parity with {total} failure(s): " + " | ".join(lines))

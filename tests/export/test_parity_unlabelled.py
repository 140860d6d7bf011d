"""Parity's NME check on calibration faces with unlabelled points (MERL-RAV profiles: NaN ground truth)."""

from __future__ import annotations

import numpy as np

from edgekp.data.schemes import IBUG68
from edgekp.export.parity import ParityReport, Tolerance, compare


def test_parity_nme_skips_faces_without_an_inter_ocular_normalizer() -> None:
    rng = np.random.default_rng(0)
    gt = rng.uniform(0.2, 0.8, (4, 68, 2))
    gt[1, 36] = np.nan  # an outer eye corner unlabelled: this face has no inter-ocular NME
    gt[2, :17] = np.nan  # jaw unlabelled: still scorable over the rest
    torch_pred = gt + rng.normal(0, 0.01, gt.shape)
    torch_pred[np.isnan(torch_pred)] = 0.5
    artifact_pred = torch_pred + 0.002
    report = compare(
        torch_pred,
        artifact_pred,
        gt,
        IBUG68,
        Tolerance(max_abs=1.0, nme_rel=0.5),
        ParityReport("onnx", "int8", "torch", 4, "torch", "", False),
    )
    assert report.passed, report.failures()
    assert report.nme_torch is not None and np.isfinite(report.nme_torch) and np.isfinite(report.nme_delta_rel)

    all_unscorable = gt.copy()
    all_unscorable[:, 36] = np.nan
    report = compare(
        torch_pred,
        artifact_pred,
        all_unscorable,
        IBUG68,
        Tolerance(nme_rel=0.5),
        ParityReport("onnx", "int8", "torch", 4, "torch", "", False),
    )
    assert not report.passed and "could not be computed" in report.failures()[0]

"""Metrics against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from edgekp import metrics
from edgekp.data.schemes import IBUG68, Scheme
from edgekp.errors import ConfigError, DataError

# A 4-point toy scheme: outer eye corners 0, 1 (10 px apart); eye groups {0} and {1}; box 10 x 40.
TOY = Scheme(name="toy", num_points=4, flip_pairs=((0, 1),), inter_ocular=(0, 1), left_eye=(0,), right_eye=(1,))
GT = np.array([[[0.0, 0.0], [10.0, 0.0], [5.0, 20.0], [5.0, 40.0]]])


def test_nme_inter_ocular_hand_computed():
    pred = GT.copy()
    pred[0, 2] += [3.0, 4.0]  # error 5 px on one of 4 points -> mean 1.25 px / 10 px
    assert metrics.nme(pred, GT, TOY)[0] == pytest.approx(0.125)


def test_nme_box_and_pupil():
    pred = GT.copy()
    pred[0, 3] += [0.0, 8.0]  # 8 px on one point -> 2 px mean
    assert metrics.nme(pred, GT, TOY, "box")[0] == pytest.approx(2.0 / 20.0)  # sqrt(10 * 40) = 20
    assert metrics.nme(pred, GT, TOY, "inter_pupil")[0] == pytest.approx(0.2)


def test_inter_pupil_uses_eye_group_centres():
    gt = np.zeros((1, 68, 2))
    gt[0, :, 0] = np.arange(68)
    gt[0, 36:42] = [0.0, 0.0]
    gt[0, 42:48] = [30.0, 40.0]  # eye centres 50 px apart
    assert metrics.normalizer(gt, IBUG68, "inter_pupil")[0] == pytest.approx(50.0)


def test_failure_rate_auc_exact():
    errors = np.array([0.0, 0.05, 0.10, 0.20])
    assert metrics.failure_rate(errors, 0.10) == pytest.approx(0.25)  # strictly above 0.10
    # areas under each face's step up to 0.1: 0.1, 0.05, 0, 0 -> mean 0.0375 / 0.1
    assert metrics.auc(errors, 0.10) == pytest.approx(0.375)
    assert metrics.auc(np.zeros(3)) == pytest.approx(1.0)
    assert metrics.auc(np.full(3, 0.5)) == 0.0


def test_auc_matches_fine_grid():
    errors = np.random.default_rng(0).uniform(0, 0.15, 500)
    x, y = metrics.ced(errors, 0.10, steps=20000)
    assert metrics.auc(errors, 0.10) == pytest.approx(np.trapezoid(y, x) / 0.10, abs=1e-3)


def test_ced_steps():
    x, y = metrics.ced(np.array([0.02, 0.04]), 0.10, steps=10)
    assert len(x) == 11 and y[0] == 0 and y[2] == 0.5 and y[4] == 1.0 and y[-1] == 1.0


def test_per_landmark_error():
    pred = np.repeat(GT, 2, axis=0)
    pred[0, 1] += [10.0, 0.0]
    np.testing.assert_allclose(metrics.per_landmark_error(pred, np.repeat(GT, 2, axis=0), TOY), [0, 0.5, 0, 0])


def test_summarize_with_pose_split():
    gt = np.repeat(GT, 3, axis=0)
    pred = gt.copy()
    pred[1, :, 0] += 1.0  # NME 0.1
    pred[2, :, 0] += 2.0  # NME 0.2
    out = metrics.summarize(pred, gt, TOY, is_large=np.array([False, False, True]))
    assert out["norm"] == "inter_ocular" and out["n"] == 3
    assert out["nme"] == pytest.approx(0.1)
    assert out["fr"] == pytest.approx(1 / 3)  # 0.10 itself is not a failure
    assert out["nme_large"] == pytest.approx(0.2) and out["n_large"] == 1
    assert out["nme_small"] == pytest.approx(0.05) and out["n_small"] == 2


def test_split_by_bins():
    rows = metrics.split_by_bins(np.array([0.1, 0.2, 0.3]), np.array([5.0, 35.0, 70.0]), [0, 30, 60, 90])
    assert [r["n"] for r in rows] == [1, 1, 1] and rows[1]["nme"] == pytest.approx(0.2)


def test_bad_norm_and_degenerate_ground_truth():
    with pytest.raises(ConfigError, match="unknown NME normalization"):
        metrics.nme(GT, GT, TOY, "diagonal")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="inter_pupil is undefined"):
        metrics.nme(GT, GT, Scheme("x", 4, (), (0, 1)), "inter_pupil")
    with pytest.raises(DataError, match="zero or invalid"):
        metrics.nme(np.zeros((1, 4, 2)), np.zeros((1, 4, 2)), TOY)

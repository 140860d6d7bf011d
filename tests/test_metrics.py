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


# --- visibility, box normalization, yaw bins ---------------------------------------------------


def test_box_nme_over_labelled_points_hand_computed():
    # Point 3 (5, 40) has no location: the box of the labelled points is 10 x 20 -> d = sqrt(200).
    gt = GT.copy()
    gt[0, 3] = [0.0, 0.0]  # the file's placeholder
    vis = np.array([[2, 2, 1, 0]])
    pred = gt.copy()
    pred[0, 2] += [3.0, 4.0]  # 5 px on the occluded-but-located point
    pred[0, 3] = [500.0, 500.0]  # anything at the unlabelled point is ignored
    d = np.sqrt(10.0 * 20.0)
    assert metrics.normalizer(gt, TOY, "box", vis)[0] == pytest.approx(d)
    assert metrics.nme(pred, gt, TOY, "box", vis)[0] == pytest.approx(5.0 / 3 / d)  # mean over the 3 labelled points
    # NaN coordinates mean the same as visibility 0.
    nan_gt = gt.copy()
    nan_gt[0, 3] = np.nan
    assert metrics.nme(pred, nan_gt, TOY, "box")[0] == pytest.approx(5.0 / 3 / d)


def test_inter_ocular_needs_both_corners_and_counts_unscored_faces():
    gt = np.repeat(GT, 2, axis=0)
    vis = np.array([[2, 2, 2, 2], [0, 2, 2, 2]])  # face 1: outer eye corner 0 self-occluded
    pred = gt + 1.0
    out = metrics.summarize(pred, gt, TOY, visibility=vis)
    assert out["n"] == 1 and out["n_unscored"] == 1
    assert out["nme"] == pytest.approx(np.sqrt(2) / 10)
    box = metrics.summarize(pred, gt, TOY, norm="box", visibility=vis)
    assert box["n"] == 2 and box["n_unscored"] == 0


def test_yaw_bin_nme_hand_computed():
    gt = np.repeat(GT, 5, axis=0)  # box 10 x 40 -> d = 20
    pred = gt.copy()
    for i, px in enumerate([2.0, 4.0, 6.0, 8.0, 10.0]):
        pred[i, :, 0] += px  # every point px off -> box NME px / 20
    yaw = np.array([10.0, -29.9, 45.0, -60.0, 88.0])
    out = metrics.summarize(pred, gt, TOY, norm="box", yaw=yaw)
    bins = out["by_yaw"]
    assert list(bins) == ["0-30", "30-60", "60-90"]
    assert bins["0-30"] == {"n": 2, "nme": pytest.approx((0.1 + 0.2) / 2), "norm": "box"}
    assert bins["30-60"] == {"n": 1, "nme": pytest.approx(0.3), "norm": "box"}
    assert bins["60-90"] == {"n": 2, "nme": pytest.approx((0.4 + 0.5) / 2), "norm": "box"}
    assert out["nme"] == pytest.approx(0.3)


def test_subset_scoring_keeps_the_whole_face_normalizer():
    pred = GT.copy()
    pred[0, 2] += [6.0, 8.0]  # 10 px
    pred[0, 3] = np.nan  # a peer that does not predict point 3
    err = metrics.nme(pred, GT, TOY, points=(1, 2))
    assert err[0] == pytest.approx(10.0 / 2 / 10.0)  # inter-ocular 10 px from points 0, 1 of the ground truth

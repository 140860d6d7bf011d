"""Pose-balanced sampling: every strategy meets |N_large - N_small| <= delta or says what is missing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgekp.config.data import BalanceSpec
from edgekp.data.balance import allowed_gap, is_large_pose, plan_balance
from edgekp.errors import DataError


def _mask(n_large: int, n_small: int) -> np.ndarray:
    return np.r_[np.ones(n_large, bool), np.zeros(n_small, bool)]


def _gap_ok(plan, spec: BalanceSpec) -> bool:
    after = plan.counts_after
    return abs(after["large"] - after["small"]) <= allowed_gap(spec, after["total"])


def test_is_large_pose_uses_every_threshold() -> None:
    poses = np.array([[10, 0, 0], [-35, 0, 0], [0, 25, 0], [0, 0, 190], [0, 0, 20]], float)
    spec = BalanceSpec(yaw_threshold=30, pitch_threshold=20, roll_threshold=30)
    assert is_large_pose(poses, spec).tolist() == [False, True, True, True, False]  # roll 190 wraps to -170
    spec = BalanceSpec(yaw_threshold=30)
    assert is_large_pose(poses, spec).tolist() == [False, True, False, False, False]


def test_oversample_repeats_large_faces_marked_augment() -> None:
    spec = BalanceSpec(strategy="oversample", delta=0)
    plan = plan_balance(_mask(7, 50), spec, np.random.default_rng(0))
    assert plan.counts_before == {"large": 7, "small": 50, "total": 57}
    assert plan.counts_after == {"large": 50, "small": 50, "total": 100}
    assert sorted(plan.indices[~plan.augment].tolist()) == list(range(57))  # every original once
    assert (plan.indices[plan.augment] < 7).all()  # copies are large-pose faces
    assert not plan.roll_deg.any()
    assert sorted(plan.indices.tolist()) != plan.indices.tolist()  # shuffled


def test_undersample_drops_small_faces() -> None:
    spec = BalanceSpec(strategy="undersample", delta=0)
    plan = plan_balance(_mask(7, 50), spec, np.random.default_rng(0))
    assert plan.counts_after == {"large": 7, "small": 7, "total": 14}
    assert len(set(plan.indices.tolist())) == 14 and not plan.augment.any()


def test_rotate_turns_small_faces_past_the_roll_threshold() -> None:
    spec = BalanceSpec(strategy="rotate", yaw_threshold=30, roll_threshold=30, delta=0)
    rng = np.random.default_rng(0)
    poses = np.c_[rng.uniform(-20, 20, (60, 2)), rng.uniform(-25, 25, 60)]
    poses[:9, 0] = 50  # nine large-yaw faces
    mask = is_large_pose(poses, spec)
    plan = plan_balance(mask, spec, rng, poses=poses)
    assert plan.counts_after["large"] == plan.counts_after["small"]
    turned = plan.roll_deg != 0
    assert (~mask[plan.indices[turned]]).all()  # only small faces are rotated
    new_roll = poses[plan.indices[turned], 2] + plan.roll_deg[turned]
    assert (np.abs(new_roll) > 30).all() and plan.augment[turned].all()
    # Without poses the turn must still pass the threshold from anywhere inside +-30.
    plan = plan_balance(mask, spec, rng)
    turned = plan.roll_deg[plan.roll_deg != 0]
    assert (np.abs(turned) > 60).all()


def test_already_balanced_is_only_shuffled() -> None:
    plan = plan_balance(_mask(50, 52), BalanceSpec(delta=5), np.random.default_rng(0))
    assert sorted(plan.indices.tolist()) == list(range(102)) and not plan.augment.any()


@pytest.mark.parametrize(
    ("strategy", "mask", "message"),
    [
        (
            "oversample",
            _mask(0, 40),
            "no large-pose faces under yaw>30: oversampling cannot balance; use strategy 'rotate'",
        ),
        ("undersample", _mask(0, 40), "no large-pose faces under yaw>30: undersampling would drop every face"),
        ("rotate", _mask(3, 40), "balance.roll_threshold is not set"),
        ("oversample", _mask(40, 0), "no small-pose faces under yaw>30"),
    ],
)
def test_failure_says_what_the_data_lacks(strategy: str, mask: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(">", ">")) as err:
        plan_balance(mask, BalanceSpec(strategy=strategy, delta=0.05), np.random.default_rng(0))
    assert "\n" not in str(err.value)


def test_rotate_cannot_reduce_large_faces() -> None:
    spec = BalanceSpec(strategy="rotate", roll_threshold=30, delta=0)
    with pytest.raises(DataError, match="rotation only makes large-pose faces; use strategy 'undersample'"):
        plan_balance(_mask(40, 10), spec, np.random.default_rng(0))


@settings(max_examples=150, deadline=None)
@given(
    n_large=st.integers(0, 300),
    n_small=st.integers(0, 300),
    strategy=st.sampled_from(["oversample", "rotate", "undersample"]),
    delta=st.one_of(st.integers(0, 20).map(float), st.floats(0, 0.99)),
    seed=st.integers(0, 2**16),
)
def test_guarantee_or_clear_error(n_large: int, n_small: int, strategy: str, delta: float, seed: int) -> None:
    spec = BalanceSpec(strategy=strategy, delta=delta, roll_threshold=30)
    mask = _mask(n_large, n_small)
    rng = np.random.default_rng(seed)
    try:
        plan = plan_balance(mask, spec, rng)
    except DataError as err:
        text = str(err)
        assert "\n" not in text and ("no " in text or "rotation only" in text or "empty" in text)
        return
    assert _gap_ok(plan, spec)
    assert len(plan.indices) == len(plan.roll_deg) == len(plan.augment) == plan.counts_after["total"]
    assert plan.indices.min() >= 0 and plan.indices.max() < len(mask)


def test_real_training_set_meets_the_bound(shared_data, read_pts) -> None:
    from edgekp.data.pose import estimate_poses

    folders = [shared_data / "300w/helen_train", shared_data / "300w/afw", shared_data / "ytf/train"]
    if not all(f.is_dir() for f in folders):
        pytest.skip("300W/YTF training folders not present")
    points = np.stack([r.points for f in folders for r in read_pts(f)])
    assert len(points) == 870 + 201 + 3462
    spec = BalanceSpec(yaw_threshold=30, strategy="oversample", delta=0.05)
    mask = is_large_pose(estimate_poses(points), spec)
    assert 0 < mask.sum() < len(mask) / 2  # real data: a minority of large-pose faces
    for strategy in ("oversample", "undersample", "rotate"):
        s = spec.model_copy(update={"strategy": strategy, "roll_threshold": 30.0})
        poses = estimate_poses(points)
        plan = plan_balance(is_large_pose(poses, s), s, np.random.default_rng(0), poses=poses)
        assert _gap_ok(plan, s), (strategy, plan.counts_after)

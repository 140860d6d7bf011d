"""The patent's pose-balanced training set: |N_large - N_small| <= delta, or a clear DataError.

``plan_balance`` decides one epoch's samples from a large/small mask; it never touches images.
The trainer applies ``roll_deg`` and augments every sample marked ``augment`` (an oversampled
duplicate or a rotated copy) so that no synthesized sample is an exact copy of its source.

Rotation sense: ``roll_deg`` adds to the face's roll in edgekp's convention (positive = clockwise
on screen, see edgekp.data.pose), which is the sense ``BatchAugmenter`` rotates in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekp.config.data import BalanceSpec
from edgekp.errors import DataError
from edgekp.logs import get_logger

log = get_logger(__name__)

# Rotated copies land this far past the roll threshold (degrees), so that estimation noise and a
# later small augmentation rotation keep them large-pose.
ROLL_MARGIN = (5.0, 30.0)


@dataclass(frozen=True)
class BalancePlan:
    """One epoch: ``indices`` into the face list (shuffled), a roll to apply and an augment flag per sample."""

    indices: np.ndarray
    roll_deg: np.ndarray
    augment: np.ndarray
    counts_before: dict[str, int]
    counts_after: dict[str, int]


def _thresholds(spec: BalanceSpec) -> list[tuple[int, str, float]]:
    named = ((0, "yaw", spec.yaw_threshold), (1, "pitch", spec.pitch_threshold), (2, "roll", spec.roll_threshold))
    return [(i, name, float(t)) for i, name, t in named if t is not None]


def describe_thresholds(spec: BalanceSpec) -> str:
    """'yaw>30' or 'yaw>30 or roll>45': how the spec defines a large-pose face."""
    return " or ".join(f"{name}>{t:g}" for _, name, t in _thresholds(spec)) or "no threshold"


def is_large_pose(poses: np.ndarray, spec: BalanceSpec) -> np.ndarray:
    """N x 3 [yaw, pitch, roll] degrees -> bool N: any |angle| above its threshold (roll wrapped to +-180)."""
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    wrapped = (poses + 180.0) % 360.0 - 180.0
    large = np.zeros(len(poses), dtype=bool)
    for i, _, t in _thresholds(spec):
        large |= np.abs(wrapped[:, i]) > t
    return large


def yaw_bin_counts(poses: np.ndarray) -> dict[str, int]:
    """Faces per |yaw| bin (edgekp.metrics.YAW_BINS: 0-30, 30-60, 60-90), plus those of unknown yaw."""
    from edgekp.data.pose import YAW_BINS

    yaw = np.abs(np.asarray(poses, np.float64).reshape(-1, 3)[:, 0])
    counts = {name: int(((yaw >= lo) & (yaw < hi)).sum()) for name, lo, hi in YAW_BINS}
    counts["unknown"] = int(np.isnan(yaw).sum())
    return counts


def counts_by_dataset(poses: np.ndarray, dataset: np.ndarray, names: list[str]) -> dict[str, dict[str, int]]:
    """{dataset name: yaw_bin_counts} for the faces (or samples) given; ``dataset`` indexes ``names``."""
    dataset = np.asarray(dataset)
    return {name: yaw_bin_counts(poses[dataset == i]) for i, name in enumerate(names) if (dataset == i).any()}


def allowed_gap(spec: BalanceSpec, total: int) -> int:
    """delta as a count: itself when >= 1, else that fraction of the balanced total (rounded down)."""
    return int(spec.delta) if spec.delta >= 1 else int(np.floor(spec.delta * total))


def _counts(n_large: int, n_small: int) -> dict[str, int]:
    return {"large": int(n_large), "small": int(n_small), "total": int(n_large + n_small)}


def _repeat_to(index: np.ndarray, extra: int, rng: np.random.Generator) -> np.ndarray:
    """``extra`` more samples drawn from ``index``: whole repeats, then a random subset, so copies spread evenly."""
    whole, rest = divmod(extra, len(index))
    return np.concatenate([np.tile(index, whole), rng.choice(index, size=rest, replace=False)]).astype(np.int64)


def _rotation_for(current_roll: np.ndarray | None, n: int, spec: BalanceSpec, rng: np.random.Generator) -> np.ndarray:
    """In-plane rotations that carry n small faces to |roll| within threshold + ROLL_MARGIN.

    Without the current roll a small face may sit anywhere in +-threshold, so the turn adds a full
    threshold on top of the target: the result then passes the threshold whatever the start was.
    """
    thr = float(spec.roll_threshold)  # checked by the caller
    hi = min(thr + ROLL_MARGIN[1], 179.0 - (thr if current_roll is None else 0.0))
    lo = min(thr + ROLL_MARGIN[0], hi)
    target = rng.uniform(lo, hi, size=n) * rng.choice([-1.0, 1.0], size=n)
    if current_roll is None:
        return target + np.sign(target) * thr
    return target - current_roll


def plan_balance(
    is_large: np.ndarray, spec: BalanceSpec, rng: np.random.Generator, poses: np.ndarray | None = None
) -> BalancePlan:
    """Choose an epoch's samples so that |N_large - N_small| <= delta (see BalanceSpec), or raise DataError.

    - ``oversample``: repeat the minority group (normally the large-pose faces), copies marked ``augment``;
    - ``rotate``: turn small-pose faces into large-roll faces by in-plane rotation (needs
      ``roll_threshold``); ``poses`` (N x 3) gives their current roll so the result passes it, without
      it a small face is assumed to sit anywhere within +-roll_threshold;
    - ``undersample``: drop faces of the majority group at random.
    A set already within delta is only shuffled.
    """
    is_large = np.asarray(is_large, dtype=bool).reshape(-1)
    large, small = np.flatnonzero(is_large), np.flatnonzero(~is_large)
    n_l, n_s = len(large), len(small)
    before = _counts(n_l, n_s)
    where = describe_thresholds(spec)
    if n_l + n_s == 0:
        raise DataError("no faces to balance: the training set is empty")
    base = np.arange(n_l + n_s, dtype=np.int64)
    roll = np.zeros(len(base))
    augment = np.zeros(len(base), dtype=bool)
    if abs(n_l - n_s) <= allowed_gap(spec, n_l + n_s):
        pass
    elif spec.strategy == "oversample":
        minority, major_n = (large, n_s) if n_l < n_s else (small, n_l)
        if len(minority) == 0:
            kind = "large" if n_l < n_s else "small"
            fix = (
                "use strategy 'rotate' or lower the threshold"
                if kind == "large"
                else "raise the threshold or add frontal faces"
            )
            raise DataError(f"no {kind}-pose faces under {where}: oversampling cannot balance; {fix}")
        extra = _repeat_to(minority, major_n - len(minority), rng)
        base = np.concatenate([base, extra])
        roll = np.concatenate([roll, np.zeros(len(extra))])
        augment = np.concatenate([augment, np.ones(len(extra), dtype=bool)])
    elif spec.strategy == "undersample":
        minority, majority = (large, small) if n_l < n_s else (small, large)
        if len(minority) == 0:
            kind = "large" if n_l < n_s else "small"
            raise DataError(
                f"no {kind}-pose faces under {where}: undersampling would drop every face; "
                f"use strategy {'rotate' if kind == 'large' else 'oversample'} or change the threshold"
            )
        keep = rng.choice(majority, size=len(minority), replace=False)
        base = np.sort(np.concatenate([minority, keep]))
        roll = np.zeros(len(base))
        augment = np.zeros(len(base), dtype=bool)
    else:  # rotate
        if spec.roll_threshold is None:
            raise DataError(
                f"strategy 'rotate' makes large-roll faces but balance.roll_threshold is not set ({where}); "
                "set balance.roll_threshold (e.g. 30)"
            )
        if n_l > n_s:
            raise DataError(
                f"more large-pose ({n_l}) than small-pose ({n_s}) faces under {where}: rotation only makes "
                "large-pose faces; use strategy 'undersample' or 'oversample'"
            )
        k, odd = divmod(n_s - n_l, 2)
        chosen = rng.choice(small, size=k + odd, replace=False)
        current = None if poses is None else np.asarray(poses, np.float64).reshape(-1, 3)[chosen, 2]
        turns = _rotation_for(current, len(chosen), spec, rng)
        # k faces become rotated in place; an odd gap takes one extra rotated copy so the counts match exactly.
        roll[chosen[:k]] = turns[:k]
        augment[chosen[:k]] = True
        if odd:
            base = np.concatenate([base, chosen[k:]])
            roll = np.concatenate([roll, turns[k:]])
            augment = np.concatenate([augment, [True]])
    order = rng.permutation(len(base))
    indices, roll, augment = base[order], roll[order], augment[order]
    large_after = is_large[indices] | (roll != 0)
    after = _counts(int(large_after.sum()), int((~large_after).sum()))
    gap, allowed = abs(after["large"] - after["small"]), allowed_gap(spec, after["total"])
    if gap > allowed:  # the strategies above cannot end here; this guards the guarantee itself
        raise DataError(
            f"pose balance failed: |{after['large']} - {after['small']}| = {gap} > delta {allowed} under {where}"
        )
    log.info(
        "pose balance (%s, %s): before large=%d small=%d, after large=%d small=%d (delta %d)",
        spec.strategy,
        where,
        before["large"],
        before["small"],
        after["large"],
        after["small"],
        allowed,
    )
    return BalancePlan(indices.astype(np.int64), roll.astype(np.float32), augment, before, after)

"""Scores of a tracker on a clip with exact ground truth (edgekp.bench.video_clips), per frame and phase.

- NME: mean point error over the inter-ocular distance (outer eye corners 36, 45) of the frame's
  ground truth, for all 68 points and for the six eye and mouth corners, on in-view frames with a face.
- jitter: over consecutive in-view frames that both have a face, the mean of
  |predicted motion - true motion| of each point, over the frame's inter-ocular distance.
- missed: in-view frames without a face; false: frames of the ``away`` phase with a face.
- re-acquire: frames from the first in-view frame after ``away`` to the first frame with a face.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgekp.bench.video_clips import PHASES, Clip

CORNERS = (36, 39, 42, 45, 48, 54)  # outer/inner eye corners, mouth corners (iBUG 68)


@dataclass(frozen=True)
class FrameScores:
    phase: np.ndarray  # T phase names
    nme68: np.ndarray  # T, NaN where not scored
    nme6: np.ndarray
    jitter68: np.ndarray  # T, NaN where not scored (frame t against t - 1)
    jitter6: np.ndarray
    missed: np.ndarray  # T bool
    false: np.ndarray  # T bool
    reacquire: list[int]  # one per return from ``away``
    corners: np.ndarray  # T x 6 error of each of CORNERS over the inter-ocular distance, NaN where not scored


def _iod(points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(points[..., 36, :] - points[..., 45, :], axis=-1)


def score_clip(clip: Clip, predicted: Sequence[np.ndarray | None]) -> FrameScores:
    """``predicted``: one K x 2 array (frame pixels) or None per frame of ``clip``."""
    n = len(clip.frames)
    if len(predicted) != n:
        raise ValueError(f"{len(predicted)} predictions for {n} frames")
    has = np.array([p is not None for p in predicted])
    pred = np.stack([p if p is not None else np.full_like(clip.points[0], np.nan) for p in predicted])
    gt, iod = clip.points, _iod(clip.points)
    scored = has & clip.in_view
    err = np.linalg.norm(pred - gt, axis=-1) / iod[:, None]
    with warnings.catch_warnings():  # a frame without a face is an all-NaN row on purpose: it scores NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        nme68 = np.where(scored, np.nanmean(err, axis=1), np.nan)
        nme6 = np.where(scored, np.nanmean(err[:, list(CORNERS)], axis=1), np.nan)
    jitter68, jitter6 = np.full(n, np.nan), np.full(n, np.nan)
    for t in range(1, n):
        if scored[t] and scored[t - 1]:
            diff = np.linalg.norm((pred[t] - pred[t - 1]) - (gt[t] - gt[t - 1]), axis=-1) / iod[t]
            jitter68[t], jitter6[t] = float(np.nanmean(diff)), float(np.nanmean(diff[list(CORNERS)]))
    phase = np.asarray(clip.phase)
    reacquire = []
    for t in range(1, n):
        if phase[t - 1] == "away" and phase[t] != "away":
            later = [u for u in range(t, n) if clip.in_view[u]]
            hit = next((u for u in later if has[u]), None)
            reacquire.append((hit - later[0]) if hit is not None and later else n - t)
    corners = np.where(scored[:, None], err[:, list(CORNERS)], np.nan)
    return FrameScores(
        phase, nme68, nme6, jitter68, jitter6, clip.in_view & ~has, (phase == "away") & has, reacquire, corners
    )


def merge(scores: Sequence[FrameScores]) -> FrameScores:
    cat = lambda name: np.concatenate([getattr(s, name) for s in scores])  # noqa: E731
    return FrameScores(
        cat("phase"),
        cat("nme68"),
        cat("nme6"),
        cat("jitter68"),
        cat("jitter6"),
        cat("missed"),
        cat("false"),
        [r for s in scores for r in s.reacquire],
        cat("corners"),
    )


def summarize(scores: FrameScores, phase: str | None = None) -> dict[str, float | int | None]:
    """Means in % (NME, jitter) and counts, over every frame or one phase's."""
    keep = np.ones(len(scores.phase), bool) if phase is None else scores.phase == phase

    def pct(values: np.ndarray) -> float | None:
        v = values[keep]
        v = v[np.isfinite(v)]
        return round(float(v.mean()) * 100, 3) if len(v) else None

    out: dict[str, float | int | None] = {
        "nme68": pct(scores.nme68),
        "nme6": pct(scores.nme6),
        "jitter68": pct(scores.jitter68),
        "jitter6": pct(scores.jitter6),
        "missed": int(scores.missed[keep].sum()),
        "false": int(scores.false[keep].sum()),
        "frames": int(keep.sum()),
        "nme_corners": [pct(scores.corners[:, i]) for i in range(len(CORNERS))],
    }
    if phase in (None, "away", "shake") and scores.reacquire:
        out["reacquire_mean"] = round(float(np.mean(scores.reacquire)), 2)
        out["reacquire_max"] = int(np.max(scores.reacquire))
    return out


def phase_names() -> tuple[str, ...]:
    return PHASES

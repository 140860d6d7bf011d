"""Faces through a video, as MediaPipe tracks them: detect once, then follow the landmarks.

On the first frame, and whenever fewer faces are followed than asked for, the detector looks for
faces; a detection's box is loose, so its landmarks take ``refine_detected`` extra passes. While a
face is followed, its crop is the last one carried by the face's image motion (optical flow of
its inner landmarks, a similarity), pulled a little towards the box around the previous frame's
landmarks (the landmark box + the training margin, as training crops were made), and takes ONE
landmark pass. The model's presence
score on that crop decides whether the face is still there: below the threshold the face is
dropped and the detector runs again on the same frame. A detection whose crop scores below the
threshold is rejected, which keeps detector false alarms out of the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgekp.config.video import VideoConfig
from edgekp.data.crops import crop_box_from_points
from edgekp.inference.boxes import FaceBox
from edgekp.inference.one_euro import LandmarkFilter
from edgekp.inference.runtime import LandmarkRuntime

DEFAULT_THRESHOLD = 0.5  # for a model whose presence head carries no chosen threshold


@dataclass(frozen=True)
class FaceResult:
    points: np.ndarray  # K x 2 image pixels, filtered when smoothing is on
    raw: np.ndarray  # K x 2 image pixels, the model's own
    score: float | None  # presence probability (None: the model has no presence head)
    tracked: bool  # True: the crop came from the previous frame's landmarks, not from the detector

    @property
    def box(self) -> tuple[float, float, float, float]:
        lo, hi = self.points.min(0), self.points.max(0)
        return float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])


@dataclass
class _Track:
    raw: np.ndarray
    smoother: LandmarkFilter
    smoothed: np.ndarray | None = None
    age: int = 0
    shift: np.ndarray | None = None  # image motion of the face region since the last frame
    motion: np.ndarray | None = None  # 2 x 3 similarity of that motion (the flow model only)
    crop: np.ndarray | None = None  # the last crop as (centre x, centre y, side)


@dataclass
class TrackerStats:
    frames: int = 0
    detector_runs: int = 0
    detector_frames: list[int] = field(default_factory=list)
    landmark_passes: int = 0
    dropped: int = 0  # faces dropped for a presence score under the threshold
    rejected: int = 0  # detections rejected for the same reason


class FaceTracker:
    def __init__(self, runtime: LandmarkRuntime, detector: object, config: VideoConfig) -> None:
        self.runtime = runtime
        self.detector = detector
        self.config = config
        t = config.tracking
        self.threshold = t.presence_threshold or runtime.presence_threshold or DEFAULT_THRESHOLD
        self.tracks: list[_Track] = []
        self.stats = TrackerStats()
        self._previous: np.ndarray | None = None  # last frame, grey (motion estimates)

    # -- one landmark pass on many crops ------------------------------------------------------------
    def _passes(
        self,
        image: np.ndarray,
        squares: list[tuple[float, float, float, float]],
        extra: int,
    ) -> tuple[list[np.ndarray], list[float | None]]:
        from edgekp.data.crops import crop_box_from_points, crop_face, to_pixels

        size, margin = self.runtime.input_size, self.runtime.margin
        points: list[np.ndarray] = []
        scores: list[float | None] = []
        for step in range(extra + 1):
            crops = [crop_face(image, np.zeros((1, 2)), size, box=sq) for sq in squares]
            pred, presence = self.runtime(np.stack([c.image for c in crops]))
            self.stats.landmark_passes += len(crops)
            points = [c.to_image(to_pixels(p, size)).astype(np.float64) for c, p in zip(crops, pred, strict=True)]
            scores = [None] * len(crops) if presence is None else [float(s) for s in presence]
            if step < extra:
                squares = [crop_box_from_points(p, margin) for p in points]
        return points, scores

    def _present(self, score: float | None) -> bool:
        return score is None or score >= self.threshold

    # -- the frame step -----------------------------------------------------------------------------
    def step(self, image: np.ndarray, t: float) -> list[FaceResult]:
        from edgekp.data.crops import crop_box_from_points

        cfg = self.config.tracking
        self.stats.frames += 1
        results: list[FaceResult] = []
        if not cfg.enabled:  # every frame on its own (the photo path), the filters kept by face rank
            smoothers = [tr.smoother for tr in self.tracks]
            self.tracks = []
            results = self._detect(image, t, [])
            for i, track in enumerate(self.tracks):
                if i < len(smoothers):
                    track.smoother = smoothers[i]
                    results[i] = FaceResult(track.smoother(track.raw, t), track.raw, results[i].score, False)
            return results
        grey = self._grey(image) if cfg.motion else None
        if self.tracks:
            squares = []
            for track in self.tracks:
                around = track.smoothed if cfg.crop_from == "smoothed" and track.smoothed is not None else track.raw
                track.shift, track.motion = None, None
                if grey is not None and self._previous is not None:
                    squares.append(self._follow(self._previous, grey, around, track))
                else:
                    squares.append(crop_box_from_points(around, self.runtime.margin))
                    track.crop = _square_state(squares[-1])
            points, scores = self._passes(image, squares, cfg.refine_tracked)
            kept = []
            for track, pts, score in zip(self.tracks, points, scores, strict=True):
                if not self._present(score):
                    self.stats.dropped += 1
                    continue
                track.raw, track.age = pts, track.age + 1
                measured = track.motion if self.config.smoothing.motion_source == "flow" else None
                track.smoothed = track.smoother(pts, t, measured)
                kept.append(track)
                results.append(FaceResult(track.smoothed, pts, score, True))
            self.tracks = kept
        if len(self.tracks) < cfg.max_faces:
            results += self._detect(image, t, results)
        self._previous = grey
        return results

    def _follow(
        self,
        previous: np.ndarray,
        grey: np.ndarray,
        around: np.ndarray,
        track: _Track,
    ) -> tuple[float, float, float, float]:
        """This frame's crop for a followed face: the last crop carried by the face's image motion,
        pulled by ``crop_gain`` towards the box around the moved landmarks ``around``. A crop re-cut
        around the model's own landmarks every frame feeds the model's error into the next crop and
        wanders (benchmarks/video_crop_drift.py); carried by the image motion, it does not."""
        from edgekp.inference.motion import points_motion, region_shift

        cfg, margin = self.config.tracking, self.runtime.margin
        if cfg.motion_model == "flow":
            matrix = points_motion(previous, grey, track.raw)
            track.motion = matrix
            if matrix is not None:
                target = _square_state(crop_box_from_points(around @ matrix[:, :2].T + matrix[:, 2], margin))
                last = track.crop if track.crop is not None else target
                centre = last[:2] @ matrix[:, :2].T + matrix[:, 2]
                carried = np.array([centre[0], centre[1], last[2] * float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))])
                track.crop = carried + cfg.crop_gain * (target - carried)
                track.shift = track.crop[:2] - last[:2]
                return _square(track.crop)
        square = crop_box_from_points(around, margin)
        track.shift = region_shift(previous, grey, square, deadzone=cfg.motion_deadzone)
        square = (square[0] + track.shift[0], square[1] + track.shift[1], square[2], square[3])
        track.crop = _square_state(square)
        return square

    @staticmethod
    def _grey(image: np.ndarray) -> np.ndarray:
        import cv2

        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)

    def _detect(self, image: np.ndarray, t: float, known: list[FaceResult]) -> list[FaceResult]:
        cfg = self.config.tracking
        self.stats.detector_runs += 1
        self.stats.detector_frames.append(self.stats.frames - 1)
        boxes: list[FaceBox] = self.detector.detect(image)  # type: ignore[attr-defined]
        taken = [FaceBox(*r.box, detector="track") for r in known]
        fresh = [b for b in boxes if all(b.iou(k) < cfg.min_overlap_new for k in taken)]
        fresh = sorted(fresh, key=lambda b: -b.w * b.h)
        if not fresh:
            return []
        margin = self.runtime.margin
        squares = []
        for b in fresh:
            side = max(b.w, b.h) * (1 + 2 * margin)  # a detector box spans roughly the landmark box
            squares.append((b.x + b.w / 2 - side / 2, b.y + b.h / 2 - side / 2, side, side))
        points, scores = self._passes(image, squares, cfg.refine_detected)
        out = []
        for pts, score in zip(points, scores, strict=True):
            if len(self.tracks) >= cfg.max_faces:
                break
            if not self._present(score):
                self.stats.rejected += 1
                continue
            track = _Track(pts, LandmarkFilter(self.config.smoothing))  # a new face: the filter starts fresh
            track.crop = _square_state(crop_box_from_points(pts, margin))
            self.tracks.append(track)
            out.append(
                FaceResult(pts if not self.config.tracking.enabled else track.smoother(pts, t), pts, score, False)
            )
        return out


def _square_state(square: tuple[float, float, float, float]) -> np.ndarray:
    x, y, side, _ = square
    return np.array([x + side / 2, y + side / 2, side])


def _square(state: np.ndarray) -> tuple[float, float, float, float]:
    cx, cy, side = (float(v) for v in state)
    return (cx - side / 2, cy - side / 2, side, side)

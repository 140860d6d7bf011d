"""One video (or frame folder) through the tracker: JSON Lines per frame, an annotated video, a summary.

Under ``--out`` every file is written under a temporary name beside its final one and renamed only
when the whole source went through, so an interrupted run leaves no half-written result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from edgekp.inference.tracker import FaceResult, FaceTracker
from edgekp.inference.video_io import Frame, Source, frames
from edgekp.logs import get_logger

log = get_logger(__name__)


@dataclass
class VideoSummary:
    source: str
    frames: int = 0
    with_face: int = 0
    bad_frames: list[int] = field(default_factory=list)
    detector_runs: int = 0
    landmark_passes: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time over the same span (what one thread costs, whatever else runs)
    outputs: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "frames": self.frames,
            "frames_with_face": self.with_face,
            "bad_frames_skipped": len(self.bad_frames),
            "detector_runs": self.detector_runs,
            "landmark_passes": self.landmark_passes,
            "frames_per_second": round(self.fps, 1),
            "outputs": self.outputs,
        }


def frame_record(source: str, frame: Frame, faces: list[FaceResult]) -> dict[str, Any]:
    """One line of the JSON Lines output (the schema docs/video.md documents)."""
    return {
        "source": source,
        "frame": frame.index,
        "t": round(frame.t, 4),
        "faces": [
            {
                "box": [round(v, 2) for v in f.box],
                "landmarks": np.round(f.points, 2).tolist(),
                "score": None if f.score is None else round(f.score, 4),
                "tracked": f.tracked,
            }
            for f in faces
        ],
    }


def draw_faces(image_rgb: np.ndarray, faces: list[FaceResult]) -> np.ndarray:
    """BGR frame with each face's box (blue when tracked, orange after a detection) and points."""
    import cv2

    canvas = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
    radius = max(1, round(min(image_rgb.shape[:2]) / 300))
    for face in faces:
        x, y, w, h = face.box
        colour = (255, 160, 0) if face.tracked else (0, 160, 255)
        cv2.rectangle(canvas, (int(x), int(y)), (int(x + w), int(y + h)), colour, 1)
        for px, py in face.points:
            cv2.circle(canvas, (int(round(px)), int(round(py))), radius, (0, 255, 0), -1, lineType=cv2.LINE_AA)
    return canvas


class _Outputs:
    """The JSON Lines file and the annotated video of one source, under temporary names until done."""

    def __init__(self, out_dir: Path, source: Source) -> None:
        import cv2

        out_dir.mkdir(parents=True, exist_ok=True)
        stem = source.path.name if source.kind == "frames" else source.path.stem
        self.final = [out_dir / f"{stem}.landmarks.jsonl", out_dir / f"{stem}.landmarks.mp4"]
        self.partial = [p.with_name(f".{p.stem}.partial{p.suffix}") for p in self.final]
        self.jsonl: TextIO = self.partial[0].open("w", encoding="utf-8")
        fourcc = cv2.VideoWriter_fourcc(*"mp4v")
        self.video = cv2.VideoWriter(str(self.partial[1]), fourcc, source.fps or 30.0, source.size)
        self.size = source.size

    def write(self, line: str, frame: np.ndarray | None, faces: list[FaceResult]) -> None:
        import cv2

        self.jsonl.write(line + "\n")
        if frame is not None:
            canvas = draw_faces(frame, faces)
            if (canvas.shape[1], canvas.shape[0]) != self.size:  # frame folders may mix sizes
                canvas = cv2.resize(canvas, self.size)
            self.video.write(canvas)

    def close(self, keep: bool) -> list[str]:
        self.jsonl.close()
        self.video.release()
        for partial, final in zip(self.partial, self.final, strict=True):
            if keep:
                partial.replace(final)
            else:
                partial.unlink(missing_ok=True)
        return [str(p) for p in self.final] if keep else []


def run_source(
    source: Source,
    tracker: FaceTracker,
    emit: Callable[[str], None] | None = None,
    out_dir: Path | None = None,
    progress: Callable[[Iterator[Frame], int], Iterator[Frame]] | None = None,
    on_frame: Callable[[Frame, list[FaceResult]], None] | None = None,
) -> VideoSummary:
    """Track every frame of ``source``; ``emit`` gets each JSON line (e.g. stdout), ``on_frame`` each
    decoded frame's faces (a benchmark's scorer)."""
    summary = VideoSummary(str(source.path))
    outputs = _Outputs(out_dir, source) if out_dir is not None else None
    done = False
    try:
        stream = frames(source)
        if progress is not None:
            stream = progress(stream, source.frames)
        start, cpu_start = time.perf_counter(), time.process_time()
        for frame in stream:
            summary.frames += 1
            if frame.image is None:
                summary.bad_frames.append(frame.index)
                log.warning(
                    "%s: frame %d%s does not decode; skipped",
                    source.path,
                    frame.index,
                    f" ({frame.name})" if frame.name else "",
                )
                continue
            faces = tracker.step(frame.image, frame.t)
            summary.with_face += bool(faces)
            line = json.dumps(frame_record(str(source.path), frame, faces), separators=(",", ":"))
            if emit is not None:
                emit(line)
            if outputs is not None:
                outputs.write(line, frame.image, faces)
            if on_frame is not None:
                on_frame(frame, faces)
        summary.seconds = time.perf_counter() - start
        summary.cpu_seconds = time.process_time() - cpu_start
        done = True
    finally:
        if outputs is not None:
            summary.outputs = outputs.close(keep=done)
    summary.detector_runs = tracker.stats.detector_runs
    summary.landmark_passes = tracker.stats.landmark_passes
    return summary

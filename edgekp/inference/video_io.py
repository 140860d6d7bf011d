"""Inputs of ``edgekp predict``: photos, video files, folders of frames; frames read one at a time.

What a path is, decided before any work: a folder is a frame sequence (its images in name order);
a file OpenCV opens as a video with at least one frame is a video; a file that decodes as an image
is a photo. Anything else is a one-line DataError. A frame that fails to decode mid-stream is
reported (``Frame.image`` None) and the stream goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekp.errors import DataError

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
MAX_BAD_RUN = 25  # consecutive undecodable frames after which a video is treated as ended


@dataclass(frozen=True)
class Frame:
    index: int
    t: float  # seconds from the start
    image: np.ndarray | None  # RGB uint8; None when this frame failed to decode
    name: str = ""  # the frame's file, for frame folders


@dataclass(frozen=True)
class Source:
    path: Path
    kind: str  # "photo" | "video" | "frames"
    fps: float
    frames: int  # known count (OpenCV's estimate for a video)
    size: tuple[int, int]  # width, height of the first frame
    threads: int = 1  # decoder threads


def _open_video(path: Path, threads: int = 1):
    import cv2

    # The decoder's thread count is fixed like the model's: FFmpeg's default pool hands every frame
    # between threads, which on a busy or 1-thread budget costs more than it saves at phone resolutions.
    cap = cv2.VideoCapture(str(path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, max(1, threads)])
    return cap if cap.isOpened() else None


def _frame_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _decode(path: Path) -> np.ndarray | None:
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None or (data[:2].tobytes() == b"\xff\xd8" and b"\xff\xd9" not in data[-1024:].tobytes()):
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def probe(path: str | Path, fps: float = 30.0, threads: int = 1) -> Source:
    """What ``path`` is, checked before any work; DataError (one line) for anything unusable."""
    import cv2

    path = Path(path)
    if path.is_dir():
        files = _frame_files(path)
        if not files:
            raise DataError(f"{str(path)!r} is a folder without image frames ({', '.join(sorted(IMAGE_SUFFIXES))})")
        first = next((im for im in map(_decode, files[:MAX_BAD_RUN]) if im is not None), None)
        if first is None:
            raise DataError(f"none of the first frames in {str(path)!r} decodes as an image")
        return Source(path, "frames", fps, len(files), (first.shape[1], first.shape[0]))
    if not path.is_file():
        raise DataError(f"input not found: {str(path)!r}")
    if path.stat().st_size == 0:
        raise DataError(f"{str(path)!r} is empty: neither an image nor a video")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = _decode(path)
        if image is None:
            raise DataError(f"cannot decode image {str(path)!r}: not an image or corrupt")
        return Source(path, "photo", 0.0, 1, (image.shape[1], image.shape[0]))
    cap = _open_video(path, threads)
    if cap is None:
        if _decode(path) is not None:  # an image under another suffix
            image = _decode(path)
            return Source(path, "photo", 0.0, 1, (image.shape[1], image.shape[0]))  # type: ignore[union-attr]
        if path.suffix.lower() in VIDEO_SUFFIXES:  # a container OpenCV cannot open: empty, cut short or not a video
            raise DataError(f"video {str(path)!r} has no frames OpenCV can decode (empty, damaged or not a video)")
        raise DataError(f"{str(path)!r} is neither an image nor a video OpenCV can decode")
    try:
        ok, first = cap.read()
        if not ok or first is None:
            raise DataError(f"video {str(path)!r} has no frames")
        rate = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        cap.release()
    return Source(path, "video", rate if rate > 0 else fps, count, (first.shape[1], first.shape[0]), threads)


def frames(source: Source) -> Iterator[Frame]:
    """The source's frames in order; a frame that fails to decode comes as ``image=None``."""
    if source.kind == "photo":
        yield Frame(0, 0.0, _decode(source.path), source.path.name)
    elif source.kind == "frames":
        for i, file in enumerate(_frame_files(source.path)):
            yield Frame(i, i / source.fps, _decode(file), file.name)
    else:
        yield from _video_frames(source)


def _video_frames(source: Source) -> Iterator[Frame]:
    import cv2

    cap = _open_video(source.path, source.threads)
    if cap is None:
        raise DataError(f"video {str(source.path)!r} cannot be opened any more")
    try:
        index, bad_run = 0, 0
        while True:
            ok = cap.grab()
            if not ok:
                # The demuxer stops at a packet it cannot read; past the known length this is the end,
                # before it a damaged stretch that the next packets may follow.
                if index >= source.frames or bad_run >= MAX_BAD_RUN:
                    return
                bad_run += 1
                yield Frame(index, index / source.fps, None)
                index += 1
                cap.set(cv2.CAP_PROP_POS_FRAMES, index)
                continue
            ok, bgr = cap.retrieve()
            image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if ok and bgr is not None else None
            bad_run = 0 if image is not None else bad_run + 1
            yield Frame(index, index / source.fps, image)
            index += 1
    finally:
        cap.release()

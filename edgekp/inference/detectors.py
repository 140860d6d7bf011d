"""Choosing a face detector: BlazeFace when its model has been fetched, Haar otherwise.

- ``blazeface`` (short range, the default when present) and ``blazeface-full`` (full range):
  MediaPipe's detectors, fetched once by an explicit opt-in (``--download-detector``) with the
  peers' pip download of the mediapipe wheel into the peers cache.
- ``haar``: OpenCV's cascades, inside the opencv wheel: always there, no download, weaker.
- ``auto``: BlazeFace if its model is in the cache, else Haar with a one-line warning that names
  the opt-in step.

Asking for BlazeFace by name when its model is absent is a user error (exit 2) naming that step;
nothing is downloaded without the opt-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.errors import EdgeKPError
from edgekp.logs import get_logger

log = get_logger(__name__)

DETECTORS = ("auto", "blazeface", "blazeface-full", "haar")
OPT_IN = "--download-detector"


class DetectorUnavailable(EdgeKPError):
    """The chosen detector's model is not on this machine (and fetching it was not asked for)."""


@dataclass(frozen=True)
class DetectorChoice:
    name: str  # what was asked for
    cache: Path | None = None  # peers cache (default ~/.cache/edgekp/peers)
    download: bool = False  # the opt-in: fetch a missing model with pip
    threads: int = 1


def _cache(choice: DetectorChoice) -> Path:
    from edgekp.bench.peers import default_cache

    return Path(choice.cache).expanduser() if choice.cache is not None else default_cache()


def blazeface_model(spec_name: str, choice: DetectorChoice) -> Path:
    """The cached BlazeFace .tflite; fetched only under the opt-in, else DetectorUnavailable naming it."""
    from edgekp.bench.peers import (
        MEDIAPIPE_SPEC,
        PeerUnavailable,
        mediapipe_file,
        obtain_mediapipe_file,
    )
    from edgekp.inference.blazeface import SPECS

    spec = SPECS[spec_name]
    cache = _cache(choice)
    path = mediapipe_file(cache, spec.member)
    if path.is_file():
        return path
    if not choice.download:
        raise DetectorUnavailable(
            f"the BlazeFace face detector's model is not in {cache}; fetch it once with {OPT_IN} "
            f"(pip downloads the {MEDIAPIPE_SPEC} wheel, Apache-2.0, and keeps its detector files), "
            "or use --detector haar (no download)"
        )
    try:
        return obtain_mediapipe_file(cache, spec.member)
    except PeerUnavailable as exc:
        raise DetectorUnavailable(f"could not fetch the BlazeFace model: {exc}") from None


def make_detector(choice: DetectorChoice) -> Any:
    """A detector with ``.name`` and ``.detect(image_rgb) -> list[FaceBox]``."""
    from edgekp.inference.haar import HaarFaceDetector

    if choice.name not in DETECTORS:
        raise EdgeKPError(f"unknown detector {choice.name!r}; choose one of: {', '.join(DETECTORS)}")
    if choice.name == "haar":
        return HaarFaceDetector()
    spec_name = "full" if choice.name == "blazeface-full" else "short"
    try:
        path = blazeface_model(spec_name, choice)
    except DetectorUnavailable as exc:
        if choice.name != "auto":
            raise
        log.warning(
            "face detector: OpenCV Haar (weaker); for BlazeFace run once with %s (%s)", OPT_IN, str(exc).split(";")[0]
        )
        return HaarFaceDetector()
    from edgekp.inference.blazeface import SPECS, BlazeFaceDetector

    return BlazeFaceDetector(path, SPECS[spec_name], threads=choice.threads)


class ScaledDetector:
    """A detector run on the frame scaled down to at most ``side`` px on its shorter side, boxes mapped back.

    For video with the Haar cascades: their cost grows with the pixels scanned (about 100 ms a 320 px
    frame at 1 thread here, with frontal and both profile cascades), and a tracker needs the detector
    only to (re)acquire a face, which at a fifth of the frame or more is found as well at 192 px.
    """

    def __init__(self, inner: Any, side: int = 192) -> None:
        self.inner, self.side = inner, side
        self.name = f"{inner.name}@{side}px"

    def detect(self, image_rgb: Any) -> list[Any]:
        import dataclasses

        import cv2

        scale = self.side / min(image_rgb.shape[:2])
        if scale >= 1:
            return self.inner.detect(image_rgb)
        small = cv2.resize(image_rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return [
            dataclasses.replace(b, x=b.x / scale, y=b.y / scale, w=b.w / scale, h=b.h / scale)
            for b in self.inner.detect(small)
        ]


def video_detector(choice: DetectorChoice, haar_side: int = 192) -> Any:
    """The detector a tracker calls: BlazeFace as it is (it scales its input itself), Haar scaled down."""
    detector = make_detector(choice)
    return ScaledDetector(detector, haar_side) if detector.name == "haar" else detector

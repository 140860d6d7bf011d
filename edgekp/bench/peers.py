"""Peer baselines measured by the same code on the same faces: dlib's 68-point shape predictor and
MediaPipe's face landmark model.

They are obtained on request only (``edgekp bench --peers``), with pip, into a cache folder
(``~/.cache/edgekp/peers`` or ``--peers-cache``), never installed into edgekp's environment:

- MediaPipe: ``pip download --no-deps mediapipe==0.10.21`` and ``face_landmark.tflite`` read out of
  the wheel; it runs in-process with ai-edge-litert (edgekp's TFLite runtime).
- dlib: ``pip install --target <cache>/dlib/site --no-deps dlib-bin`` and the model file taken from
  the ``face-recognition-models`` sdist; it runs in a subprocess with that folder on its path, so
  its pins never touch edgekp's environment.

Both get the crops edgekp's model gets (the landmark box + margin): MediaPipe the crop resized to
its 192 px input, dlib the crop at 256 px with the whole crop as its face rectangle. MediaPipe's
468-point mesh is scored on the six points with a clear 68-point counterpart (eye and mouth corners).
A peer that cannot be obtained gets a row marked ``skipped`` with the reason; the bench goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.bench.schema import Accuracy, BenchRow, Latency
from edgekp.errors import EdgeKPError
from edgekp.files.hashes import sha256_file
from edgekp.logs import get_logger

log = get_logger(__name__)

MEDIAPIPE_SPEC = "mediapipe==0.10.21"
MEDIAPIPE_MEMBER = "mediapipe/modules/face_landmark/face_landmark.tflite"
# Kept from the same download: BlazeFace, the face detectors edgekp.inference.blazeface runs.
MEDIAPIPE_MEMBERS = (
    MEDIAPIPE_MEMBER,
    "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
)
DLIB_SPEC = "dlib-bin"
DLIB_MODEL_SPEC = "face-recognition-models==0.3.0"
DLIB_MODEL_MEMBER = "shape_predictor_68_face_landmarks.dat"
MEDIAPIPE_SIZE, DLIB_SIZE = 192, 256
# MediaPipe face mesh index -> iBUG 68 index, for the points that clearly correspond.
MESH_TO_68 = {33: 36, 133: 39, 362: 42, 263: 45, 61: 48, 291: 54}
SUBSET_NOTE = "eye corners and mouth corners only (iBUG 36, 39, 42, 45, 48, 54 = mesh 33, 133, 362, 263, 61, 291)"


class PeerUnavailable(EdgeKPError):
    """A peer model could not be obtained (no network, pip refused, file not in the package)."""


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgekp" / "peers"


def _pip(args: list[str], what: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input", "-q"]
    log.info("peers: %s", " ".join(cmd[2:]))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PeerUnavailable(f"could not obtain {what}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()
        raise PeerUnavailable(
            f"could not obtain {what} with pip ({tail[-1][:200] if tail else 'exit ' + str(done.returncode)})"
        )


def obtain_mediapipe(cache: Path) -> Path:
    return obtain_mediapipe_file(cache, MEDIAPIPE_MEMBER)


def mediapipe_file(cache: Path, member: str) -> Path:
    """Where a file taken out of the mediapipe wheel lives in the cache (it may not be there yet)."""
    return cache / "mediapipe" / Path(member).name


def obtain_mediapipe_file(cache: Path, member: str) -> Path:
    """One file of the mediapipe wheel; the wheel is downloaded once and every file edgekp uses is kept."""
    model = mediapipe_file(cache, member)
    if model.is_file():
        return model
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        _pip(["download", "--no-deps", "--only-binary", ":all:", MEDIAPIPE_SPEC, "-d", tmp], MEDIAPIPE_SPEC)
        wheels = list(Path(tmp).glob("mediapipe-*.whl"))
        if not wheels:
            raise PeerUnavailable(f"pip downloaded no {MEDIAPIPE_SPEC} wheel for this platform")
        with zipfile.ZipFile(wheels[0]) as zf:
            names = set(zf.namelist())
            if member not in names:
                raise PeerUnavailable(f"{wheels[0].name} holds no {member}")
            for wanted in {member, *MEDIAPIPE_MEMBERS}:
                if wanted in names:
                    path = mediapipe_file(cache, wanted)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(zf.read(wanted))
    return model


def obtain_dlib(cache: Path) -> tuple[Path, Path]:
    site, model = cache / "dlib" / "site", cache / "dlib" / DLIB_MODEL_MEMBER
    if not any(site.glob("dlib*")):
        _pip(["install", "--no-deps", "--only-binary", ":all:", "--target", str(site), DLIB_SPEC], DLIB_SPEC)
    if not model.is_file():
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            _pip(["download", "--no-deps", "--no-binary", ":all:", DLIB_MODEL_SPEC, "-d", tmp], DLIB_MODEL_SPEC)
            sdists = list(Path(tmp).glob("face_recognition_models-*.tar.gz"))
            if not sdists:
                raise PeerUnavailable(f"pip downloaded no {DLIB_MODEL_SPEC} sdist")
            with tarfile.open(sdists[0]) as tf:
                member = next((m for m in tf.getmembers() if m.name.endswith("/" + DLIB_MODEL_MEMBER)), None)
                if member is None:
                    raise PeerUnavailable(f"{sdists[0].name} holds no {DLIB_MODEL_MEMBER}")
                src = tf.extractfile(member)
                assert src is not None  # a regular member always has a file object
                model.write_bytes(src.read())
    return site, model


class MediaPipeRunner:
    """face_landmark.tflite on 192 px crops in [0, 1]; returns N x 468 x 2 normalized to the crop."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        from ai_edge_litert import interpreter as litert

        self.interpreter = litert.Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.inp = self.interpreter.get_input_details()[0]
        outs = self.interpreter.get_output_details()
        self.out = next(o for o in outs if int(np.prod(o["shape"])) == 468 * 3)
        self.name, self.runtime_version = "ai-edge-litert", _version("ai-edge-litert")

    def one(self, crop: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self.inp["index"], np.ascontiguousarray(crop[None], np.float32))
        self.interpreter.invoke()
        mesh = self.interpreter.get_tensor(self.out["index"]).reshape(468, 3)
        return mesh[:, :2] / MEDIAPIPE_SIZE  # pixel coordinates of the 192 px input -> [0, 1]


def _version(name: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _crops(faces: Any, size: int) -> np.ndarray:
    """The same boxes as the model's crops, at the peer's input size (N x S x S x 3 uint8)."""
    from edgekp.data.crops import preload_crops

    return preload_crops(faces.records, size=size, margin=faces.crops.margin).images


def _to_68(mesh: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(mesh), k, 2), np.float32)
    for src, dst in MESH_TO_68.items():
        out[:, dst] = mesh[:, src]
    return out


def _mediapipe_row(faces: Any, opts: Any, cache_dir: Path, cache: Any) -> BenchRow:
    from edgekp.bench.bench_run import score
    from edgekp.bench.cache import cache_key
    from edgekp.measure.timing import time_call

    row = BenchRow(
        run="peers",
        variant="peer",
        target="mediapipe",
        precision="fp32",
        route="face_landmark 0.10.21",
        status="ok",
        num_points=468,
        scheme="mediapipe468",
        notes=[
            "same crops as edgekp (landmark box + margin), resized to 192 px; rotation alignment of MediaPipe's "
            "own pipeline not applied",
            f"scored on {SUBSET_NOTE}",
        ],
    )
    path = obtain_mediapipe(cache_dir)
    row.artifact, row.sha256, row.size_bytes = str(path), sha256_file(path), path.stat().st_size
    crops = _crops(faces, MEDIAPIPE_SIZE).astype(np.float32) / 255.0
    key = cache_key(row.sha256, faces.hash, None, "accuracy")
    acc = cache.get(key)
    if acc is None:
        runner = MediaPipeRunner(path)
        mesh = np.stack([runner.one(c) for c in crops])
        acc = score(_to_68(mesh, faces.scheme.num_points), faces, tuple(MESH_TO_68.values()), SUBSET_NOTE)
        cache.put(key, acc)
    row.accuracy = Accuracy.model_validate(acc)
    for t in opts.threads:
        key = cache_key(row.sha256, None, t, "latency", repr(opts.latency))
        hit = cache.get(key)
        if hit is None:
            runner = MediaPipeRunner(path, t)
            hit = time_call(lambda runner=runner: runner.one(crops[0]), opts.latency) | {
                "threads": t,
                "runtime": runner.name,
                "runtime_version": runner.runtime_version,
            }
            cache.put(key, hit)
        row.latency.append(Latency.model_validate(hit))
    return row


def landmark_boxes(points: np.ndarray) -> np.ndarray:
    """N x 4 (x0, y0, x1, y1) boxes of N x P x 2 points, over the labelled points only: an unlabelled
    point (MERL-RAV v=0) is NaN, and one NaN would otherwise make the whole rectangle NaN."""
    return np.concatenate([np.nanmin(points, 1), np.nanmax(points, 1)], axis=1)


def _dlib_row(faces: Any, opts: Any, cache_dir: Path, cache: Any) -> BenchRow:
    from edgekp.bench.bench_run import score
    from edgekp.bench.cache import cache_key

    row = BenchRow(
        run="peers",
        variant="peer",
        target="dlib",
        precision="fp64",
        route="shape_predictor_68",
        status="ok",
        num_points=68,
        scheme="ibug68",
        notes=[
            "same crops as edgekp (landmark box + margin) at 256 px; face rectangle from dlib's own HOG "
            "detector on the crop, else the landmark box",
            "dlib's shape predictor is single-threaded: latency at 1 thread only, shape prediction without detection",
            "dlib's model was trained on iBUG 300-W (HELEN, LFPW, AFW train images): on 300W faces it "
            "scores images it may have trained on",
        ],
    )
    site, model = obtain_dlib(cache_dir)
    row.artifact, row.sha256, row.size_bytes = str(model), sha256_file(model), model.stat().st_size
    key = cache_key(row.sha256, faces.hash, 1, "dlib-own-detector", repr(opts.latency))
    hit = cache.get(key)
    if hit is None:
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            np.save(Path(tmp) / "crops.npy", _crops(faces, DLIB_SIZE))
            points = faces.crops.points * DLIB_SIZE  # same crop geometry at another size: normalized points carry over
            np.save(Path(tmp) / "boxes.npy", landmark_boxes(points))
            settings = {
                k: getattr(opts.latency, k) for k in ("warmup", "min_runs", "min_seconds", "floor_runs", "max_seconds")
            }
            env = dict(
                os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
            )
            cmd = [sys.executable, "-m", "edgekp.bench.dlib_worker", str(model), tmp, json.dumps(settings)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
            if done.returncode != 0:
                tail = done.stderr.strip().splitlines()
                raise PeerUnavailable(f"dlib worker failed: {tail[-1][:200] if tail else done.returncode}")
            points = np.load(Path(tmp) / "points.npy")
            latency = json.loads((Path(tmp) / "latency.json").read_text())
        hit = {"accuracy": score(points, faces), "latency": latency}
        cache.put(key, hit)
    latency = dict(hit["latency"])
    detected, total = latency.pop("detected", None), latency.pop("faces", None)
    if detected is not None:
        row.notes.append(f"dlib's detector found {detected} of {total} faces; the rest used the landmark box")
    row.accuracy = Accuracy.model_validate(hit["accuracy"])
    row.latency.append(Latency.model_validate(latency))
    return row


def bench_peers(faces: Any, opts: Any, cache: Any) -> list[BenchRow]:
    """One row per peer; a peer that cannot be obtained or run is a 'skipped' row with the reason."""
    cache_dir = Path(opts.peers_cache).expanduser() if opts.peers_cache else default_cache()
    rows = []
    for name, fn in (("dlib", _dlib_row), ("mediapipe", _mediapipe_row)):
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            rows.append(fn(faces, opts, cache_dir, cache))
        except (EdgeKPError, OSError) as exc:
            log.warning("peer %s unavailable: %s", name, exc)
            rows.append(
                BenchRow(
                    run="peers",
                    variant="peer",
                    target=name,
                    precision="",
                    status="skipped",
                    reason=f"peer not available: {str(exc)[:200]}",
                )
            )
    return rows

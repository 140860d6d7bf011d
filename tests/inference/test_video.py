"""edgekp predict on video: tracking, smoothing, presence, the JSON Lines schema, bad inputs.

Clips are filmed from real 300W LFPW photos (tests/inference/video_fixtures.py), 160 x 160; the
model is the shipped one (with its presence head) on onnxruntime, as `edgekp predict` runs it.
"""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest
from video_fixtures import clip_file, frame_folder, real_face, small_clip

from edgekp.cli import main

KEYS = {"source", "frame", "t", "faces"}
FACE_KEYS = {"box", "landmarks", "score", "tracked"}


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    """A private cache for the one-time ONNX export, so no test reads what another run left behind."""
    old = os.environ.get("EDGEKP_CACHE")
    os.environ["EDGEKP_CACHE"] = str(tmp_path_factory.mktemp("edgekp-cache"))
    yield
    if old is None:
        os.environ.pop("EDGEKP_CACHE", None)
    else:
        os.environ["EDGEKP_CACHE"] = old


@pytest.fixture(scope="module")
def runtime(onnx_cache):
    from edgekp.inference.runtime import load_runtime

    return load_runtime(None, threads=1)


def _tracker(runtime, **config):
    from edgekp.config.video import SmoothingConfig, TrackingConfig, VideoConfig
    from edgekp.inference.detectors import DetectorChoice, video_detector
    from edgekp.inference.tracker import FaceTracker

    cfg = VideoConfig(
        tracking=TrackingConfig(**config.get("tracking", {})), smoothing=SmoothingConfig(**config.get("smoothing", {}))
    )
    return FaceTracker(runtime, video_detector(DetectorChoice("haar")), cfg)


def _track(tracker, clip):
    return [tracker.step(frame, t / clip.fps) for t, frame in enumerate(clip.frames)]


def test_steady_clip_runs_the_detector_on_frame_0_only(shared_data, runtime):
    clip = small_clip(shared_data, still=15, pan=15)
    tracker = _tracker(runtime)
    out = _track(tracker, clip)
    assert tracker.stats.detector_frames == [0]
    assert all(len(faces) == 1 for faces in out)
    assert not out[0][0].tracked and all(faces[0].tracked for faces in out[1:])
    assert tracker.stats.landmark_passes == 2 + (len(clip.frames) - 1)  # detection: 1 + 1 refinement; then one each
    from edgekp.bench.video_metrics import score_clip, summarize

    scores = summarize(score_clip(clip, [faces[0].points for faces in out]))
    assert scores["nme68"] < 10  # the tracked landmarks stay on the face through the pan (inter-ocular %)


def test_filter_lowers_jitter_on_a_still_face(shared_data, runtime):
    from edgekp.bench.video_metrics import score_clip, summarize

    clip = small_clip(shared_data, still=30, seed=3, index=1)
    raw = _track(_tracker(runtime, smoothing={"enabled": False}), clip)
    smooth = _track(_tracker(runtime), clip)
    jitter_raw = summarize(score_clip(clip, [f[0].points for f in raw]))["jitter6"]
    jitter_smooth = summarize(score_clip(clip, [f[0].points for f in smooth]))["jitter6"]
    assert jitter_smooth < 0.6 * jitter_raw, (jitter_raw, jitter_smooth)


def test_presence_separates_faces_from_non_faces(shared_data, runtime):
    from edgekp.data.crops import crop_face
    from edgekp.train.presence_data import NEGATIVE_KINDS, negative

    assert runtime.has_presence and runtime.presence_threshold is not None
    rng = np.random.default_rng(0)
    faces, others = [], []
    for index in range(4):
        photo, points = real_face(shared_data, 10 + index)
        faces.append(crop_face(photo, points, runtime.input_size, margin=runtime.margin).image)
        others += [
            negative(kind, photo, points, runtime.input_size, runtime.margin, rng, "replicate")
            for kind in NEGATIVE_KINDS
        ]
    others.append(np.full((runtime.input_size, runtime.input_size, 3), 128, np.uint8))  # a blank wall
    _, p_faces = runtime(np.stack(faces))
    _, p_others = runtime(np.stack(others))
    assert (p_faces >= runtime.presence_threshold).all(), p_faces
    assert (p_others < runtime.presence_threshold).all(), p_others


def test_face_leaving_is_dropped_and_reacquired(shared_data, runtime):
    clip = small_clip(shared_data, still=10, away=10, shake=10, index=3)
    tracker = _tracker(runtime)
    out = _track(tracker, clip)
    phases = np.asarray(clip.phase)
    assert not any(out[t] for t in np.flatnonzero(phases == "away"))  # no false face while it is gone
    back = int(np.flatnonzero(phases == "shake")[0])
    assert out[back] and not out[back][0].tracked  # detected again on the frame it returns


def _lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_schema_and_out_files(shared_data, onnx_cache, tmp_path, capsys):
    clip = small_clip(shared_data, still=12)
    video = clip_file(clip, tmp_path / "clip.mp4")
    out = tmp_path / "out"
    assert main(["predict", str(video), "--json", "--out", str(out), "-q"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert [r["frame"] for r in lines] == list(range(12))
    for r in lines:
        assert set(r) == KEYS and r["source"] == str(video)
        assert r["t"] == pytest.approx(r["frame"] / 30.0, abs=1e-3)
        assert len(r["faces"]) == 1
        face = r["faces"][0]
        assert set(face) == FACE_KEYS and len(face["box"]) == 4
        assert np.asarray(face["landmarks"]).shape == (68, 2) and 0 <= face["score"] <= 1
        assert face["tracked"] is (r["frame"] > 0)
    assert sorted(p.name for p in out.iterdir()) == ["clip.landmarks.jsonl", "clip.landmarks.mp4"]  # no partial files
    assert _lines((out / "clip.landmarks.jsonl").read_text()) == lines
    cap = cv2.VideoCapture(str(out / "clip.landmarks.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    cap.release()


def test_corrupt_frame_is_skipped_and_counted(shared_data, onnx_cache, tmp_path, capsys):
    folder = frame_folder(small_clip(shared_data, still=8), tmp_path / "frames")
    (folder / "frame0004.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert main(["predict", str(folder), "--json"]) == 0
    captured = capsys.readouterr()
    lines = _lines(captured.out)
    assert [r["frame"] for r in lines] == [0, 1, 2, 3, 5, 6, 7]
    assert "frame0004.png" in captured.err and "1 undecodable frame(s) skipped" in captured.err


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello, not a picture\n")
    assert main(["predict", str(notes)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "neither an image nor a video" in err
    empty = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 64))
    writer.release()
    assert main(["predict", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty.avi" in err and "no frames" in err
    empty_mp4 = tmp_path / "empty.mp4"  # mp4v writes a header only: OpenCV cannot even open it
    writer = cv2.VideoWriter(str(empty_mp4), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64))
    writer.release()
    assert main(["predict", str(empty_mp4)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty.mp4" in err and "no frames" in err


def test_photo_writes_to_the_default_folder_and_skip_bad(shared_data, tiny_model_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    photo = shared_data / "formats" / "dlib_xml" / "2008_002506.jpg"
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    assert main(["predict", str(photo), str(junk), "--model", str(tiny_model_run)]) == 2
    assert main(["predict", str(photo), str(junk), "--model", str(tiny_model_run), "--skip-bad"]) == 0
    captured = capsys.readouterr()
    written = tmp_path / "edgekp-out" / "predict"
    assert (written / "2008_002506.landmarks.json").is_file() and (written / "2008_002506.landmarks.jpg").is_file()
    assert "edgekp-out/predict/2008_002506.landmarks.json" in captured.out and "junk.jpg" in captured.err


def test_corrupt_frame_inside_a_video_file_is_skipped(shared_data, onnx_cache, tmp_path, capsys):
    clip = small_clip(shared_data, still=10)
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 160))
    for frame in clip.frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]  # one JPEG per frame
    assert len(starts) == 10
    data[starts[4] : starts[4] + 600] = bytes(600)  # frame 4's JPEG header and first scans wiped out
    path.write_bytes(bytes(data))
    assert main(["predict", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    lines = _lines(captured.out)
    assert [r["frame"] for r in lines] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert all(len(r["faces"]) == 1 for r in lines)
    assert "frame 4" in captured.err and "1 undecodable frame(s) skipped" in captured.err

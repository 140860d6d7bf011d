"""MediaPipe Face Mesh as the video benchmark's peer: its worker's point mapping and output parsing,
and an honest 'unavailable' (never a number) when the mediapipe package is not there. None of these
needs mediapipe itself."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekp.bench.mediapipe_worker import corners_from_mesh
from edgekp.bench.peers import MESH_TO_68
from edgekp.bench.peers_video import CORNER_ORDER, as_68, face_mesh_results, read_worker_output
from edgekp.bench.video_metrics import CORNERS, score_clip, summarize


def test_mesh_points_map_to_the_ibug_corners_in_pixels():
    mesh = np.random.default_rng(0).uniform(0, 1, (468, 2))
    out = corners_from_mesh(mesh.tolist(), 320, 240, MESH_TO_68)
    assert CORNER_ORDER == CORNERS  # the worker's order is the one the metrics score
    by_ibug = {dst: src for src, dst in MESH_TO_68.items()}
    for row, ibug in zip(out, CORNER_ORDER, strict=True):
        src = by_ibug[ibug]  # e.g. mesh 33 (right eye outer corner) -> iBUG 36
        assert row == pytest.approx(mesh[src] * [320, 240] - 0.5)
    assert by_ibug[36] == 33 and by_ibug[45] == 263 and by_ibug[48] == 61 and by_ibug[54] == 291
    assert np.isnan(corners_from_mesh(None, 320, 240, MESH_TO_68)).all()
    with pytest.raises(ValueError):
        corners_from_mesh(mesh[:100].tolist(), 320, 240, MESH_TO_68)


def test_worker_output_is_read_and_scored_on_the_six_corners(tmp_path):
    from edgekp.bench.video_clips import Clip

    rng = np.random.default_rng(1)
    gt = rng.uniform(50, 250, (4, 68, 2))
    clip = Clip(np.zeros((4, 8, 8, 3), np.uint8), gt, np.ones(4, bool), ["still"] * 4, 30.0, "synthetic")
    corners = gt[:, list(CORNER_ORDER)].copy()
    corners[2] = np.nan  # a frame without a face
    np.save(tmp_path / "clip00.npy", corners)
    (tmp_path / "timing.json").write_text(
        json.dumps(
            {"clips": [{"frames": 4, "seconds": 0.5, "cpu_seconds": 0.25}], "mediapipe": "0.10.21", "numpy": "1.26.4"}
        )
    )
    run = read_worker_output(tmp_path, 1)
    assert run.frames == 4 and run.seconds == 0.5 and run.versions["mediapipe"] == "0.10.21"
    full = as_68(run.points[0])
    scores = summarize(score_clip(clip, [None if np.isnan(p).all() else p for p in full]))
    assert scores["nme6"] == 0.0 and scores["missed"] == 1  # exact corners score 0; the empty frame is missed
    (tmp_path / "timing.json").write_text(json.dumps({"clips": []}))
    from edgekp.bench.peers import PeerUnavailable

    with pytest.raises(PeerUnavailable):
        read_worker_output(tmp_path, 1)


def test_benchmark_reports_mediapipe_unavailable_without_its_package(tmp_path):
    from edgekp.bench.video_clips import Clip

    clip = Clip(np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 68, 2)), np.ones(2, bool), ["still"] * 2, 30.0, "c")
    result = face_mesh_results([clip], [tmp_path / "c.mp4"], cache=tmp_path / "empty-cache", allow_install=False)
    assert result["status"] == "unavailable"
    assert "mediapipe" in result["reason"] and "--mediapipe" in result["reason"]
    assert not {"overall", "phases", "fps"} & set(result)  # no figure of any kind
    assert not (tmp_path / "empty-cache").exists()  # nothing installed without the opt-in

"""Face detection: BlazeFace anchors and decoding, box merging, the opt-in model fetch and the Haar fallback."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgekp.cli import main
from edgekp.inference.blazeface import FULL, SHORT, anchor_centres, decode, letterbox
from edgekp.inference.boxes import suppress_weighted
from edgekp.inference.detectors import (
    OPT_IN,
    DetectorChoice,
    DetectorUnavailable,
    make_detector,
)


def test_anchor_grids_match_the_models_outputs() -> None:
    short, full = anchor_centres(SHORT), anchor_centres(FULL)
    assert short.shape == (896, 2) and full.shape == (2304, 2)  # the models' regressor rows
    assert np.allclose(short[0], [0.5 / 16, 0.5 / 16]) and np.allclose(short[1], short[0])  # 2 anchors per cell
    assert np.allclose(short[512], [0.5 / 8, 0.5 / 8])  # the stride-16 grid starts after 16 x 16 x 2
    assert np.allclose(short[512:518], short[512])  # three stride-16 layers share a grid: 6 anchors per cell
    assert np.allclose(full[1], [1.5 / 48, 0.5 / 48])
    assert ((short > 0) & (short < 1)).all() and ((full > 0) & (full < 1)).all()


def test_decode_turns_offsets_into_a_normalized_box() -> None:
    anchors = anchor_centres(SHORT)
    reg = np.zeros((896, 16), np.float32)
    logits = np.full((896, 1), -20.0, np.float32)
    i = 600
    reg[i, :4] = [12.8, -6.4, 32.0, 64.0]  # dx, dy, w, h in 128 px input pixels
    logits[i] = 4.0
    boxes, scores = decode(reg, logits, anchors, 128, threshold=0.5)
    assert len(boxes) == 1 and scores[0] == pytest.approx(1 / (1 + np.exp(-4.0)))
    cx, cy = anchors[i] + [0.1, -0.05]
    assert np.allclose(boxes[0], [cx - 0.125, cy - 0.25, cx + 0.125, cy + 0.25], atol=1e-6)


def test_letterbox_maps_back_to_image_pixels() -> None:
    image = np.zeros((50, 100, 3), np.uint8)
    tensor, side, ox, oy = letterbox(image, 128, pad_scale=2.0)
    assert tensor.shape == (128, 128, 3) and tensor.min() >= -1 and tensor.max() <= 1
    assert (side, ox, oy) == (200.0, -50.0, -75.0)
    # the image occupies normalized (0.25, 0.375)-(0.75, 0.625) of the padded square
    corners = np.array([0.25, 0.375, 0.75, 0.625]) * side + [ox, oy, ox, oy]
    assert np.allclose(corners, [0, 0, 100, 50])


def test_overlapping_boxes_merge_by_score_and_separate_faces_stay() -> None:
    found = [(np.array([0, 0, 10, 10.0]), 0.9), (np.array([1, 1, 11, 11.0]), 0.3), (np.array([50, 50, 60, 60.0]), 0.8)]
    boxes = suppress_weighted(found, "test")
    assert len(boxes) == 2
    first = boxes[0]
    assert first.score == pytest.approx(0.9) and first.x == pytest.approx(0.25) and first.w == pytest.approx(10.0)
    assert suppress_weighted([], "test") == []


def test_chosen_blazeface_without_its_model_is_a_one_line_error_naming_the_opt_in(tmp_path, capsys) -> None:
    with pytest.raises(DetectorUnavailable, match=OPT_IN):
        make_detector(DetectorChoice("blazeface", cache=tmp_path))
    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), np.full((120, 120, 3), 100, np.uint8))
    code = main(["predict", str(photo), "--detector", "blazeface", "--peers-cache", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("edgekp: error:") and OPT_IN in err and "--detector haar" in err and err.count("\n") == 1
    assert not (tmp_path / "empty" / "mediapipe").exists()  # nothing was fetched without the opt-in


def test_auto_falls_back_to_haar_without_a_download(tmp_path, tiny_model_run, capsys) -> None:
    assert make_detector(DetectorChoice("auto", cache=tmp_path)).name == "haar"
    photo = tmp_path / "wall.png"
    cv2.imwrite(str(photo), np.full((200, 300, 3), 128, np.uint8))
    assert main(["predict", str(photo), "--model", str(tiny_model_run), "--peers-cache", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["faces"] == []
    assert OPT_IN in captured.err  # the fallback is announced in one warning


def _cached_blazeface() -> Path:
    from edgekp.bench.peers import default_cache, mediapipe_file

    return mediapipe_file(default_cache(), SHORT.member)


@pytest.mark.skipif(
    not _cached_blazeface().is_file(), reason="BlazeFace not fetched (edgekp predict --download-detector)"
)
def test_blazeface_finds_the_labelled_face_in_real_photos(shared_data) -> None:
    from edgekp.data.readers import read_dataset
    from edgekp.inference.boxes import FaceBox
    from edgekp.inference.pipeline import read_photo

    detector = make_detector(DetectorChoice("blazeface"))
    records = sorted(read_dataset(shared_data / "300w" / "afw").records, key=lambda r: r.source)[:12]
    for r in records:
        x0, y0 = r.points.min(0)
        x1, y1 = r.points.max(0)
        truth = FaceBox(float(x0), float(y0), float(x1 - x0), float(y1 - y0), "gt")
        boxes = detector.detect(read_photo(r.image))
        assert max(b.iou(truth) for b in boxes) >= 0.5, r.source

"""edgekp predict: faces in real photos, an empty photo, an unreadable file."""

from __future__ import annotations

import json

import cv2
import numpy as np

from edgekp.cli import main


def test_predict_writes_landmarks_for_every_detected_face(shared_data, tiny_model_run, tmp_path, capsys):
    photo = shared_data / "formats" / "dlib_xml" / "2008_002506.jpg"
    out = tmp_path / "out"
    code = main(["predict", str(photo), "--model", str(tiny_model_run), "--out", str(out), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["faces"], "the Haar detector found no face in a photo with faces"
    for face in result["faces"]:
        assert len(face["landmarks"]) == 68
        assert all(np.isfinite(face["landmarks"]).ravel())
    written = json.loads((out / "2008_002506.landmarks.json").read_text())
    assert len(written["faces"]) == len(result["faces"])
    # The annotated copy is the photo with a green dot on every landmark (drawn in RGB, saved as BGR).
    annotated = cv2.imread(str(out / "2008_002506.landmarks.jpg"))
    original = cv2.imread(str(photo))
    assert annotated is not None and annotated.shape == original.shape
    h, w = original.shape[:2]
    inside = [
        (int(round(x)), int(round(y)))
        for face in result["faces"]
        for x, y in face["landmarks"]
        if 0 <= round(x) < w and 0 <= round(y) < h
    ]
    assert inside, "no landmark falls inside the photo"
    green = [annotated[y, x, 1] > 160 and annotated[y, x, 1] > annotated[y, x, 2] + 60 for x, y in inside]
    assert np.mean(green) > 0.8  # JPEG blurs a few dots where they overlap the face box's orange


def test_photo_without_face_is_an_empty_list(tiny_model_run, tmp_path, capsys):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 128, np.uint8))
    assert main(["predict", str(blank), "--model", str(tiny_model_run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["faces"] == []


def test_given_box_skips_the_detector(tiny_model_run, tmp_path, capsys):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 128, np.uint8))
    assert main(["predict", str(blank), "--model", str(tiny_model_run), "--box", "50,40,100,100", "--json"]) == 0
    faces = json.loads(capsys.readouterr().out)[0]["faces"]
    assert len(faces) == 1 and faces[0]["detector"] == "given"


def test_unreadable_and_truncated_files_are_one_line_errors(tiny_model_run, tmp_path, capsys):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    assert main(["predict", str(junk), "--model", str(tiny_model_run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgekp: error:") and "junk.jpg" in err and err.count("\n") == 1
    ok, encoded = cv2.imencode(".jpg", np.full((64, 64, 3), 90, np.uint8))
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(encoded.tobytes()[:-200])
    assert main(["predict", str(truncated), "--model", str(tiny_model_run)]) == 2
    assert "truncated" in capsys.readouterr().err


def test_bad_box_is_a_user_error(tiny_model_run, tmp_path, capsys):
    assert main(["predict", str(tmp_path / "x.jpg"), "--box", "1,2,3"]) == 2
    assert "--box expects X,Y,W,H" in capsys.readouterr().err

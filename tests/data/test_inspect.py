"""edgekp data inspect on the real data and every format sample."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekp.cli import main

SAMPLES = [
    "formats/mmpose_coco_json/300w",
    "formats/mmpose_coco_json/300wlp",
    "formats/mmpose_coco_json/300vw",
    "formats/mmpose_coco_json/aflw",
    "formats/mmpose_coco_json/cofw",
    "formats/mmpose_coco_json/lapa",
    "formats/mmpose_coco_json/wflw",
    "formats/dlib_xml",
    "formats/menpo",
]


def inspect(capsys, *argv: str) -> tuple[int, dict | str, str]:
    try:
        code = main(["data", "inspect", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, (json.loads(out.out) if "--json" in argv else out.out), out.err


def test_afw_json(capsys, shared_data):
    code, report, _ = inspect(capsys, str(shared_data / "300w/afw"), "--json")
    assert code == 0
    assert (report["faces"], report["num_points"], report["scheme"]) == (201, 68, "ibug68")
    pose = report["pose"]
    assert pose["source"] == "estimate" and pose["yaw_threshold"] == 30.0
    assert pose["large"] + pose["small"] == 201 and pose["large"] > 0
    assert sum(pose["yaw"]["histogram"]["counts"]) == 201
    assert report["images"]["readable"] == 201 and report["problems"] == []


def test_afw_large_pose_share_with_the_corrected_estimator(capsys, shared_data):
    # 300W marks the visible jaw contour; fitting it read turned faces ~10 degrees low (7 of 201 large).
    code, report, _ = inspect(capsys, str(shared_data / "300w/afw"), "--json", "--headers-only")
    assert code == 0 and report["pose"]["large"] / report["faces"] >= 0.12
    assert report["visibility"]["carried"] is False and report["visibility"]["points"]["self_occluded"] == 0


def test_merlrav_train_visibility_and_labelled_yaw(capsys, shared_data):
    code, report, _ = inspect(capsys, str(shared_data / "merlrav/train"), "--json", "--headers-only")
    assert code == 0 and report["faces"] == 7832 and report["notice_count"] == 0
    vis = report["visibility"]
    assert vis["carried"] and vis["points"]["self_occluded"] > 50_000 and vis["points"]["occluded"] > 30_000
    assert vis["faces_with_self_occlusion"] > 4000 and vis["labelled_per_face"]["min"] >= 23
    pose = report["pose"]
    assert pose["source"] == "label" and pose["yaw"]["source"] == "label" and pose["pitch"]["source"] == "estimate"
    assert sum(pose["yaw_bins"].values()) == 7832 and 0.38 < pose["large"] / 7832 < 0.48


def test_ytf_train(capsys, shared_data):
    code, report, _ = inspect(capsys, str(shared_data / "ytf/train"), "--json", "--headers-only")
    assert code == 0 and report["faces"] == 3462 and report["images"]["width"]["max"] <= 384


def test_aflw2000_labelled_poses(capsys, shared_data):
    code, report, _ = inspect(capsys, str(shared_data / "aflw2000_3d"), "--json")
    assert code == 0 and report["faces"] == 4
    assert report["pose"]["source"] == "label" and report["pose"]["labelled"] == 4 and report["pose"]["large"] == 1


@pytest.mark.parametrize("sample", SAMPLES)
def test_format_samples(capsys, shared_data, sample):
    code, report, err = inspect(capsys, str(shared_data / sample), "--json", "--skip-bad")
    assert code == 0, err
    assert report["faces"] > 0 and report["images"]["bad"] == 0
    if report["num_points"] == 68:
        assert report["pose"]["source"] == "estimate"
    else:
        assert report["pose"]["note"] == "pose: not estimated for this scheme"


def test_text_report_and_problems_exit_2(capsys, shared_data, tmp_path):
    jpeg = (shared_data / "300w/afw/1051618982_1.jpg").read_bytes()
    pts = (shared_data / "300w/afw/1051618982_1.pts").read_text()
    for name, image in (("ok", jpeg), ("cut", jpeg[:5000]), ("gone", None)):
        (tmp_path / f"{name}.pts").write_text(pts)
        if image is not None:
            (tmp_path / f"{name}.jpg").write_bytes(image)
    lines = pts.splitlines()
    (tmp_path / "short.pts").write_text("\n".join([lines[0], "n_points: 67", *lines[2:-2], "}"]))
    code, out, err = inspect(capsys, str(tmp_path))
    assert code == 2
    assert (
        "3 faces" in out and "yaw (estimate):" in out and "cut.jpg" in out and "gone.jpg" in out and "short.pts" in out
    )
    assert err.strip().splitlines()[-1].startswith("edgekp: error: 3 problem(s)")
    code, report, _ = inspect(capsys, str(tmp_path), "--json", "--skip-bad")
    assert code == 0 and report["problem_count"] == 3 and report["faces"] == 3


def test_empty_folder_is_one_line_error(capsys, tmp_path):
    code, _, err = inspect(capsys, str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "no annotations found" in err


def test_non_68_scheme_is_not_estimated(capsys, tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "a.pts").write_text("\n".join(f"{x} {y}" for x, y in rng.uniform(1, 50, (19, 2))))
    code, out, _ = inspect(capsys, str(tmp_path), "--skip-bad")
    assert "pose: not estimated for this scheme" in out and "aflw19" in out

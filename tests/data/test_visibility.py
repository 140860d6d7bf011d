"""Per-point visibility end to end: COCO v 0/1/2 in the reader, the (0, 0) placeholder kept out of
crop boxes and pose fits, flips swapping visibility, and the bad-input rules of issue 12."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from edgekp.data.augment import BatchAugmenter, identity_spec
from edgekp.data.crops import crop_box_from_points, preload_crops
from edgekp.data.pose import estimate_poses, mean_face, record_poses, rotation_matrix
from edgekp.data.readers import read_dataset
from edgekp.data.records import FaceRecord
from edgekp.data.schemes import IBUG68
from edgekp.errors import DataError


def turned_face(yaw: float = 50.0, pitch: float = 5.0, roll: float = 3.0) -> np.ndarray:
    """68 x 2 pixel landmarks of the mean face turned by these angles."""
    rot = rotation_matrix(np.array([yaw]), np.array([pitch]), np.array([roll]))[0]
    return 40.0 * (mean_face() @ rot.T)[:, :2] + 60.0


def coco_doc(points: np.ndarray, vis: np.ndarray, **extra: object) -> dict:
    flat = [float(v) for (x, y), s in zip(points, vis, strict=True) for v in (x, y, s)]
    return {
        "images": [{"id": 1, "file_name": "p.jpg"}],
        "annotations": [{"image_id": 1, "id": 3, "keypoints": flat, **extra}],
    }


def profile_with_placeholders() -> tuple[np.ndarray, np.ndarray]:
    """A turned face whose far-side points are self-occluded and written as 0, 0 (MERL-RAV's way)."""
    pts = turned_face(55.0)
    vis = np.full(68, 2)
    hidden = [0, 1, 2, 3, 4, 5, 17, 18, 36, 41, 48, 59]
    vis[hidden] = 0
    vis[[30, 31]] = 1  # externally occluded: a location is given
    pts[hidden] = 0.0
    return pts, vis


def write_coco(folder: Path, doc: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "annotations.json").write_text(json.dumps(doc))
    return folder


def test_coco_reads_three_visibility_states_and_the_yaw_label(tmp_path):
    pts, vis = profile_with_placeholders()
    ds = read_dataset(write_coco(tmp_path, coco_doc(pts, vis, aflw_yaw_deg=-52.5)))
    (rec,) = ds.records
    np.testing.assert_array_equal(rec.visibility, vis)
    assert np.isnan(rec.points[vis == 0]).all() and np.isfinite(rec.points[vis > 0]).all()
    assert rec.labelled.sum() == 56 and ds.notices == []
    assert rec.pose is not None and rec.pose.yaw == -52.5 and np.isnan(rec.pose.pitch)
    # Labels win for yaw; the missing pitch and roll are estimated from the labelled points.
    poses = record_poses([rec])[0]
    assert poses[0] == pytest.approx(-52.5) and np.isfinite(poses[1:]).all()


def test_placeholder_never_reaches_the_crop_box(tmp_path):
    pts, vis = profile_with_placeholders()
    (rec,) = read_dataset(write_coco(tmp_path, coco_doc(pts, vis))).records
    expected = crop_box_from_points(pts[vis > 0], 0.25)
    assert crop_box_from_points(rec.points, 0.25) == pytest.approx(expected)
    image = np.zeros((120, 120, 3), np.uint8)
    crops = preload_crops([FaceRecord("p_1", rec.points, array=image, visibility=rec.visibility)], size=64)
    assert np.isnan(crops.points[0][vis == 0]).all()  # still no location after cropping
    np.testing.assert_array_equal(crops.vis()[0], vis)
    labelled = crops.points[0][vis > 0]
    # The labelled points span the crop's centre 1 / 1.5 along the box's longer side: nothing at (0, 0) pulled it.
    side = labelled.max(axis=0) - labelled.min(axis=0)
    assert side.max() == pytest.approx(1 / 1.5, abs=2 / 64)


def test_placeholder_never_reaches_the_pose_fit():
    pts, vis = profile_with_placeholders()
    placeholder = estimate_poses(pts, vis)
    nan_points = pts.copy()
    nan_points[vis == 0] = np.nan
    assert np.array_equal(placeholder, estimate_poses(nan_points))
    assert placeholder[0] == pytest.approx(55.0, abs=0.5)
    # Fitting the zeros as if they were landmarks (what the old estimator did) reads another pose.
    assert abs(estimate_poses(pts)[0] - 55.0) > 5.0


def test_removing_the_jaw_of_a_300w_style_face_moves_yaw_less_than_3_degrees(shared_data):
    # AFW (300W labels) marks the visible jaw contour; faces of every pose from frontal to profile.
    records = read_dataset(shared_data / "300w/afw", format="pts").records
    pts = np.stack([r.points for r in records])
    no_jaw = pts.copy()
    no_jaw[:, :17] = np.nan
    full, without = estimate_poses(pts)[:, 0], estimate_poses(no_jaw)[:, 0]
    turned = np.abs(full) > 15
    assert turned.sum() >= 20
    assert np.abs(full - without).max() < 3.0


def test_flip_swaps_visibility_with_the_points():
    aug = BatchAugmenter(identity_spec().model_copy(update={"flip": 1.0}), IBUG68)
    pts, vis = profile_with_placeholders()
    points = torch.from_numpy(np.where(vis[:, None] > 0, pts / 120.0, np.nan).astype(np.float32))[None]
    visibility = torch.from_numpy(vis.astype(np.uint8))[None]
    out = aug(torch.rand(1, 3, 32, 32), points, torch.Generator().manual_seed(0), visibility=visibility)
    perm = IBUG68.flip_permutation()
    assert out.flipped.all()
    np.testing.assert_array_equal(out.visibility[0].numpy(), vis[perm])
    assert out.visibility[0, 16] == 0 and out.visibility[0, 0] == 2  # jaw end 0 was hidden: now 16 is
    # The unlabelled points are still NaN where their visibility went, and only there.
    np.testing.assert_array_equal(torch.isnan(out.points[0]).any(dim=1).numpy(), vis[perm] == 0)


def test_visibility_outside_0_1_2_names_file_and_annotation(tmp_path):
    pts, vis = profile_with_placeholders()
    vis[7] = 3
    folder = write_coco(tmp_path, coco_doc(pts, vis))
    with pytest.raises(DataError, match=r"annotations\.json: annotations\[0\] \('p\.jpg'\) has visibility v = 3"):
        read_dataset(folder)


def test_bad_visibility_with_skip_bad_is_skipped_and_listed(tmp_path):
    pts, vis = profile_with_placeholders()
    bad = vis.copy()
    bad[7] = -1
    doc = coco_doc(pts, vis)
    doc["images"].append({"id": 2, "file_name": "q.jpg"})
    doc["annotations"].append({"image_id": 2, "id": 4, "keypoints": coco_doc(pts, bad)["annotations"][0]["keypoints"]})
    ds = read_dataset(write_coco(tmp_path, doc), skip_bad=True)
    assert [r.source for r in ds.records] == ["p_1"]
    assert len(ds.skipped) == 1 and "v = -1" in ds.skipped[0][1]


def test_v0_with_coordinates_is_unlabelled_and_counted(tmp_path):
    pts, vis = profile_with_placeholders()
    pts[0] = [12.0, 34.0]  # v = 0 but a location written anyway
    ds = read_dataset(write_coco(tmp_path, coco_doc(pts, vis)))
    (rec,) = ds.records
    assert np.isnan(rec.points[0]).all() and rec.visibility[0] == 0
    assert len(ds.notices) == 1 and "v = 0 have non-zero coordinates" in ds.notices[0][1]


def test_too_few_labelled_points_is_left_out_and_reported(tmp_path):
    pts, vis = profile_with_placeholders()
    sparse, sparse_pts = vis.copy(), pts.copy()
    sparse[20:], sparse_pts[20:] = 0, 0.0
    doc = coco_doc(pts, vis)
    doc["images"].append({"id": 2, "file_name": "q.jpg"})
    doc["annotations"].append(
        {"image_id": 2, "id": 4, "keypoints": coco_doc(sparse_pts, sparse)["annotations"][0]["keypoints"]}
    )
    ds = read_dataset(write_coco(tmp_path, doc))  # no skip_bad: still read, the sparse face left out
    assert [r.source for r in ds.records] == ["p_1"]
    assert (
        len(ds.notices) == 1
        and "fewer than the minimum 23" in ds.notices[0][1]
        and "annotation id 4" in ds.notices[0][0]
    )
    with pytest.raises(DataError, match="none of the 2 faces"):
        read_dataset(write_coco(tmp_path / "strict", doc), min_labelled=60)


def test_scheme_point_count_mismatch_names_the_file(tmp_path):
    pts, vis = profile_with_placeholders()
    folder = write_coco(tmp_path, coco_doc(pts[:60], vis[:60]))
    with pytest.raises(
        DataError, match=r"annotations\.json \(annotation id 3\): has 60 points but the scheme needs 68"
    ):
        read_dataset(folder, scheme="ibug68")


def test_pose_json_beside_pts_wins_and_missing_angles_are_estimated(tmp_path):
    pts = turned_face(40.0)
    body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in pts)
    (tmp_path / "a.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")
    (tmp_path / "b.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")
    (tmp_path / "pose.json").write_text(json.dumps({"a": {"yaw": -10.0}}))
    ds = read_dataset(tmp_path)
    poses = record_poses(ds.records)
    assert poses[0, 0] == pytest.approx(-10.0) and poses[0, 1] == pytest.approx(5.0, abs=0.5)
    assert poses[1, 0] == pytest.approx(40.0, abs=0.5)  # no label: estimated
    (tmp_path / "pose.json").write_text(json.dumps({"a": {"yaw": "left"}}))
    with pytest.raises(DataError, match=r"pose\.json: pose entry 'a' needs finite numbers"):
        read_dataset(tmp_path)


def test_merlrav_train_reads_with_visibility(shared_data):
    ds = read_dataset(shared_data / "merlrav/train", format="coco")
    assert len(ds) == 7832 and ds.notices == [] and ds.skipped == []
    vis = np.stack([r.visibility for r in ds.records])
    assert (vis == 0).sum() > 50_000 and (vis == 1).sum() > 30_000
    pts = np.stack([r.points for r in ds.records])
    assert np.isnan(pts[vis == 0]).all() and np.isfinite(pts[vis > 0]).all()
    assert all(r.pose is not None and np.isfinite(r.pose.yaw) for r in ds.records)


def test_menpo_ljson_null_points_are_unlabelled(tmp_path):
    pts = turned_face(30.0)
    yx = [[float(y), float(x)] for x, y in pts]
    yx[3], yx[4] = None, [None, None]
    (tmp_path / "a.ljson").write_text(json.dumps({"groups": {"LJSON": {"landmarks": {"points": yx}}}}))
    (rec,) = read_dataset(tmp_path).records
    assert rec.visibility is not None and list(np.flatnonzero(rec.visibility == 0)) == [3, 4]
    assert np.isnan(rec.points[[3, 4]]).all()
    np.testing.assert_allclose(rec.points[5], pts[5], rtol=1e-5)

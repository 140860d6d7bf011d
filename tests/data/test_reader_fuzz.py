"""Hypothesis fuzzing: arbitrary .pts text/bytes and COCO JSON give records or a DataError, nothing else."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgekp.data.readers import read_dataset
from edgekp.data.readers.coco import parse_coco
from edgekp.data.readers.common import Problems
from edgekp.data.readers.pts import parse_pts
from edgekp.errors import DataError

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

number = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**400), 10**400))
line = st.one_of(
    st.tuples(number, number).map(lambda p: f"{p[0]} {p[1]}"),
    st.sampled_from(["version: 1", "n_points: 3", "n_points: x", "{", "}", "", "1,2", "nan inf", "1 2 3"]),
    st.text(max_size=20),
)
pts_text = st.lists(line, max_size=12).map("\n".join)


def _read_file(suffix: str, payload: bytes, **kwargs) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / f"f{suffix}"
        file.write_bytes(payload)
        try:
            ds = read_dataset(file, **kwargs)
        except DataError as exc:
            assert "\n" not in str(exc)
            return
        assert len(ds.records) > 0


@FUZZ
@given(pts_text)
def test_parse_pts_text(text):
    try:
        points = parse_pts(text, "f.pts")
    except DataError:
        return
    assert points.ndim == 2 and points.shape[1] == 2 and len(points) > 0


@FUZZ
@given(st.one_of(pts_text.map(str.encode), st.binary(max_size=200)), st.booleans())
def test_read_pts_file(payload, skip_bad):
    _read_file(".pts", payload, skip_bad=skip_bad)


json_leaf = st.one_of(st.none(), st.booleans(), number, st.text(max_size=8))
json_value = st.recursive(
    json_leaf,
    lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=6), c, max_size=4)),
    max_leaves=12,
)
keypoints = st.lists(st.one_of(number, json_leaf), max_size=12)
image = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.integers(0, 3), json_leaf),
        "file_name": st.one_of(st.sampled_from(["a.jpg", "d/b.png", ""]), json_leaf),
    },
)
annotation = st.fixed_dictionaries(
    {},
    optional={
        "image_id": st.one_of(st.integers(0, 3), json_leaf),
        "id": json_leaf,
        "keypoints": st.one_of(keypoints, json_value),
        "bbox": st.one_of(st.lists(number, min_size=4, max_size=4), json_value),
    },
)
coco_doc = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {
            "images": st.one_of(st.lists(image, max_size=3), json_value),
            "annotations": st.one_of(st.lists(annotation, max_size=4), json_value),
        }
    ),
)


@FUZZ
@given(coco_doc, st.booleans())
def test_parse_coco_structures(doc, skip_bad):
    try:
        items = parse_coco(doc, Path("ann.json"), Problems(skip_bad=skip_bad))
    except DataError:
        return
    assert all(item.record.points.shape[1] == 2 for item in items)


@FUZZ
@given(st.one_of(coco_doc.map(lambda d: json.dumps(d).encode()), st.binary(max_size=200)), st.booleans())
def test_read_coco_file(payload, skip_bad):
    _read_file(".json", payload, format="coco", skip_bad=skip_bad)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        json_value.map(lambda d: json.dumps({"groups": {"g": {"landmarks": {"points": d}}}}).encode()),
        st.binary(max_size=120),
    ),
    st.sampled_from([".ljson", ".xml"]),
)
def test_read_ljson_and_xml_files(payload, suffix):
    if suffix == ".xml":
        payload = (
            b"<dataset><images><image file='a.jpg'><box top='0' left='0' width='1' height='1'>"
            + payload
            + b"</box></image></images></dataset>"
        )
    _read_file(suffix, payload, format="ljson" if suffix == ".ljson" else "dlib_xml")

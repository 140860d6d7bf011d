"""Property-based fuzzing of every reader and of the recipe loader (issue 27): any byte string or any
mangled field gives records, a one-line DataError (readers) or a one-line ConfigError (recipes), never
another exception. Fixed example counts and a derandomized search, so CI runs the same cases each time
(tests/data/test_reader_fuzz.py fuzzes .pts text and COCO structures besides)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from edgekp.config.loader import load_recipe
from edgekp.data.readers import read_dataset
from edgekp.errors import ConfigError, DataError

REPO = Path(__file__).resolve().parents[2]
# derandomize: the same examples on every run (a CI failure reproduces locally); database=None: no
# .hypothesis folder decides what runs.
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

number = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30))
text = st.text(max_size=12)
json_leaf = st.one_of(st.none(), st.booleans(), number, text)
json_value = st.recursive(
    json_leaf, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(text, c, max_size=4)), max_leaves=10
)


def _read(name: str, payload: bytes, fmt: str = "auto", skip_bad: bool = False) -> None:
    """Read one annotation file; only records or a one-line DataError may come out."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / name
        file.write_bytes(payload)
        for target in (file, Path(tmp)):  # the file itself and its folder (format detection on a folder)
            try:
                ds = read_dataset(target, format=fmt, skip_bad=skip_bad)
            except DataError as exc:
                assert "\n" not in str(exc)
                continue
            assert len(ds.records) > 0
            for record in ds.records:
                assert record.points.ndim == 2 and record.points.shape[1] == 2
                if record.pose is not None:  # a labelled pose is finite (1e308 radians once became inf degrees)
                    assert all(np.isfinite([record.pose.yaw, record.pose.pitch, record.pose.roll]))


# --- raw bytes into every format -----------------------------------------------------------------


@FUZZ
@given(
    st.binary(max_size=300),
    st.sampled_from(
        [("a.mat", "aflw2000"), ("a.ljson", "ljson"), ("a.xml", "dlib_xml"), ("a.json", "coco"), ("a.pts", "pts")]
    ),
    st.booleans(),
)
def test_any_bytes_in_any_format(payload, named, skip_bad):
    name, fmt = named
    _read(name, payload, fmt, skip_bad)


@FUZZ
@given(
    st.binary(max_size=300),
    st.sampled_from(
        [b"<dataset>", b"MATLAB 5.0 MAT-file", b'{"images": ', b'{"groups": ', b"version: 1\nn_points: 68\n{\n"]
    ),
)
def test_bytes_after_a_plausible_header(payload, header):
    name = {b"<": "a.xml", b"M": "a.mat", b'{"i': "a.json", b'{"g': "a.ljson", b"v": "a.pts"}
    key = next(k for k in name if header.startswith(k))
    _read(name[key], header + payload)


# --- mangled fields --------------------------------------------------------------------------------


def _valid_ljson() -> dict:
    return {
        "version": 2,
        "groups": {
            "face": {"landmarks": {"points": [[20.0 + i, 10.0 + i] for i in range(68)]}},
            "pupils": {"landmarks": {"points": [[1.0, 2.0], [3.0, 4.0]]}},
        },
    }


@FUZZ
@given(
    st.lists(
        st.sampled_from(["version", "groups", "face", "landmarks", "points", "pupils", 0, 5, 67]),
        min_size=1,
        max_size=4,
    ),
    json_value,
)
def test_ljson_with_a_mangled_field(path, value):
    doc = _valid_ljson()
    node = doc
    for key in path[:-1]:
        nxt = (
            node.get(key)
            if isinstance(node, dict)
            else (node[key] if isinstance(node, list) and isinstance(key, int) and key < len(node) else None)
        )
        if not isinstance(nxt, (dict, list)):
            break
        node = nxt
    last = path[-1]
    if isinstance(node, dict):
        node[str(last)] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    _read("a.ljson", json.dumps(doc).encode())


def _dlib_xml(attrs: dict[str, str], parts: list[tuple[str, str, str]], extra: str) -> bytes:
    part_xml = "".join(f"<part name={quoteattr(n)} x={quoteattr(x)} y={quoteattr(y)}/>" for n, x, y in parts)
    box = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
    return (
        f"<dataset><images><image file='a.jpg'><box {box}>{part_xml}</box>{extra}</image></images></dataset>".encode()
    )


numeric_text = st.one_of(number.map(str), text)


@FUZZ
@given(
    st.dictionaries(st.sampled_from(["top", "left", "width", "height", "ignore"]), numeric_text, max_size=5),
    st.lists(
        st.tuples(
            st.one_of(
                st.integers(0, 80).map(lambda i: f"{i:02d}"), st.sampled_from(["\u00b2", "\u0663", "1\u00b2"]), text
            ),
            numeric_text,
            numeric_text,
        ),
        max_size=70,
    ),
    st.sampled_from(["", "<box/>", "<box top='1'><part/></box>", "<image/>"]),
)
# Found by this test: a part named '²' passed isdigit() and crashed int() with a ValueError.
@example(
    {"top": "1", "left": "1", "width": "50", "height": "50"},
    [("\u00b2", "1", "2"), *((f"{i:02d}", str(i), "3") for i in range(1, 68))],
    "",
)
def test_dlib_xml_with_mangled_attributes(attrs, parts, extra):
    _read("a.xml", _dlib_xml(attrs, parts, extra))


@FUZZ
@given(
    st.one_of(st.just((3, 68)), st.tuples(st.integers(0, 4), st.integers(0, 70))),
    st.sampled_from(["float64", "int32", "complex128", "bool", "uint8"]),
    st.one_of(st.none(), st.integers(0, 9)),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_mat_with_mangled_arrays(shape, dtype, pose_size, drop_landmarks, fill):
    import scipy.io

    rng = np.random.default_rng(0)
    arrays = {}
    if not drop_landmarks:
        landmarks = rng.uniform(0, 100, size=shape).astype(dtype)
        if landmarks.size and np.issubdtype(landmarks.dtype, np.floating):
            landmarks.flat[0] = fill
        arrays["pt3d_68"] = landmarks
    if pose_size is not None:
        arrays["Pose_Para"] = np.full((1, pose_size), fill)
    if not arrays:
        arrays["other"] = np.zeros(1)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "image00001.mat"
        scipy.io.savemat(str(file), arrays)
        _read(file.name, file.read_bytes())


# --- the recipe loader -----------------------------------------------------------------------------

RECIPES = sorted(p for p in (REPO / "recipes").rglob("*.yaml"))


def _load(payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "r.yaml"
        file.write_bytes(payload)
        try:
            load_recipe(file)
        except ConfigError as exc:
            assert "\n" not in str(exc)


@FUZZ
@given(st.binary(max_size=300))
def test_recipe_loader_on_any_bytes(payload):
    _load(payload)


@FUZZ
@given(
    st.sampled_from(["kind: train\nversion: 1\n", "kind: export\nversion: 1\n", "kind: pipeline\nversion: 1\n"]),
    st.text(max_size=200),
)
def test_recipe_loader_on_text_after_a_valid_header(header, tail):
    _load((header + tail).encode("utf-8", "surrogatepass"))


def _flatten(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _flatten(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _flatten(v, (*prefix, i))
    yield prefix


@FUZZ
@given(st.sampled_from(RECIPES), st.data(), json_value)
def test_recipe_with_a_mangled_field(recipe, data, value):
    doc = yaml.safe_load(recipe.read_text())
    paths = [p for p in _flatten(doc) if p]
    path = data.draw(st.sampled_from(paths))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    _load(yaml.safe_dump(doc).encode())

"""Bench pieces: cache keyed by hash (corrupt file rebuilt), latency statistics, artifact discovery
with failed/skipped exports, unavailable peers, and a small real bench of a tiny run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgekp.bench.cache import BenchCache, cache_key
from edgekp.bench.runs import find_artifacts
from edgekp.cli import main
from edgekp.errors import LineageError
from edgekp.lineage.run_dir import RunDir


def make_run(path: Path) -> Path:
    """A train run holding a trained-looking kp_hvit_test at 64 px: weights at a trained model's scale,
    so its predictions depend on the face (an untrained one predicts nearly the same points for all)."""
    from face_fixtures import scaled_tiny_model

    from edgekp.lineage.plain_format import save_model

    run = RunDir.create(path, "train", recipe={"model": {"name": "kp_hvit_test", "input_size": 64, "num_points": 68}})
    save_model(path / "model.pt", scaled_tiny_model(64, 0), {"scheme": "ibug68", "crop_margin": 0.25})
    run.finish("ok")
    return path


def test_cache_is_keyed_by_artifact_data_and_threads(tmp_path: Path) -> None:
    cache = BenchCache(tmp_path)
    k1 = cache_key("a" * 64, "d1", 1, "latency")
    cache.put(k1, {"p50_ms": 1.0})
    assert BenchCache(tmp_path).get(k1) == {"p50_ms": 1.0}  # persisted
    for other in (
        cache_key("b" * 64, "d1", 1, "latency"),
        cache_key("a" * 64, "d2", 1, "latency"),
        cache_key("a" * 64, "d1", 2, "latency"),
    ):
        assert BenchCache(tmp_path).get(other) is None


@pytest.mark.parametrize("garbage", [b"{not json", b"[]", b'{"version": 99, "entries": {}}', b"\xff\xfe"])
def test_corrupt_cache_is_rebuilt(tmp_path: Path, garbage: bytes) -> None:
    (tmp_path / "cache.json").write_bytes(garbage)
    cache = BenchCache(tmp_path)
    assert cache.rebuilt and cache.entries == {}
    cache.put("k", 1)
    assert json.loads((tmp_path / "cache.json").read_text())["entries"] == {"k": 1}


def _export_run(path: Path, target: str, precision: str, status: str, **fields: object) -> None:
    run = RunDir.create(path, "export", recipe={"exports": [{"target": target, "precision": precision, "route": None}]})
    run.finish(status, **fields)


def test_find_artifacts_lists_failed_and_skipped_exports(tmp_path: Path) -> None:
    run = make_run(tmp_path / "train")
    _export_run(run / "exports" / "openvino-int8", "openvino", "int8", "failed", error="conversion failed: boom")
    _export_run(
        run / "exports" / "tflite-fp16",
        "tflite",
        "fp16",
        "failed",
        parity={"problems": ["max abs 3e-3 > 1e-3"]},
        failed_dir="x",
    )
    (run / "exports" / "skipped.json").write_text(
        json.dumps([{"target": "coreml", "precision": "int8", "reason": "no coremltools"}])
    )
    _, refs = find_artifacts(run)
    got = {(r.target, r.precision): (r.status, r.reason) for r in refs}
    assert got[("pytorch", "fp32")] == ("ok", "")
    assert got[("openvino", "int8")] == ("export failed", "conversion failed: boom")
    assert got[("tflite", "fp16")] == ("parity failed", "max abs 3e-3 > 1e-3")
    assert got[("coreml", "int8")] == ("skipped", "no coremltools")


def test_run_without_artifacts_is_refused(tmp_path: Path) -> None:
    RunDir.create(tmp_path / "empty", "train").finish("ok")
    with pytest.raises(LineageError, match="holds no artifacts"):
        find_artifacts(tmp_path / "empty")


def test_unavailable_peer_is_a_skipped_row(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from edgekp.bench import peers
    from edgekp.bench.bench_run import BenchOptions

    def refuse(*_: object) -> None:
        raise peers.PeerUnavailable("could not obtain it with pip (no network)")

    monkeypatch.setattr(peers, "obtain_dlib", refuse)
    monkeypatch.setattr(peers, "obtain_mediapipe", refuse)
    rows = peers.bench_peers(None, BenchOptions(peers_cache=str(tmp_path)), BenchCache(tmp_path))
    assert [(r.target, r.status) for r in rows] == [("dlib", "skipped"), ("mediapipe", "skipped")]
    assert all("no network" in r.reason for r in rows)


def test_bench_cli_on_a_tiny_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from edgekp.data.synthetic_store import ensure_synthetic_dataset

    run = make_run(tmp_path / "train")
    data = ensure_synthetic_dataset(tmp_path / "faces", 12, 96, 5)
    argv = [
        "bench",
        "--from",
        str(run),
        "--data",
        str(data),
        "--min-runs",
        "5",
        "--min-seconds",
        "0.01",
        "--warmup",
        "1",
        "--json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    row = result["rows"][0]
    assert (row["target"], row["status"], row["accuracy"]["n"]) == ("pytorch", "ok", 12)
    assert row["latency"][0]["runs"] >= 5 and row["params"] > 0 and row["flops"] > 0
    assert len(row["accuracy"]["per_landmark"]) == 68
    errors = np.asarray(row["accuracy"]["errors"])
    assert errors.std() > 0  # the model's error depends on the face: a recompute is not a constant
    # A cache hit: plant a value only the cache can return; the second bench must report it.
    cache_file = run / "bench" / "cache.json"
    doc = json.loads(cache_file.read_text())
    (key,) = [k for k, v in doc["entries"].items() if isinstance(v, dict) and "nme" in v]
    doc["entries"][key]["nme"] = 0.123456
    cache_file.write_text(json.dumps(doc))
    assert main(argv) == 0
    hit = json.loads(capsys.readouterr().out)["rows"][0]
    assert (
        hit["accuracy"]["nme"] == 0.123456 and hit["latency"] == row["latency"]
    )  # both read back, nothing re-measured
    # A corrupt cache is rebuilt, not crashed on: the recompute gives the first run's figure again.
    cache_file.write_text("{corrupt")
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)["rows"][0]
    assert np.isclose(again["accuracy"]["nme"], row["accuracy"]["nme"]) and again["accuracy"]["nme"] != 0.123456
    assert (
        again["latency"][0]["p50_ms"] != row["latency"][0]["p50_ms"]
        or again["latency"][0]["seconds"] != row["latency"][0]["seconds"]
    )
    assert json.loads(cache_file.read_text())["version"] == 1
    # The report shows a grid of sample crops, unless told not to (reports of licensed faces you commit).
    assert main(["report", str(run), "--out", str(tmp_path / "rep")]) == 0
    assert list((tmp_path / "rep" / "plots").glob("samples_*.png"))
    assert main(["report", str(run), "--out", str(tmp_path / "bare"), "--no-samples"]) == 0
    assert not list((tmp_path / "bare" / "plots").glob("samples_*.png"))
    assert "Sample faces" not in (tmp_path / "bare" / "report.md").read_text()


def test_bench_bad_threads_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path / "train")
    assert main(["bench", "--from", str(run), "--threads", "1,x"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_bench_scores_several_datasets_and_only_held_out_faces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edgekp.data.readers import read_dataset
    from edgekp.data.synthetic_store import ensure_synthetic_dataset

    run = make_run(tmp_path / "train")
    first = ensure_synthetic_dataset(tmp_path / "data" / "a", 6, 96, 5)
    second = ensure_synthetic_dataset(tmp_path / "data" / "b", 4, 96, 6)
    held = {
        "a": [r.source for r in read_dataset(first).records][:2],
        "b": [r.source for r in read_dataset(second).records][-1:],
    }
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["data"] = {"holdout": held}
    (run / "manifest.json").write_text(json.dumps(manifest))
    base = [
        "bench",
        "--from",
        str(run),
        "--data",
        str(first),
        "--data",
        str(second),
        "--min-runs",
        "2",
        "--min-seconds",
        "0.01",
        "--warmup",
        "1",
        "--json",
    ]
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["accuracy"]["n"] == 10  # both sets, every face
    assert main([*base, "--holdout"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"][0]["accuracy"]["n"] == 3 and "held-out" in result["data"]


def test_bench_refuses_a_model_without_its_crop_margin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No silent 0.25: a model that does not say how it was cropped cannot be scored on the right crops."""
    from face_fixtures import scaled_tiny_model

    from edgekp.data.synthetic_store import ensure_synthetic_dataset
    from edgekp.lineage.plain_format import save_model

    run = tmp_path / "train"
    made = RunDir.create(run, "train", recipe={"model": {"name": "kp_hvit_test", "input_size": 64, "num_points": 68}})
    save_model(run / "model.pt", scaled_tiny_model(64, 0), {"scheme": "ibug68"})
    made.finish("ok")
    data = ensure_synthetic_dataset(tmp_path / "faces", 4, 96, 5)
    capsys.readouterr()  # the rendering's log lines
    assert main(["bench", "--from", str(run), "--data", str(data), "--min-runs", "2", "--min-seconds", "0.01"]) == 2
    err = capsys.readouterr().err
    assert "crop_margin" in err and err.count("\n") == 1

"""The shipped model as a source: complete lineage, the default of every verb, outputs under the
current directory, and never a byte written into the installed package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from face_fixtures import require_backend, run_cli

from edgekp.errors import ConfigError, LineageError
from edgekp.files.hashes import sha256_file, sha256_json
from edgekp.lineage.model_source import OUT_ROOT, materialize_shipped, names_shipped, resolve_source
from edgekp.lineage.run_dir import RunDir
from edgekp.lineage.shipped import (
    PACKAGE_DIR,
    SHIPPED_NAME,
    SHIPPED_SIZES,
    shipped_manifest,
    shipped_model_path,
    shipped_size,
)


def _package_state() -> dict[str, tuple[int, float]]:
    return {
        str(p.relative_to(PACKAGE_DIR)): (p.stat().st_size, p.stat().st_mtime)
        for p in sorted(PACKAGE_DIR.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("size", sorted(SHIPPED_SIZES))
def test_shipped_manifest_records_its_lineage(size: str) -> None:
    m = shipped_manifest(size)
    assert m["name"] == SHIPPED_SIZES[size]
    assert m["model_sha256"] == sha256_file(shipped_model_path(size))
    recipe = m["trained_by"]["recipe"]
    assert recipe["kind"] == "train" and recipe["data"]["train"]
    lineage = m["lineage"]
    assert lineage["recipe_sha256"] == sha256_json(recipe)
    holdout = m["data"]["holdout"]
    assert lineage["holdout_sha256"] == sha256_json(holdout)
    # The held-out photos are the split-off validation set; named validation sets (MERL-RAV test) add to val_faces.
    split_name = (recipe["data"].get("val_split") or {}).get("name")
    split_off = next(
        (v["faces"] for v in m["data"].get("val_sets", []) if v["name"] == split_name), m["data"]["val_faces"]
    )
    assert lineage["holdout_faces"] == sum(len(v) for v in holdout.values()) == split_off > 0
    assert m["data"]["val_faces"] == sum(v["faces"] for v in m["data"].get("val_sets", [])) or not m["data"].get(
        "val_sets"
    )
    for entry in recipe["data"]["train"]:
        counts = lineage["datasets"][entry["path"]]
        assert counts["train_faces"] == m["data"]["per_dataset"][entry["path"]]["train"]
        assert counts["sha256"] is None or len(counts["sha256"]) == 64
    assert sum(d["train_faces"] for d in lineage["datasets"].values()) == m["data"]["train_faces"]


def test_source_resolution_names_the_shipped_model(tmp_path: Path) -> None:
    assert names_shipped(None) == names_shipped("shipped") == names_shipped(str(PACKAGE_DIR)) == "s"
    for size in SHIPPED_SIZES:
        assert names_shipped(f"shipped:{size}") == names_shipped(str(shipped_model_path(size))) == size
    assert not names_shipped(str(tmp_path))
    with pytest.raises(ConfigError, match="shipped:t, shipped:s, shipped:b"):
        shipped_size("shipped:xl")
    other = resolve_source(str(tmp_path / "some_run"))
    assert not other.shipped and other.run_dir == tmp_path / "some_run"


def test_materialized_source_is_a_train_run_beside_the_user_not_in_the_package(tmp_path: Path) -> None:
    before = _package_state()
    source = resolve_source("shipped", out_root=tmp_path / OUT_ROOT)
    assert source.shipped and source.run_dir == tmp_path / OUT_ROOT / SHIPPED_NAME
    run = RunDir.open(source.run_dir, expect_kinds=("train",))
    assert sha256_file(source.model) == shipped_manifest()["model_sha256"] == run.manifest["artifacts"]["model.pt"]
    assert run.manifest["recipe"] == shipped_manifest()["trained_by"]["recipe"]
    assert run.manifest["data"]["holdout"] == shipped_manifest()["data"]["holdout"]
    stamp = source.manifest.stat().st_mtime_ns
    assert materialize_shipped(tmp_path / OUT_ROOT) == source.run_dir
    assert source.manifest.stat().st_mtime_ns == stamp  # reused, not rewritten
    source.model.write_bytes(b"someone else's weights")
    materialize_shipped(tmp_path / OUT_ROOT)  # a stale or damaged copy is replaced
    assert sha256_file(source.model) == shipped_manifest()["model_sha256"]
    assert _package_state() == before


def test_each_size_materializes_as_its_own_run_and_differs_in_size(tmp_path: Path) -> None:
    from edgekp.lineage.checkpoints import load_run_model

    params = {}
    for size in SHIPPED_SIZES:
        source = resolve_source(f"shipped:{size}", out_root=tmp_path / OUT_ROOT)
        assert source.shipped and source.run_dir == tmp_path / OUT_ROOT / SHIPPED_SIZES[size]
        assert sha256_file(source.model) == shipped_manifest(size)["model_sha256"]
        params[size] = sum(p.numel() for p in load_run_model(source.run_dir).model.parameters())
    assert params["t"] < params["s"] < params["b"]


def test_unknown_size_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "eval", "--model", "shipped:xl", "--data", str(tmp_path))
    assert code == 2 and "the sizes are shipped:t, shipped:s, shipped:b" in err and len(err.strip().splitlines()) == 1


def test_an_output_folder_inside_the_package_is_refused() -> None:
    with pytest.raises(LineageError, match="inside the installed edgekp package"):
        materialize_shipped(PACKAGE_DIR / OUT_ROOT)
    assert not (PACKAGE_DIR / OUT_ROOT).exists()


def test_export_without_from_writes_under_the_current_directory(tmp_path, monkeypatch, capsys) -> None:
    require_backend("openvino")
    monkeypatch.chdir(tmp_path)
    before = _package_state()
    code, out, err = run_cli(capsys, "export", "--target", "openvino")
    assert code == 0, err
    artifact = tmp_path / OUT_ROOT / SHIPPED_NAME / "exports" / "openvino-fp32" / "model.xml"
    assert artifact.is_file() and f"written to: {artifact}" in out
    export = RunDir.open(artifact.parent, expect_kinds=("export",))
    assert export.manifest["status"] == "ok" and export.manifest["parity"]["passed"]
    assert Path(export.manifest["parent"]["path"]) == (tmp_path / OUT_ROOT / SHIPPED_NAME).resolve()
    assert _package_state() == before


def test_default_int8_calibration_needs_no_data_and_says_real_faces_are_better(tmp_path, monkeypatch) -> None:
    from edgekp.config.export import ExportRecipe
    from edgekp.data.calibration import (
        PACKAGED,
        load_calibration,
        resolve_definition,
        synthetic_warning,
    )

    monkeypatch.chdir(tmp_path)  # no calibration/ folder here
    default = ExportRecipe().calibration
    path = resolve_definition(default)
    assert path.is_file()
    packaged = PACKAGED / default
    assert packaged.is_file()
    repo_copy = Path(__file__).resolve().parents[1] / default
    if repo_copy.is_file():  # the packaged copy is the committed set, byte for byte
        assert packaged.read_bytes() == repo_copy.read_bytes()
    assert len(load_calibration(packaged, None, 64)) == 64
    warning = synthetic_warning(default)
    assert warning is not None and "--calib" in warning and "\n" not in warning
    assert synthetic_warning("calibration/300w_train_128.yaml") is None


def test_bench_and_report_default_to_the_shipped_outputs(shared_data, tmp_path, monkeypatch, capsys) -> None:
    import shutil

    faces = tmp_path / "faces"
    faces.mkdir()
    for name in ("1051618982_1", "1139324862_1"):
        for ext in (".jpg", ".pts"):
            shutil.copy(shared_data / "300w" / "afw" / f"{name}{ext}", faces)
    monkeypatch.chdir(tmp_path)
    before = _package_state()
    code, out, err = run_cli(
        capsys,
        "bench",
        "--data",
        str(faces),
        "--targets",
        "pytorch",
        "--min-runs",
        "3",
        "--min-seconds",
        "0.05",
        "--warmup",
        "1",
        "--json",
    )
    assert code == 0, err
    bench = tmp_path / OUT_ROOT / SHIPPED_NAME / "bench" / "bench.json"
    assert json.loads(bench.read_text())["rows"][0]["target"] == "pytorch"
    code, out, err = run_cli(capsys, "report", "--out", str(tmp_path / "report"))
    assert code == 0, err
    assert (tmp_path / "report" / "report.md").is_file() and "written to:" in out
    assert _package_state() == before

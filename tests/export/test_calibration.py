"""Calibration set definitions: build, reload with hash checks, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgekp.cli import main
from edgekp.data.calibration import (
    SyntheticSource,
    build_definition,
    load_calibration,
    read_definition,
    write_definition,
)
from edgekp.errors import DataError


def test_committed_synthetic_set_loads_anywhere(synthetic_64) -> None:
    calib = load_calibration(synthetic_64, None, 64)
    assert calib.images.shape == (64, 64, 64, 3) and calib.points.shape == (64, 68, 2)
    assert calib.points.min() >= 0 and calib.points.max() <= 1
    assert calib.model_inputs().shape == (64, 3, 64, 64)
    assert int(calib.large_pose.sum()) == 32  # pose-balanced


def test_committed_300w_set_stores_relative_paths(shared_data) -> None:
    definition = read_definition("calibration/300w_train_128.yaml")
    assert [d.path for d in definition.datasets] == ["300w/helen_train", "300w/afw"]
    assert all(f.image and not Path(f.image).is_absolute() for f in definition.faces)
    calib = load_calibration("calibration/300w_train_128.yaml", shared_data, 64)
    assert len(calib) == 128
    # Built with --exclude-holdout: no face the shipped model held out for validation calibrates an export.
    from edgekp.bench.holdout import holdout_of_run
    from edgekp.lineage.shipped import shipped_model_path

    held = {(key, src) for key, sources in holdout_of_run(str(shipped_model_path())).items() for src in sources}
    chosen = {(str(Path(f.image).parent), f.source) for f in definition.faces}
    assert held and not chosen & held and definition.excluded == len(held)


def _dataset(tmp_path: Path) -> Path:
    from edgekp.data.synthetic import write_synthetic

    write_synthetic(tmp_path / "root" / "faces", n=6, size=96, seed=1)
    return tmp_path / "root"


def test_excluded_faces_are_never_chosen(tmp_path) -> None:
    root = _dataset(tmp_path)
    every = build_definition("t", n=6, datasets=[str(root / "faces")], data_root=root, balanced=False)
    keep_out = {every.faces[0].source, every.faces[3].source}
    definition = build_definition(
        "t", n=4, datasets=[str(root / "faces")], data_root=root, balanced=False, exclude={"faces": keep_out}
    )
    assert len(definition.faces) == 4 and not {f.source for f in definition.faces} & keep_out
    with pytest.raises(DataError):  # 6 faces minus 2 held out cannot give 5
        build_definition(
            "t", n=5, datasets=[str(root / "faces")], data_root=root, balanced=False, exclude={"faces": keep_out}
        )


def test_changed_image_is_a_one_line_error(tmp_path) -> None:
    root = _dataset(tmp_path)
    definition = build_definition("t", n=4, datasets=[str(root / "faces")], data_root=root, balanced=False)
    path = write_definition(definition, tmp_path / "t.yaml")
    assert len(load_calibration(path, root, 32)) == 4
    victim = root / definition.faces[0].image
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(DataError) as exc:
        load_calibration(path, root, 32)
    assert "1 of 4 faces no longer match their sha256" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_edited_hash_and_empty_set(tmp_path) -> None:
    definition = build_definition("s", n=4, synthetic=SyntheticSource(size=64, seed=3), balanced=False)
    data = definition.model_dump(mode="json")
    data["faces"][1]["sha256"] = "0" * 64
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(DataError, match="no longer match"):
        load_calibration(tmp_path / "bad.yaml", None, 32)
    data["faces"] = []
    (tmp_path / "empty.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(DataError, match="is empty"):
        load_calibration(tmp_path / "empty.yaml", None, 32)


def test_dataset_set_needs_a_data_root(tmp_path) -> None:
    root = _dataset(tmp_path)
    path = write_definition(
        build_definition("t", n=2, datasets=[str(root / "faces")], data_root=root, balanced=False), tmp_path / "t.yaml"
    )
    with pytest.raises(DataError, match="--data-root"):
        load_calibration(path, None, 32)


def test_data_calib_cli(tmp_path, capsys) -> None:
    out = tmp_path / "syn.yaml"
    assert main(["data", "calib", "--data", "synthetic", "--n", "8", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert len(read_definition(out).faces) == 8
    assert main(["data", "calib", "--data", "synthetic", "--n", "0", "--out", str(tmp_path / "z.yaml")]) == 2
    assert capsys.readouterr().err.startswith("edgekp: error:")


def test_a_set_cut_with_another_margin_than_the_model_is_refused_in_one_line(
    synthetic_64, tiny_run, tmp_path, capsys
) -> None:
    from face_fixtures import run_cli

    definition = yaml.safe_load(Path(synthetic_64).read_text())
    definition["margin"] = 0.4  # the tiny run's model was trained on crops with margin 0.25
    other = tmp_path / "margin_040.yaml"
    other.write_text(yaml.safe_dump(definition))
    out = tmp_path / "out"
    argv = ["export", "--from", str(tiny_run), "--target", "onnx", "--calib", str(other), "--out", str(out)]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "margin 0.4" in err and "crop margin 0.25" in err
    assert not (out / "model.onnx").exists()

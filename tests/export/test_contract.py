"""The edgekp-model/2 contract inside the file: inspect, predict from the file alone, the refusals, and
the reference consumer (examples/, no edgekp import) against edgekp predict on real faces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from face_fixtures import require_backend, run_cli

from edgekp.export.pipeline import ExportRequest, export_one

REPO = Path(__file__).resolve().parents[2]
FACES = ("1051618982_1", "1130084326_1", "1130084326_2")


def _consumer(model_file: Path, photo: Path, box: tuple[float, float, float, float]) -> np.ndarray:
    """The reference consumer run as a user runs it (its own process, no edgekp import): its landmarks."""
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "landmarks_from_file.py"),
            str(model_file),
            str(photo),
            "--box",
            ",".join(repr(float(v)) for v in box),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return np.asarray(json.loads(done.stdout)["landmarks"])


def _faces(shared_data: Path) -> list[tuple[Path, tuple[float, float, float, float]]]:
    """Real 300W photos with the true landmark box (0-based pixels) as the face box."""
    out = []
    for stem in FACES:
        lines = (shared_data / "300w" / "afw" / f"{stem}.pts").read_text().split("{")[1].split("}")[0].split()
        pts = np.asarray(lines, float).reshape(-1, 2) - 1.0
        lo, hi = pts.min(0), pts.max(0)
        out.append((shared_data / "300w" / "afw" / f"{stem}.jpg", (lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])))
    return out


@pytest.fixture(scope="module")
def openvino_file(tiny_run: Path, tmp_path_factory) -> Path:
    from edgekp.config.export import ExportRecipe
    from edgekp.config.loader import default_recipe

    require_backend("openvino")
    synthetic_64 = REPO / "edgekp" / "shipped" / "calibration" / "synthetic_64.yaml"
    recipe = default_recipe(ExportRecipe, [f"calibration={synthetic_64}"])
    result = export_one(
        ExportRequest("openvino", "fp32"), from_run=tiny_run, recipe=recipe, out=tmp_path_factory.mktemp("ov")
    )
    return Path(result["artifact"])


def _check_consumer(model_file: Path, shared_data: Path, capsys) -> None:
    from edgekp.bench.predictor import load_predictor
    from edgekp.inference.boxes import FaceBox
    from edgekp.inference.pipeline import predict_photo, read_photo

    predictor = load_predictor(model_file)
    for photo, box in _faces(shared_data):
        image = read_photo(photo)
        theirs = _consumer(model_file, photo, box)
        ours = predict_photo(predictor, image, [FaceBox(*box, detector="given")])[0].points
        assert np.abs(theirs - ours).max() <= 1e-3, (photo, np.abs(theirs - ours).max())
        capsys.readouterr()  # what converters printed before: not the CLI's output
        code, out, err = run_cli(
            capsys,
            "predict",
            str(photo),
            "--model",
            str(model_file),
            "--box",
            ",".join(f"{v:.6f}" for v in box),
            "--json",
        )
        assert code == 0, err
        printed = np.asarray(json.loads(out)[0]["faces"][0]["landmarks"])
        # edgekp predict prints 2 decimals: the CLI agrees within its rounding.
        assert np.abs(theirs - printed).max() <= 0.005 + 1e-3


def test_inspect_prints_the_contract_and_refuses_other_files(openvino_file: Path, tmp_path, capsys) -> None:
    code, out, _ = run_cli(capsys, "inspect", str(openvino_file))
    assert code == 0
    assert "edgekp-model/2" in out and "[1, 64, 64, 3] NHWC RGB uint8 in [0, 255]" in out and "refine" in out
    code, out, _ = run_cli(capsys, "inspect", str(openvino_file), "--json")
    contract = json.loads(out)
    assert contract["input"]["dtype"] == "uint8" and contract["crop"]["side_scale"] == 1.5
    assert contract["output"]["landmarks"] == {
        **contract["output"]["landmarks"],
        "shape": [1, 68, 2],
        "coordinates": "crop_unit",
    }
    assert len(contract["scheme"]["flip_pairs"]) == 29 and len(contract["model"]["weights_sha256"]) == 64
    for bad in (tmp_path / "notes.txt", tmp_path / "broken.tflite"):
        bad.write_text("not a model")
        capsys.readouterr()
        code, out, err = run_cli(capsys, "inspect", str(bad))
        assert code == 2 and err.count("\n") == 1 and "model" in err


def test_predict_runs_from_the_file_alone_and_refuses_a_bad_contract(
    openvino_file: Path, shared_data, tmp_path, capsys
) -> None:
    import openvino as ov

    sidecar = openvino_file.with_name(openvino_file.name + ".json")
    if sidecar.exists():
        sidecar.unlink()
    photo, box = _faces(shared_data)[0]
    args = [str(photo), "--box", ",".join(f"{v:.3f}" for v in box), "--json"]
    code, out, err = run_cli(capsys, "predict", "--model", str(openvino_file), *args)
    assert code == 0, err
    assert len(json.loads(out)[0]["faces"][0]["landmarks"]) == 68
    # A contract whose input disagrees with the tensor, and one without a required field: one line, exit 2.
    model = ov.Core().read_model(str(openvino_file))
    contract = json.loads(model.get_rt_info(["edgekp"]).astype(str))
    for broken, expect in (
        (dict(contract, input={**contract["input"], "height": 96}), "input tensor is"),
        ({k: v for k, v in contract.items() if k != "crop"}, "missing field 'crop'"),
    ):
        model.set_rt_info(json.dumps(broken), ["edgekp"])
        path = tmp_path / f"{len(expect)}" / "model.xml"
        path.parent.mkdir()
        ov.save_model(model, str(path), compress_to_fp16=False)
        capsys.readouterr()
        code, out, err = run_cli(capsys, "predict", "--model", str(path), *args)
        assert code == 2 and err.count("\n") == 1 and expect in err, err
        assert "edgekp export" in err or "altered" in err
    assert not list(tmp_path.rglob("*.landmarks.json"))


def test_reference_consumer_matches_predict_on_real_faces_openvino(openvino_file: Path, shared_data, capsys) -> None:
    _check_consumer(openvino_file, shared_data, capsys)


@pytest.mark.slow
def test_reference_consumer_matches_predict_on_real_faces_tflite_int8(
    tiny_run: Path, fast_recipe, shared_data, tmp_path, capsys
) -> None:
    require_backend("tflite")
    result = export_one(ExportRequest("tflite", "int8"), from_run=tiny_run, recipe=fast_recipe, out=tmp_path / "t")
    artifact = Path(result["artifact"])
    assert result["contract"]["input"]["dtype"] == "uint8" and result["contract"]["input"]["layout"] == "NHWC"
    Path(result["sidecar"]).unlink()
    _check_consumer(artifact, shared_data, capsys)


def test_an_export_is_never_silently_replaced(tiny_run: Path, fast_recipe, tmp_path, capsys) -> None:
    out = tmp_path / "o"
    export_one(ExportRequest("onnx", "fp32"), from_run=tiny_run, recipe=fast_recipe, out=out)
    before = (out / "model.onnx").stat().st_mtime_ns
    capsys.readouterr()  # the export's own log lines: not the refusal
    code, _, err = run_cli(
        capsys,
        "export",
        "--from",
        str(tiny_run),
        "--target",
        "onnx",
        "--out",
        str(out),
        "--set",
        "onnx.exporter=legacy",
    )
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert (out / "model.onnx").stat().st_mtime_ns == before

"""Refusals before any work, missing backends, parity failure summaries, metadata, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgekp.errors import ExportValidationError, LineageError, MissingBackendError, UnsupportedOptionError
from edgekp.export import get_target
from edgekp.export.base import Runner
from edgekp.export.parity import Check, ParityReport, raise_if_failed
from edgekp.export.pipeline import ExportRequest, export_one


def test_unknown_target_gets_did_you_mean() -> None:
    with pytest.raises(UnsupportedOptionError, match="did you mean 'tflite'"):
        get_target("tflit")


def test_unsupported_precision_lists_what_is_supported(tiny_run, fast_recipe, tmp_path) -> None:
    with pytest.raises(UnsupportedOptionError) as exc:
        export_one(ExportRequest("onnx", "int8"), from_run=tiny_run, recipe=fast_recipe, out=tmp_path / "x")
    assert "supported here: fp32" in str(exc.value)
    assert not (tmp_path / "x").exists()  # refused before any work


def test_coreml_int8_activations_refused_off_macos(tiny_run, fast_recipe, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("edgekp.export.coreml.on_macos", lambda: False)
    recipe = fast_recipe.model_copy(
        update={"coreml": fast_recipe.coreml.model_copy(update={"int8_mode": "weights_activations"})}
    )
    with pytest.raises(UnsupportedOptionError) as exc:
        export_one(ExportRequest("coreml", "int8"), from_run=tiny_run, recipe=recipe, out=tmp_path / "x")
    message = str(exc.value)
    assert "macOS" in message and "supported here: coreml fp32, fp16, int8" in message
    assert not (tmp_path / "x").exists()


def test_missing_backend_names_the_extra(monkeypatch) -> None:
    import edgekp.export.base as base

    real = base.missing_packages
    monkeypatch.setattr(
        base, "missing_packages", lambda pkgs: [p for m, p in pkgs if m == "litert_torch"] or real(pkgs)
    )
    with pytest.raises(MissingBackendError) as exc:
        get_target("tflite").check_available("litert")
    assert "litert-torch" in str(exc.value) and "pip install 'edgekp[tflite]'" in str(exc.value)


def test_parity_failures_are_gathered_in_one_error() -> None:
    a = ParityReport("tflite", "int8", "litert", 64, "torch", "ai-edge-litert", False)
    a.checks = [Check("nme_delta_rel", 0.2, 0.05, False)]
    a.problems = ["input layout NHWC, expected NCHW"]
    b = ParityReport("openvino", "fp16", "torch", 64, "torch", "openvino-cpu", False)
    b.checks = [Check("max_abs", 0.01, 0.001, False)]
    ok = ParityReport("onnx", "fp32", "torch", 64, "torch", "onnxruntime", False)
    ok.checks = [Check("max_abs", 1e-7, 1e-4, True)]
    with pytest.raises(ExportValidationError) as exc:
        raise_if_failed([a, b, ok])
    message = str(exc.value)
    assert message.startswith("export failed parity with 3 failure(s): ")
    assert "nme_delta_rel = 0.2 exceeds 0.05" in message
    assert "input layout NHWC" in message
    assert "openvino fp16 (torch): max_abs = 0.01 exceeds 0.001" in message
    assert "onnx" not in message
    raise_if_failed([ok])  # nothing raised


class _Shifted(Runner):
    """A runtime that is off by 0.1 everywhere: fails both the max-abs and the NME check."""

    def __init__(self, inner: Runner) -> None:
        self.inner, self.name = inner, "shifted"

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.inner(images) + 0.1


def test_failed_export_goes_to_failed_folder_with_report(tiny_run, fast_recipe, tmp_path, monkeypatch) -> None:
    from edgekp.export.onnx import OnnxTarget

    real = OnnxTarget.load_runner
    monkeypatch.setattr(OnnxTarget, "load_runner", lambda self, a, threads=1: _Shifted(real(self, a, threads)))
    recipe = fast_recipe.model_copy(
        update={
            "tolerances": fast_recipe.tolerances.model_copy(
                update={"fp32": fast_recipe.tolerances.fp32.model_copy(update={"nme_rel": 0.05})}
            )
        }
    )
    out = tmp_path / "out"
    with pytest.raises(ExportValidationError) as exc:
        export_one(ExportRequest("onnx", "fp32"), from_run=tiny_run, recipe=recipe, out=out)
    message = str(exc.value)
    assert "2 failure(s)" in message and "max_abs = 0.1" in message and "nme_delta_rel" in message
    assert str(out / "failed") in message
    assert (out / "failed" / "model.onnx").is_file() and not (out / "model.onnx").exists()
    report = json.loads((out / "failed" / "parity_report.json").read_text())
    assert report["parity"]["passed"] is False
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"


def test_metadata_sidecar_and_embedded(tiny_run, fast_recipe, tmp_path) -> None:
    result = export_one(ExportRequest("onnx", "fp32"), from_run=tiny_run, recipe=fast_recipe, out=tmp_path / "o")
    sidecar = json.loads(Path(result["sidecar"]).read_text())
    meta = sidecar["metadata"]
    for key, value in {
        "input_size": "64",
        "input_layout": "NCHW",
        "num_points": "68",
        "scheme": "ibug68",
        "precision": "fp32",
        "route": "torch",
        "target": "onnx",
        "input_shape": "1x3x64x64",
        "crop_margin": "0.25",
    }.items():
        assert meta[key] == value, key
    assert "inside the graph" in meta["normalization"]
    assert meta["coordinates"].startswith("normalized (x, y) in [0, 1]")
    assert len(meta["source_hash"]) == 64 and meta["edgekp_version"]
    assert sidecar["size_bytes"] > 0 and sidecar["convert_seconds"] > 0
    embedded = get_target("onnx").embedded_metadata(Path(result["artifact"]))
    assert {k: embedded[k] for k in meta} == meta


def test_lineage_errors(tmp_path, fast_recipe, run_factory) -> None:
    make_run = run_factory
    request = ExportRequest("onnx", "fp32")
    with pytest.raises(LineageError, match="run directory not found"):
        export_one(request, from_run=tmp_path / "nope", recipe=fast_recipe)
    corrupt = make_run(tmp_path / "corrupt")
    (corrupt / "model.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(LineageError, match="corrupt"):
        export_one(request, from_run=corrupt, recipe=fast_recipe)
    other_k = make_run(tmp_path / "k98", num_points_in_recipe=98)
    with pytest.raises(LineageError, match="68 points but the run's recipe says 98"):
        export_one(request, from_run=other_k, recipe=fast_recipe)
    wrong_kind = make_run(tmp_path / "bench", kind="bench")
    with pytest.raises(LineageError, match="needs one of: train, prune, qat"):
        export_one(request, from_run=wrong_kind, recipe=fast_recipe)


def test_crop_margin_travels_with_the_artifact_and_is_never_guessed(
    tiny_run, fast_recipe, tmp_path, run_factory
) -> None:
    import onnx

    from edgekp.bench.predictor import load_predictor
    from edgekp.lineage.plain_format import load_model, save_model

    result = export_one(ExportRequest("onnx", "fp32"), from_run=tiny_run, recipe=fast_recipe, out=tmp_path / "o")
    artifact = Path(result["artifact"])
    Path(result["sidecar"]).unlink()
    assert load_predictor(artifact).margin == 0.25  # read from the file's own contract: no sidecar, no source run
    # A file without the contract (an old export): refused, never a silent 0.25.
    model = onnx.load(str(artifact))
    kept = [p for p in model.metadata_props if p.key != "edgekp"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    onnx.save(model, str(artifact))
    with pytest.raises(LineageError, match="missing field 'edgekp'.*edgekp export --from"):
        load_predictor(artifact)
    # A model that does not record its crop margin is refused before any conversion.
    bare = run_factory(tmp_path / "bare")
    model, meta = load_model(bare / "model.pt")
    meta.pop("crop_margin")
    save_model(bare / "model.pt", model, meta)
    with pytest.raises(LineageError, match="no crop_margin"):
        export_one(ExportRequest("onnx", "fp32"), from_run=bare, recipe=fast_recipe, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_parity_that_checks_nothing_is_refused() -> None:
    from edgekp.config.export import ExportRecipe
    from edgekp.config.loader import default_recipe
    from edgekp.errors import ConfigError

    with pytest.raises(ConfigError, match="nothing would be checked"):
        default_recipe(ExportRecipe, ["tolerances.fp32.max_abs=null"])
    recipe = default_recipe(ExportRecipe, ["tolerances.int8.max_abs=0.01"])  # both set: both checked
    assert (recipe.tolerances.int8.max_abs, recipe.tolerances.int8.nme_rel) == (0.01, 0.05)


def test_qat_routes_are_data_and_an_unknown_pair_is_refused() -> None:
    from edgekp.config.qat import QUANTIZER_TARGETS

    routes = {
        (t, q.quantizer): q.route.name
        for t in ("onnx", "tflite", "coreml", "openvino")
        for q in get_target(t).capabilities.qat_routes
    }
    assert routes == {(t, q): f"qat-{q}" for q, targets in QUANTIZER_TARGETS.items() for t in targets}
    assert get_target("openvino").qat_route("nncf", "int8").precisions == ("int8",)
    with pytest.raises(UnsupportedOptionError, match="exports only to tflite, not 'onnx'"):
        get_target("onnx").qat_route("pt2e", "int8")
    with pytest.raises(UnsupportedOptionError, match="int8 only"):
        get_target("onnx").qat_route("nncf", "fp32")


def test_a_missing_backend_skips_off_ci_and_fails_in_ci(monkeypatch) -> None:
    from face_fixtures import require_backend

    import edgekp.export.base as base

    monkeypatch.setattr(base, "missing_packages", lambda pkgs: [p for _, p in pkgs][:1])  # pretend onnx is absent
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI installs every extra"):
        require_backend("onnx")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="pip install 'edgekp\\[onnx\\]'"):
        require_backend("onnx")

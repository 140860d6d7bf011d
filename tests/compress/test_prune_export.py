"""A pruned run exports like any other: through edgekp's export pipeline, with parity against PyTorch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from face_fixtures import require_backend

from edgekp.compress.heads import head_counts, remove_heads
from edgekp.config.export import ExportRecipe
from edgekp.config.loader import default_recipe
from edgekp.export.pipeline import ExportRequest, export_one
from edgekp.lineage.plain_format import save_model
from edgekp.lineage.run_dir import RunDir
from tests.compress.conftest import SIZE, trained_tiny_model

REPO = Path(__file__).resolve().parents[2]
SYNTHETIC_64 = REPO / "edgekp" / "shipped" / "calibration" / "synthetic_64.yaml"  # the one committed copy


@pytest.fixture(scope="module")
def pruned_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prune run directory whose model lost heads unevenly (1, 2 and 1-of-2 heads per block)."""
    # Weights at a trained model's scale (outputs near [0, 1]), so fp16 parity limits are meaningful.
    model = trained_tiny_model(attn_std=0.05)
    with torch.no_grad():
        torch.nn.init.normal_(model.head.fc2.weight, std=0.02)
    names = [n for n, _ in model.attention_modules()]
    pruned = remove_heads(model, {names[0]: [1], names[2]: [0], names[4]: [1], names[5]: [0]})
    assert sorted(head_counts(pruned).values()) == [1, 1, 1, 1, 2, 2]
    path = tmp_path_factory.mktemp("prune_export") / "pruned"
    run = RunDir.create(path, "prune", recipe={"kind": "prune"})
    save_model(
        path / "model.pt", pruned, {"scheme": "ibug68", "input_size": SIZE, "stage": "prune", "crop_margin": 0.25}
    )
    run.finish("ok")
    return path


def _export(pruned_run: Path, tmp_path: Path, target: str, precision: str, route: str | None = None) -> dict:
    require_backend(target, route)  # skips only on MissingBackendError (and fails in CI)
    # The legacy ONNX exporter: same graph, seconds instead of ~30 s on two busy cores.
    recipe = default_recipe(ExportRecipe, ["onnx.exporter=legacy", f"calibration={SYNTHETIC_64}"])
    return export_one(ExportRequest(target, precision, route), from_run=pruned_run, recipe=recipe, out=tmp_path / "out")


def test_pruned_run_exports_to_onnx_with_parity(pruned_run: Path, tmp_path: Path) -> None:
    result = _export(pruned_run, tmp_path, "onnx", "fp32")
    assert result["parity"]["passed"], result["parity"]
    assert (Path(result["out"]) / Path(result["artifact"]).name).is_file(), result


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "precision", "route"),
    [
        ("tflite", "fp32", None),
        ("tflite", "int8", None),
        ("openvino", "fp32", None),
        ("openvino", "int8", None),
        ("coreml", "fp32", None),
        ("tflite", "fp32", "tf"),
        # The torch-fp16 stand-in (no CoreML runtime off macOS) differs from fp32 by 1-2e-3 on tiny models,
        # pruned or not (0.0012 unpruned vs 0.0013 pruned on tests/export's model), against a 1e-3 limit.
        pytest.param(
            "coreml", "fp16", None, marks=pytest.mark.xfail(strict=False, reason="fp16 stand-in limit, not pruning")
        ),
    ],
)
def test_pruned_run_exports_to_every_target(
    pruned_run: Path, tmp_path: Path, target: str, precision: str, route: str | None
) -> None:
    result = _export(pruned_run, tmp_path, target, precision, route)
    assert result["parity"]["passed"], result["parity"]
    assert (Path(result["out"]) / Path(result["artifact"]).name).exists(), result

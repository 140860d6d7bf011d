"""A model with a face-presence head (``has_presence``, ``forward_with_presence``) exports both outputs,
by name, the contract describes the second, and parity compares it. The head here is a real Linear on
the model's pooled features, added to the tiny test model (the real head comes with edgekp.models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from face_fixtures import require_backend, scaled_tiny_model

from edgekp.export.base import ExportSpec, get_target
from edgekp.export.contract import export_contract
from edgekp.export.parity import ParityReport, Tolerance, compare_presence
from edgekp.export.runner import TorchRunner


class WithPresence(torch.nn.Module):
    has_presence = True

    def __init__(self) -> None:
        super().__init__()
        self.inner = scaled_tiny_model(64, 0)
        self.config = self.inner.config
        self.presence_head = torch.nn.Linear(3, 1)
        torch.nn.init.normal_(self.presence_head.weight, std=2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)

    def forward_with_presence(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.inner(x), self.presence_head(x.mean(dim=(2, 3)) - 0.5)


@pytest.mark.parametrize("target", ["onnx", "openvino"])
def test_presence_is_a_second_named_output_checked_by_parity(target: str, tmp_path: Path) -> None:
    require_backend(target)
    model = WithPresence().eval()
    t = get_target(target)
    route = t.capabilities.routes[0]
    layout, dtype = t.input_form(route, "fp32", {})
    meta = {
        "input_size": "64",
        "num_points": "68",
        "model": "test",
        "target": target,
        "precision": "fp32",
        "route": route.name,
    }
    from edgekp.data.schemes import get_scheme

    contract = export_contract(model, meta, get_scheme("ibug68"), layout, dtype, 0.25, "0" * 64)
    assert contract["output"]["presence"] == {"name": "presence", "shape": [1, 1], "kind": "logit"}
    assert contract["output"]["landmarks"]["name"] == "landmarks"
    options = {"exporter": "legacy"} if target == "onnx" else {}
    spec = ExportSpec(64, 68, "fp32", route.name, "ibug68", options, meta, layout, dtype, contract)  # type: ignore[arg-type]
    artifact = t.convert(model, spec, None, tmp_path)
    runner = t.load_runner(artifact)
    images = np.round(np.random.default_rng(0).random((4, 3, 64, 64)) * 255).astype(np.float32) / 255
    got, want = runner.presence(images), TorchRunner(model).presence(images)
    assert got is not None and got.shape == (4, 1)
    report = ParityReport(target, "fp32", route.name, 4, "torch", runner.name, False)
    compare_presence(want, got, Tolerance(max_abs=1e-4), report)
    assert report.passed and report.presence_max_abs is not None and report.presence_max_abs < 1e-4
    np.testing.assert_allclose(runner(images), TorchRunner(model)(images), atol=1e-4)

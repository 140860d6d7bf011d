"""The model exports to ONNX (opset 20) and onnxruntime matches torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from face_fixtures import require_module

from edgekp.models import create_model


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_onnx_export_matches_onnxruntime(tmp_path: Path) -> None:
    onnx = require_module("onnx")  # a skip off CI only (face_fixtures.require_module)
    ort = require_module("onnxruntime")
    torch.manual_seed(0)
    model = create_model("kp_hvit_test", input_size=64)
    # An untrained model answers ~0.5 everywhere, which would make any comparison pass: give the
    # BatchNorms real statistics and the head real weights first.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 1.0
    with torch.no_grad():
        model.train()(torch.rand(8, 3, 64, 64))
        torch.nn.init.normal_(model.head.fc1.weight, std=0.2)
        torch.nn.init.normal_(model.head.fc2.weight, std=0.2)
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    path = tmp_path / "m.onnx"
    torch.onnx.export(
        model,
        (x,),
        str(path),
        dynamo=False,
        opset_version=20,
        input_names=["image"],
        output_names=["keypoints"],
        dynamic_axes={"image": {0: "n"}, "keypoints": {0: "n"}},
    )
    graph = onnx.load(str(path))
    ops = {node.op_type for node in graph.graph.node}
    assert not ops & {"Einsum", "Attention", "Erf"}, ops
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = torch.rand(3, 3, 64, 64)
    (got,) = session.run(None, {"image": batch.numpy()})
    with torch.no_grad():
        want = model(batch).numpy()
    assert got.shape == (3, 68, 2)
    assert want.std() > 1e-2
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)

"""The optional face-presence head: off by default (old checkpoints unchanged), one backbone pass,
carried by the ONNX export as a second output."""

from __future__ import annotations

import numpy as np
import torch

from edgekp.models import create_model
from edgekp.models.config import HvitConfig


def test_default_model_has_no_presence_and_an_unchanged_config():
    model = create_model("kp_hvit_test", input_size=64)
    assert not model.has_presence and model.presence_threshold is None
    assert "presence_hidden" not in model.config.to_dict() and "presence_threshold" not in model.config.to_dict()
    assert not any(k.startswith("presence.") for k in model.state_dict())


def test_presence_head_round_trips_and_leaves_landmarks_alone(tmp_path):
    from edgekp.lineage.plain_format import load_model, save_model
    from edgekp.train.presence import with_presence_head

    torch.manual_seed(0)
    base = create_model("kp_hvit_test", input_size=64).eval()
    model = with_presence_head(base, hidden=8, seed=0)
    model.config = model.config.replace(presence_threshold=0.7)
    x = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        points, logit = model.forward_with_presence(x)
        assert points.shape == (3, 68, 2) and logit.shape == (3, 1)
        assert torch.equal(points, base(x)) and torch.equal(model(x), base(x))
    save_model(tmp_path / "model.pt", model, {})
    loaded, _ = load_model(tmp_path / "model.pt")
    assert loaded.has_presence and loaded.presence_threshold == 0.7
    assert HvitConfig.from_dict(loaded.config.to_dict()) == loaded.config


def test_onnx_export_carries_the_presence_output(tmp_path):
    import onnxruntime as ort

    from edgekp.export.onnx import export_onnx
    from edgekp.train.presence import with_presence_head

    torch.manual_seed(0)
    model = with_presence_head(create_model("kp_hvit_test", input_size=64).eval(), hidden=8, seed=0)
    for layer in (model.presence.reduce, model.presence.fc1, model.presence.fc2):  # a logit that depends on the image
        torch.nn.init.normal_(layer.weight, std=0.5)
    path = tmp_path / "m.onnx"
    export_onnx(model, 64, path, exporter="legacy")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["landmarks", "presence"]  # the contract's output names
    x = np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32)
    x[1] *= 0.2  # a much darker second image
    points, logit = session.run(None, {"images": x})
    with torch.no_grad():
        ref_points, ref_logit = model.forward_with_presence(torch.from_numpy(x))
    np.testing.assert_allclose(points, ref_points.numpy(), atol=1e-4)
    np.testing.assert_allclose(logit, ref_logit.numpy(), atol=1e-4)
    assert np.ptp(logit) > 1e-3

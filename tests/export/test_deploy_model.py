"""The module converters see: NHWC / uint8 in, the model's own outputs out, the same numbers."""

from __future__ import annotations

import torch
from face_fixtures import scaled_tiny_model

from edgekp.export.deploy import DeployModel, to_input


def test_image_inputs_give_the_model_s_landmarks() -> None:
    model = scaled_tiny_model(64, 0).eval()
    pixels = torch.randint(0, 256, (2, 3, 64, 64)).float() / 255.0
    want = model(pixels)
    for layout, dtype in (("NHWC", "uint8"), ("NHWC", "float32"), ("NCHW", "float32")):
        deploy = DeployModel(model, layout, dtype).eval()
        got = deploy(to_input(pixels.numpy(), layout, dtype))
        torch.testing.assert_close(got, want, atol=2e-5, rtol=0)
    # NHWC: the normalization became a 1x1 convolution on a copy (the model itself is untouched).
    deploy = DeployModel(model, "NHWC", "uint8")
    assert isinstance(deploy.model.normalize, torch.nn.Conv2d) and deploy.folded
    assert not isinstance(model.normalize, torch.nn.Conv2d)

"""PT2E QAT calibration: the fake-quantizers' starting ranges cover every calibration face.

litert-torch's QAT observers are moving averages whose first batch sets the range outright, so a
calibration fed in small batches kept the first batch's ranges (the TFLite QAT model then started
far worse than PTQ). The starting ranges must not depend on the order of the calibration faces."""

from __future__ import annotations

import numpy as np
import torch
from face_fixtures import scaled_tiny_model  # tests/ helper module, on sys.path via tests/conftest.py
from test_qat import SIZE, qat_recipe


def _activation_scales(prepared: torch.nn.Module) -> list[float]:
    from torchao.quantization.pt2e.fake_quantize import FakeQuantizeBase

    return [
        float(m.scale.flatten()[0])
        for _, m in sorted(prepared.named_modules(), key=lambda item: item[0])
        if isinstance(m, FakeQuantizeBase) and m.qscheme == torch.per_tensor_affine
    ]


def test_starting_ranges_do_not_depend_on_the_order_of_the_faces() -> None:
    from edgekp.compress import qat_pt2e

    faces = np.random.default_rng(0).random((32, 3, SIZE, SIZE), dtype=np.float32)
    faces[:16] *= 0.3  # a dim first half: a range taken from the first faces only is far too narrow
    model = scaled_tiny_model(SIZE)
    recipe = qat_recipe("pt2e", "tflite")
    dim_first = _activation_scales(qat_pt2e.prepare(model, faces, recipe, []))
    bright_first = _activation_scales(qat_pt2e.prepare(model, faces[::-1].copy(), recipe, []))
    assert len(dim_first) > 10
    np.testing.assert_allclose(dim_first, bright_first, rtol=1e-4)

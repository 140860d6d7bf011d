"""Tiny in-memory training sets of synthetic faces, shared by the trainer and compression tests."""

from __future__ import annotations

import numpy as np

from edgekp.train.data import FaceArrays


def synthetic_face_arrays(n: int, seed: int, size: int = 64) -> FaceArrays:
    """n synthetic faces cropped to size x size, points normalized to the crop."""
    from edgekp.data.crops import crop_face
    from edgekp.data.synthetic import render_synthetic

    images, points, poses = render_synthetic(n, 96, seed)
    crops = [crop_face(img, pts, size, margin=0.25) for img, pts in zip(images, points, strict=True)]
    return FaceArrays(
        images=np.stack([c.image for c in crops]),
        points=np.stack([c.points for c in crops]).astype(np.float32) / size,
        poses=poses.astype(np.float32),
        sources=[f"synth_{seed}_{i}" for i in range(n)],
        dataset=np.zeros(n, dtype=np.int64),
    )


def scaled_tiny_model(
    size: int = 64, seed: int = 0, *, fc2_std: float = 0.02, attn_std: float | None = None, **overrides
):
    """kp_hvit_test whose output depends on the image: BatchNorm statistics from one batch and head
    (optionally attention) weights of a real scale. An untrained model answers ~0.5 everywhere,
    which would let every parity or zero-gate comparison pass."""
    import torch

    from edgekp.models import create_model

    torch.manual_seed(seed)
    model = create_model("kp_hvit_test", input_size=size, **overrides)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 1.0
    with torch.no_grad():
        model.train()(torch.rand(8, 3, size, size))
        if attn_std is not None:
            for _, attn in model.attention_modules():
                torch.nn.init.normal_(attn.qkv.weight, std=attn_std)
                torch.nn.init.normal_(attn.proj.weight, std=attn_std)
        torch.nn.init.normal_(model.head.fc1.weight, std=0.2)
        torch.nn.init.normal_(model.head.fc2.weight, std=fc2_std)
    return model.eval()


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``edgekp ARGV`` run in-process."""
    from edgekp.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def in_ci() -> bool:
    """CI (CI=true, as .ci/run and GitHub Actions set it) installs every extra."""
    import os

    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_backend(target: str, route: str | None = None) -> None:
    """Skip a test whose export backend is not installed, and only then: any other exception is the
    test's to report. In CI a missing backend is a failure, since CI installs every extra."""
    import pytest

    from edgekp.errors import MissingBackendError
    from edgekp.export import get_target

    try:
        get_target(target).check_available(route)
    except MissingBackendError as exc:
        if in_ci():
            pytest.fail(f"CI installs every extra, yet {exc}")
        pytest.skip(str(exc))


def require_module(name: str):
    """``pytest.importorskip`` for an optional third-party backend, except in CI, where it must be there."""
    import importlib

    import pytest

    if not in_ci():
        return pytest.importorskip(name)
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.fail(f"CI installs every extra, yet {name!r} does not import ({exc})")

"""A new export target is a config class plus one module: this file is that module, outside the package.

TorchScript, written with torch.jit and run back with torch.jit.load (a real runtime, no stand-in),
goes through the same public interface as the built-in targets: ``declare_target`` (its options
class), ``register_target``; then ``edgekp export`` converts a real model with it and checks parity,
and the artifact is recognised by its suffix (``edgekp inspect``, ``load_predictor``) and named by its
display name in reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from face_fixtures import run_cli
from pydantic import Field

from edgekp.config.base import StrictModel
from edgekp.config.export import TARGET_NAMES, declare_target
from edgekp.export import Capabilities, ExportSpec, Route, Runner, Target, register_target, unregister_target
from edgekp.measure.threads import torch_threads

CONTRACT_FILE = "edgekp.json"  # the contract, as one of the archive's extra files


class TorchScriptOptions(StrictModel):
    freeze: bool = Field(True, description="torch.jit.freeze the traced module (constants folded)")


class TorchScriptRunner(Runner):
    def __init__(self, path: Path, threads: int = 1) -> None:
        import torch

        self.module = torch.jit.load(str(path)).eval()
        self.name, self.threads, self.runtime_version = "torch.jit", threads, torch.__version__

    def __call__(self, images: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        with torch_threads(self.threads), torch.inference_mode():
            y = self.module(x)
        return (y[0] if isinstance(y, tuple) else y).float().numpy()


class TorchScriptTarget(Target):
    name = "torchscript"
    capabilities = Capabilities(
        routes=(Route("jit", ("fp32",), (), "torch", (("torch", "torch"),), "torch.jit.trace, frozen"),),
        runtime="torch.jit, here (any OS with libtorch)",
        runtime_platforms=None,
        suffix=".torchscript",
        display_name="TorchScript",
    )
    options_seen: list[Any] = []  # what convert was handed, for the test

    def convert(self, model: Any, spec: ExportSpec, calibration: np.ndarray | None, out_dir: Path) -> Path:
        import torch

        options = self.typed_options(spec.options)
        type(self).options_seen.append(spec.options)
        size = spec.input_size
        with torch.no_grad():
            module = torch.jit.trace(model.eval(), torch.rand(1, 3, size, size))
        if options.freeze:
            module = torch.jit.freeze(module)
        path = out_dir / self.artifact_name("model")
        out_dir.mkdir(parents=True, exist_ok=True)
        torch.jit.save(module, str(path), _extra_files={CONTRACT_FILE: json.dumps(spec.contract, sort_keys=True)})
        return path

    def load_runner(self, artifact: Path, threads: int = 1) -> Runner:
        return TorchScriptRunner(artifact, threads)

    def contract_text(self, artifact: Path) -> str | None:
        import torch

        extra = {CONTRACT_FILE: ""}
        torch.jit.load(str(artifact), _extra_files=extra)
        return extra[CONTRACT_FILE] or None


@pytest.fixture
def torchscript():
    declare_target(TorchScriptTarget.name, TorchScriptOptions)
    register_target(TorchScriptTarget)
    TorchScriptTarget.options_seen.clear()
    try:
        yield TorchScriptTarget
    finally:
        unregister_target(TorchScriptTarget.name)


def test_a_target_defined_outside_the_package_exports_runs_and_is_discovered(
    torchscript, tiny_run: Path, fast_recipe, tmp_path: Path, capsys
) -> None:
    from edgekp.bench.predictor import load_predictor, target_for
    from edgekp.export import get_target, list_targets
    from edgekp.export.pipeline import ExportRequest, export_one
    from edgekp.export.runner import TorchRunner
    from edgekp.report.profile_tables import ArtifactProfile, runtime_title

    assert list_targets() == [*TARGET_NAMES, "torchscript"]
    result = export_one(
        ExportRequest("torchscript", "fp32"), from_run=tiny_run, recipe=fast_recipe, out=tmp_path / "ts"
    )
    artifact = Path(result["artifact"])
    assert artifact.name == "model.torchscript" and artifact.is_file()
    # The typed options went straight into convert (the config class's defaults: no recipe section).
    assert [type(o) for o in torchscript.options_seen] == [TorchScriptOptions]
    assert torchscript.options_seen[0].freeze is True
    parity = result["parity"]
    assert parity["passed"] and not parity["estimated"] and parity["runtime"] == "torch.jit", parity
    assert parity["faces"] >= 64 and parity["max_abs"] < 1e-4

    # Discovery: by its suffix, read through the contract embedded in the file alone.
    assert target_for(artifact) == "torchscript"
    predictor = load_predictor(artifact)
    assert isinstance(predictor.runner, TorchScriptRunner)
    assert predictor.input_size == 64 and predictor.margin == 0.25
    from edgekp.lineage.checkpoints import load_run_model

    images = np.random.default_rng(0).random((3, 3, 64, 64), dtype=np.float32)
    want = TorchRunner(load_run_model(tiny_run).model)(images)
    np.testing.assert_allclose(predictor.runner(images), want, atol=1e-4)
    code, out, err = run_cli(capsys, "inspect", str(artifact))
    assert code == 0, err
    assert "torchscript" in out

    # Its display name titles its runtime in reports.
    assert get_target("torchscript").display_name == "TorchScript"
    profile = ArtifactProfile("torch.jit", "torchscript", "fp32", "jit", 1.0, 0, 1, 0, {}, {}, "", 1, {})
    assert runtime_title(profile) == "TorchScript"


def test_the_cli_offers_a_registered_target_and_refuses_what_it_does_not_support(
    torchscript, tiny_run: Path, tmp_path: Path, capsys
) -> None:
    code, out, err = run_cli(
        capsys, "export", "--from", str(tiny_run), "--target", "torchscript", "--out", str(tmp_path / "cli")
    )
    assert code == 0, err
    assert (tmp_path / "cli" / "model.torchscript").is_file() and "torch.jit" in out
    # The request is checked once, before the model loads: one line, nothing written.
    code, out, err = run_cli(
        capsys, "export", "--from", str(tiny_run), "--target", "torchscript", "--precision", "int8",
        "--out", str(tmp_path / "int8"),
    )  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1 and "does not support precision 'int8'" in err
    assert not (tmp_path / "int8").exists()


def test_an_unregistered_target_leaves_the_builtin_list() -> None:
    from edgekp.export import list_targets

    declare_target(TorchScriptTarget.name, TorchScriptOptions)
    register_target(TorchScriptTarget)
    unregister_target(TorchScriptTarget.name)
    assert tuple(list_targets()) == TARGET_NAMES
    with pytest.raises(ValueError, match="not declared"):
        register_target(TorchScriptTarget)
    with pytest.raises(ValueError, match="built-in"):
        unregister_target("onnx")

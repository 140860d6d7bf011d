"""One way to run any model source: a training run, a checkpoint (any format, via edgekp.lineage.checkpoints),
or an exported artifact (its target found by file suffix, run by that target's runner), read through its embedded
edgekp-model/2 contract alone. Images in (N x 3 x S x S float32 in [0, 1]), normalized N x K x 2 out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.errors import LineageError
from edgekp.export.runner import Runner, TorchRunner
from edgekp.lineage.checkpoints import load_model_file
from edgekp.lineage.run_dir import MODEL_FILE


@dataclass
class Predictor:
    runner: Runner
    meta: dict[str, Any]
    source: str

    @property
    def input_size(self) -> int:
        return int(self.meta["input_size"])

    @property
    def refine(self) -> int:
        """Re-crops on the model's own prediction: the exported file's contract, else edgekp's default."""
        from edgekp.config.export import DEFAULT_REFINE

        return int(self.meta.get("refine", DEFAULT_REFINE))

    @property
    def margin(self) -> float:
        """The crop margin the model was trained with (crops must match training's); never guessed."""
        if "crop_margin" not in self.meta:
            raise LineageError(
                f"{self.source!r} records no crop margin (the crop its model was trained on); "
                "re-export it with 'edgekp export' or give its run directory"
            )
        return float(self.meta["crop_margin"])

    def predict(self, images_uint8: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """N x S x S x 3 uint8 crops -> N x K x 2 normalized points."""
        out = []
        for start in range(0, len(images_uint8), batch_size):
            batch = images_uint8[start : start + batch_size].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            out.append(np.asarray(self.runner(batch), dtype=np.float32))
        return np.concatenate(out) if out else np.zeros((0, int(self.meta.get("num_points", 68)), 2), np.float32)


def load_predictor(source: str | Path | None, threads: int | None = None) -> Predictor:
    """A run dir (its model.pt), a ``.pt`` checkpoint, an exported file, or a shipped model (None,
    ``shipped``, ``shipped:t|s|b``)."""
    from edgekp.lineage.shipped import shipped_model_path, shipped_size

    size = shipped_size(source)
    if size is not None:
        path = shipped_model_path(size)
    else:
        path = Path(source)
        if not path.exists():
            raise LineageError(
                f"model not found: {str(path)!r} (give a run directory, a .pt checkpoint or an exported file)"
            )
        from edgekp.export.base import target_for_suffix

        if path.suffix and target_for_suffix(path.suffix) is not None:  # an artifact (.mlpackage: a folder)
            return _load_exported(path, threads)
        if path.is_dir():
            path = path / MODEL_FILE
            if not path.is_file():
                raise LineageError(f"{str(source)!r} holds no model.pt; is it a train, prune or qat run directory?")
        elif path.suffix != ".pt":
            return _load_exported(path, threads)
    model, meta = load_torch_model(path)
    return Predictor(TorchRunner(model, threads), meta, str(path))


def load_torch_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """Any checkpoint (plain, pruned, QAT fake-quantized), through the one loader; (model in eval, meta)."""
    loaded = load_model_file(path)
    return loaded.model, loaded.meta


def _sidecar_meta(path: Path) -> dict[str, Any]:
    """The sidecar's flat metadata, only to word a re-export hint (the file's contract is what runs)."""
    from edgekp.lineage.sidecar import read_sidecar_metadata

    return read_sidecar_metadata(path)


def export_hint(path: Path, target: str) -> str:
    """The command that writes a complete contract into a re-export of ``path``."""
    meta = _sidecar_meta(path)
    source = meta.get("source_run") or "RUN"
    precision = f" --precision {meta['precision']}" if meta.get("precision") else ""
    return f"edgekp export --from {source} --target {target}{precision}"


def target_for(path: Path) -> str:
    """The export target of an artifact: the target whose file suffix it has (else its sidecar's word)."""
    from edgekp.export.base import get_target, list_targets, target_for_suffix

    target = target_for_suffix(path.suffix)
    name = target.name if target is not None else _sidecar_meta(path).get("target")
    if name is None:
        kinds = [f"{get_target(t).capabilities.suffix} ({get_target(t).display_name})" for t in list_targets()]
        raise LineageError(f"{str(path)!r} is not an exported model file (expected one of: {', '.join(kinds)})")
    return str(name)


def read_contract(path: str | Path) -> tuple[Any, str]:
    """(Contract, target name) of an exported file, from the file alone; one-line LineageError when
    it holds none or an incomplete one (an old export), naming the field and the export command."""
    from edgekp.export.base import get_target
    from edgekp.export.contract import parse_contract

    path = Path(path)
    name = target_for(path)
    try:
        text = get_target(name).contract_text(path)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise LineageError(f"{str(path)!r} is not a readable {name} model ({first})") from None
    return parse_contract(text, str(path), export_hint(path, name)), name


def _same_shape(declared: list[int], actual: list[int]) -> bool:
    # -1: a dynamic dimension (ONNX and OpenVINO batch), which takes the contract's 1.
    return len(declared) == len(actual) and all(a in (d, -1) for d, a in zip(declared, actual, strict=True))


def runner_for_artifact(path: str | Path, threads: int | None = None) -> tuple[Any, dict[str, Any]]:
    """(Runner, meta) for an exported file, through its target's real runtime, from its embedded
    edgekp-model/2 contract alone (no sidecar): input size, points, scheme, crop margin and refine."""
    from edgekp.export.base import get_target
    from edgekp.export.contract import check_input_shape

    path = Path(path)
    contract, name = read_contract(path)
    runner = get_target(name).load_runner(path, threads or 1)
    shape = runner.input_shape()
    if shape is not None and not _same_shape(contract.input.shape(), shape):
        check_input_shape(contract, shape, str(path))
    extra = contract.model_extra or {}
    out = {
        "input_size": contract.input.height,
        "num_points": contract.scheme.num_points,
        "scheme": contract.scheme.name,
        "target": name,
        "precision": extra.get("precision"),
        "crop_margin": contract.margin,
        "refine": contract.crop.refine,
        "contract": contract,
    }
    return runner, out


def _load_exported(path: Path, threads: int | None) -> Predictor:
    runner, meta = runner_for_artifact(path, threads=threads)
    return Predictor(runner, meta, str(path))

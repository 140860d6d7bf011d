"""Does int8 pay? fp32 vs int8 latency of model variants on each CPU runtime: export, then time round robin.

Latency does not depend on the trained weights, so a screen of candidate blocks can run on
untrained variants (BatchNorm statistics set from the calibration faces so int8 ranges are sane).
Every artifact is timed in turns (edgekp.measure.timing.round_robin): a slow spell of a shared
machine lands on all of them, and each int8/fp32 ratio is taken within a round, from two timings a
few milliseconds apart. ``int8_speedup_isolated`` times each runtime in a fresh process instead.

Its ONNX int8 models are NNCF-quantized (compress.qat_nncf), so bench sits above compress in the layers.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.measure.timing import round_robin

RUNTIMES = ("tflite", "openvino", "onnx")
# "openvino_cnn": OpenVINO with NNCF's default (CNN) scheme instead of the transformer one the
# export target uses: more ops in int8 (matmuls between activations too), a quantizer setting to screen.
SCREEN_RUNTIMES = (*RUNTIMES, "openvino_cnn")


@dataclass(frozen=True)
class Artifact:
    variant: str
    runtime: str
    precision: str
    path: Path
    seconds: float  # conversion time


@dataclass
class Timing:
    rounds: list[float] = field(default_factory=list)  # per-round median ms

    @property
    def ms(self) -> float:
        return float(statistics.median(self.rounds))


def synthetic_calibration(n: int, size: int, seed: int = 0) -> np.ndarray:
    """n synthetic faces, N x 3 x S x S in [0, 1] (the project's download-free calibration source)."""
    from edgekp.data.crops import crop_face
    from edgekp.data.synthetic import render_synthetic

    images, points, _ = render_synthetic(n, int(size * 1.5), seed)
    crops = [crop_face(img, pts, size, margin=0.25).image for img, pts in zip(images, points, strict=True)]
    return np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32) / 255.0


def settle_batchnorm(model: Any, calibration: np.ndarray) -> Any:
    """One train-mode pass with momentum 1: BatchNorm statistics of real-looking inputs, then eval."""
    import torch

    saved = {}
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            saved[m] = m.momentum
            m.momentum = 1.0
    with torch.no_grad():
        model.train()(torch.from_numpy(calibration[:16]))
    for m, momentum in saved.items():
        m.momentum = momentum
    return model.eval()


def export_variant(
    name: str,
    model: Any,
    calibration: np.ndarray,
    out: Path,
    runtimes: tuple[str, ...],
    log: Callable[[str], None] = print,
) -> list[Artifact]:
    """fp32 and int8 artifacts of ``model`` for each runtime (int8 is post-training quantization:
    LiteRT PT2E static, OpenVINO nncf.quantize, onnxruntime NNCF Q/DQ)."""
    from edgekp.config.export import ExportRecipe
    from edgekp.export.base import ExportSpec, get_target
    from edgekp.export.pipeline import target_options

    model = model.inference_form() if hasattr(model, "inference_form") else model  # as the export pipeline does
    size = int(model.config.input_size)
    points = int(model.config.num_points)
    arts = []
    for runtime in runtimes:
        for precision in ("fp32", "int8"):
            where = out / name / f"{runtime}_{precision}"
            t0 = time.perf_counter()
            done = sorted(where.glob("model.*")) if where.is_dir() else []
            done = [p for p in done if p.suffix in (".tflite", ".xml", ".onnx")]
            if done:  # a rerun into the same --out re-times, it does not re-convert
                path = done[0]
            elif runtime == "onnx" and precision == "int8":
                path = _onnx_qdq(model, calibration, where)
            elif runtime == "openvino_cnn":
                path = _openvino_cnn(model, calibration if precision == "int8" else None, where)
            else:
                route = {"tflite": "litert", "openvino": "torch", "onnx": "torch"}[runtime]
                # The export recipe's defaults (e.g. tflite.float_modules), as `edgekp export` uses them.
                options = target_options(ExportRecipe(), runtime) | (
                    {"exporter": "legacy"} if runtime == "onnx" else {}
                )
                spec = ExportSpec(size, points, precision, route, options=options)  # type: ignore[arg-type]
                path = get_target(runtime).convert(model, spec, calibration if precision == "int8" else None, where)
            arts.append(Artifact(name, runtime, precision, path, time.perf_counter() - t0))
            log(f"  {name} {runtime} {precision}: {arts[-1].seconds:.0f} s")
    return arts


def _openvino_cnn(model: Any, calibration: np.ndarray | None, where: Path) -> Path:
    from edgekp.export.nncf_quantize import nncf_quantize, one_face_samples
    from edgekp.export.openvino import OpenVINOTarget

    target = OpenVINOTarget()
    ov_model = target.from_torch(model, int(model.config.input_size))
    if calibration is not None:
        samples = one_face_samples(calibration)
        ov_model = nncf_quantize(ov_model, samples, overflow_fix="auto", transformer=False, bias_correction=False)
    return target.save(ov_model, {}, where, fp16=False)


def _onnx_qdq(model: Any, calibration: np.ndarray, where: Path) -> Path:
    import copy

    from edgekp.compress import qat_nncf
    from edgekp.config.qat import QatRecipe
    from edgekp.export.base import ExportSpec, get_target

    recipe = QatRecipe.model_validate({"quantizer": "nncf", "target": "onnx", "overflow_fix": "auto"})
    scopes = [n for n, _ in model.named_modules() if n.endswith("attn.normalizer")]
    wrapped = qat_nncf.prepare(copy.deepcopy(model), calibration, recipe, scopes)
    spec = ExportSpec(int(model.config.input_size), int(model.config.num_points), "int8", "qat-nncf")
    return get_target("onnx").convert_qat(wrapped, spec, where)


def time_round_robin(
    artifacts: list[Artifact],
    image: np.ndarray,
    rounds: int = 7,
    calls: int = 30,
    threads: int = 1,
    extra: dict[tuple[str, str, str], Callable[[Any], Any]] | None = None,
) -> dict[tuple[str, str, str], Timing]:
    """Per artifact, the median of ``calls`` timed calls in each of ``rounds`` turns. ``extra``: more
    callables timed in the same turns (a peer model such as MediaPipe's, taking ``image`` or not)."""
    from edgekp.export.base import get_target

    runners: dict[tuple[str, str, str], Callable[[Any], Any]] = {
        (a.variant, a.runtime, a.precision): get_target(a.runtime.split("_")[0]).load_runner(a.path, threads)
        for a in artifacts
    }
    runners.update(extra or {})
    # 5 warm-up calls each (first calls allocate and pick kernels), then per round one untimed call and
    # ``calls`` timed ones per artifact.
    turns = round_robin(
        {key: (lambda run=run: run(image)) for key, run in runners.items()}, rounds, calls, warmup=5, rewarm=1
    )
    return {key: Timing(t.turn_medians_ms()) for key, t in turns.items()}


def ratios(timings: dict[tuple[str, str, str], Timing]) -> dict[tuple[str, str], float]:
    """int8/fp32 per (variant, runtime): the median over rounds of the within-round ratio."""
    out = {}
    for (variant, runtime, precision), t in timings.items():
        if precision != "int8" or (variant, runtime, "fp32") not in timings:
            continue
        fp = timings[(variant, runtime, "fp32")].rounds
        out[(variant, runtime)] = float(statistics.median(i / f for i, f in zip(t.rounds, fp, strict=True)))
    return out

"""Image inputs against the old NCHW float inputs, per runtime and precision: latency and NME.

Used by benchmarks/int8_speed.py --inputs. Each artifact is made by the export pipeline exactly as
`edgekp export` makes it (default recipe, synthetic calibration), once with the default image input
(TFLite NHWC float32 / uint8 for int8, OpenVINO u8 NHWC) and once with ``<target>.input=tensor``
(NCHW float32). Latency: the runtime alone, on a tensor already in the artifact's own form (what an
app hands it), round robin in this process, 1 thread, medians; NME through the same runners as parity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

FORMS = ("image", "tensor")
TARGETS = (("tflite", "fp32"), ("tflite", "int8"), ("openvino", "fp32"), ("openvino", "int8"))


def export_forms(
    from_run: str | None, out: Path, targets: tuple[tuple[str, str], ...] = TARGETS
) -> dict[tuple[str, str, str], Path]:
    """(target, precision, form) -> artifact; an artifact already in ``out`` is reused."""
    from edgekp.config.export import ExportRecipe
    from edgekp.config.loader import default_recipe
    from edgekp.export.pipeline import ExportRequest, export_one
    from edgekp.sources import resolve_source

    run = resolve_source(from_run).run_dir
    arts = {}
    for target, precision in targets:
        for form in FORMS:
            where = out / f"{target}-{precision}-{form}"
            found = sorted(p for p in where.glob("model.*") if p.suffix in (".tflite", ".xml"))
            if not found:
                recipe = default_recipe(ExportRecipe, [f"{target}.input={form}"])
                found = [
                    Path(
                        export_one(ExportRequest(target, precision), from_run=run, recipe=recipe, out=where)["artifact"]
                    )
                ]
            arts[(target, precision, form)] = found[0]
            print(f"  {target} {precision} {form}: {found[0]}", flush=True)
    return arts


def time_native(arts: dict[tuple[str, str, str], Path], image: Any, rounds: int) -> dict[tuple[str, str, str], Any]:
    from edgekp.compress.int8_screen import time_round_robin
    from edgekp.export.base import get_target

    calls = {key: get_target(key[0]).load_runner(path, 1).native_call(image) for key, path in arts.items()}
    return time_round_robin([], image, rounds=rounds, extra=calls)


def predict_all(runner: Any, inputs: np.ndarray, batch: int = 64) -> np.ndarray:
    """Every face through ``runner`` in batches of ``batch``, as edgekp bench predicts them."""
    return np.concatenate([np.asarray(runner(inputs[i : i + batch]), np.float32) for i in range(0, len(inputs), batch)])


def nme_per_artifact(arts: dict[tuple[str, str, str], Path], faces: Any) -> dict[tuple[str, str, str], float]:
    from edgekp.bench.core import score
    from edgekp.export.base import get_target

    return {
        key: score(predict_all(get_target(key[0]).load_runner(path, 1), faces.inputs), faces)["nme"]
        for key, path in arts.items()
    }


def pair_in_both_orders(arts: dict[tuple[str, str, str], Path], image: Any, rounds: int) -> list[str]:
    """Each runtime/precision's image and tensor files alone, in both orders: a round robin's order
    (the first of a round follows another model's call) shows up as a few % either way."""
    from edgekp.compress.int8_screen import time_round_robin
    from edgekp.export.base import get_target

    lines = []
    for target, precision in TARGETS:
        for order in (FORMS, FORMS[::-1]):
            calls = {
                (target, precision, f): get_target(target)
                .load_runner(arts[(target, precision, f)], 1)
                .native_call(image)
                for f in order
            }
            t = time_round_robin([], image, rounds=rounds, extra=calls)
            lines.append(
                f"  {target} {precision}, timed {' then '.join(order)}: "
                + ", ".join(f"{f} {t[(target, precision, f)].ms:.3f} ms" for f in order)
            )
    return lines

"""Round-robin timing with each runtime in a fresh process of its own.

``int8_speedup.time_round_robin`` times every artifact in the process that exported them. On an AMD
EPYC VM (AVX-512 + VNNI) that process skewed OpenVINO's int8 against its fp32: kp_hvit_b_q's
OpenVINO int8/fp32 read 0.74 there and 0.49-0.55 with the same two IRs timed in a fresh process,
0.58-0.68 in a fresh process that also held LiteRT, onnxruntime and torch. An application loads one
runtime, so that is the process each runtime gets here: one child per runtime (fp32 and int8 of every
variant, round robin inside it, each ratio still taken within a round), plus any peer model that is
compared with that runtime (MediaPipe's face_landmark.tflite beside TFLite).

Fresh processes differ among themselves too: the same two b_q IRs gave int8/fp32 0.47 in one and
0.72 in the next (placement on the VM's vCPUs, memory layout). So each runtime gets ``processes``
children, the runtimes taking turns, and their rounds are pooled: a ratio is the median of within-round
ratios over every child's rounds.

The child is ``python -m edgekp.bench.int8_speedup_isolated SPEC.json`` (edgekp.measure.isolated); it
writes its timings, and the runtime modules its process had loaded, next to the spec.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.bench.int8_speedup import Artifact, Timing, time_round_robin
from edgekp.measure.isolated import child_main, loaded_modules, run_in_fresh_process

# Top-level modules of the runtimes, reported by each child so a caller can see what shared its process.
RUNTIME_MODULES = ("ai_edge_litert", "openvino", "onnxruntime", "torch")


def time_per_runtime(
    artifacts: list[Artifact],
    image: np.ndarray,
    rounds: int = 7,
    calls: int = 30,
    threads: int = 1,
    peers: dict[str, dict[tuple[str, str, str], Path]] | None = None,
    processes: int = 1,
) -> tuple[dict[tuple[str, str, str], Timing], dict[str, list[str]]]:
    """Timings of every artifact (and peer), each runtime's group timed in ``processes`` fresh processes
    of its own, ``rounds`` rounds each (pooled).

    ``peers`` maps a runtime to extra TFLite models timed in that runtime's rounds, keyed like the
    artifacts, e.g. ``{"tflite": {("mediapipe", "tflite", "fp32"): path}}``. Returns the timings and,
    per runtime, the runtime modules its child process had loaded."""
    groups: dict[str, list[Artifact]] = {}
    for art in artifacts:
        groups.setdefault(art.runtime, []).append(art)
    for runtime in peers or {}:
        groups.setdefault(runtime, [])
    timings: dict[tuple[str, str, str], Timing] = {}
    loaded: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="edgekp_timing_") as tmp:
        np.save(Path(tmp) / "image.npy", np.ascontiguousarray(image, np.float32))
        turns = [group for _ in range(processes) for group in groups.items()]  # the runtimes take turns
        for runtime, arts in turns:
            spec = {
                "image": str(Path(tmp) / "image.npy"),
                "rounds": rounds,
                "calls": calls,
                "threads": threads,
                "artifacts": [
                    {"variant": a.variant, "runtime": a.runtime, "precision": a.precision, "path": str(a.path)}
                    for a in arts
                ],
                "peers": [
                    {"key": list(key), "path": str(path)} for key, path in (peers or {}).get(runtime, {}).items()
                ],
            }
            result = run_in_fresh_process(
                "edgekp.bench.int8_speedup_isolated", spec, Path(tmp) / f"{runtime}.json", f"timing {runtime}"
            )
            for row in result["timings"]:
                timings.setdefault(tuple(row["key"]), Timing()).rounds.extend(row["rounds"])  # type: ignore[arg-type]
            loaded[runtime] = result["modules"]
    return timings, loaded


def peer_tflite_call(path: Path, threads: int) -> Any:
    """A peer TFLite model called on its own random input (its input size is its own)."""
    from ai_edge_litert import interpreter as litert

    interp = litert.Interpreter(model_path=str(path), num_threads=threads)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], np.random.default_rng(0).random(inp["shape"], dtype=np.float32))
    return lambda _image: interp.invoke()


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    arts = [Artifact(a["variant"], a["runtime"], a["precision"], Path(a["path"]), 0.0) for a in spec["artifacts"]]
    extra = {tuple(p["key"]): peer_tflite_call(Path(p["path"]), spec["threads"]) for p in spec["peers"]}
    timings = time_round_robin(
        arts, np.load(spec["image"]), rounds=spec["rounds"], calls=spec["calls"], threads=spec["threads"], extra=extra
    )  # type: ignore[arg-type]
    rows = [{"key": list(key), "rounds": t.rounds} for key, t in timings.items()]
    return {"timings": rows, "modules": loaded_modules(RUNTIME_MODULES)}


if __name__ == "__main__":
    child_main(_child)

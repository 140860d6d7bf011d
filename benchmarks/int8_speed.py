"""fp32 vs int8 latency (and NME) per CPU runtime, with the host's ISA: is int8 buying speed here?

Two modes, one round-robin timing (every artifact timed in turns, medians; each int8/fp32 ratio is
taken within a round). Each runtime is timed in fresh processes of its own (``--timing isolated``,
the default: ``--processes`` of them, rounds pooled; MediaPipe's model shares TFLite's), as an
application would load it: in the process that exported everything, OpenVINO's int8 ran up to 1.5x
slower against its fp32 (see edgekp.compress.isolated_timing). ``--timing shared`` times all in
this process, as before:

    # a trained model (default: the shipped one): PTQ int8 per runtime, NME on a face set
    python -m benchmarks.int8_speed --data ../shared/data/300w/helen_train --data ../shared/data/300w/afw --holdout

    # a latency screen of quantization-friendly variants (untrained: latency does not depend on weights)
    python -m benchmarks.int8_speed --screen base,kernel_relu,fused,bn,q_all

    # image inputs (TFLite NHWC, uint8 for int8; OpenVINO u8 NHWC) against the old NCHW float ones,
    # each made by the export pipeline as `edgekp export` makes it (benchmarks/int8_inputs.py)
    python -m benchmarks.int8_speed --inputs --data ../shared/data/300w/helen_train --data ../shared/data/300w/afw \\
        --holdout

int8 is post-training quantization with the synthetic calibration faces (no download): LiteRT PT2E
static, OpenVINO nncf.quantize (transformer scheme), onnxruntime NNCF Q/DQ. Targets of issue 14 on a
VNNI host: TFLite int8/fp32 <= 0.6, OpenVINO <= 0.7.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # busy cores: OpenMP spin-waits distort timings

import numpy as np
import torch

from edgekp.compress.int8_screen import (
    RUNTIMES,
    export_variant,
    ratios,
    settle_batchnorm,
    synthetic_calibration,
    time_round_robin,
)
from edgekp.compress.isolated_timing import peer_tflite_call, time_per_runtime
from edgekp.host import host_info

# Quantization-friendly candidates: config overrides of kp_hvit_s (all HvitConfig fields).
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "relu": {"act": "relu"},
    "hswish": {"act": "hardswish"},
    "kernel_relu": {"attn_kernel": "relu"},
    "fused": {"attn_fused_denominator": True},
    "bn": {"token_norm": "batch"},  # folded into the next Linear at export (KeypointHVit.inference_form)
    "nonorm": {"token_norm": "none"},  # ablation: what no token norm at all would cost
    "kr_fused": {"attn_kernel": "relu", "attn_fused_denominator": True},
    "kr_fused_bn": {"attn_kernel": "relu", "attn_fused_denominator": True, "token_norm": "batch"},
    "q_all": {"act": "relu", "attn_kernel": "relu", "attn_fused_denominator": True, "token_norm": "batch"},
    # registered variants by name
    "s_q": {"model": "kp_hvit_s_q"},
    "t": {"model": "kp_hvit_t"},
    "t_q": {"model": "kp_hvit_t_q"},
    # width: int8 pays off only on wide enough matmuls (same blocks, input normalization folded)
    "t_qf": {"model": "kp_hvit_t_qf"},
    "s_qf": {"model": "kp_hvit_s_q", "input_norm": "folded"},
    "b_q": {"model": "kp_hvit_b_q"},
}


MEDIAPIPE = ("mediapipe", "tflite", "fp32")


def _mediapipe(cache: str | None) -> dict[str, dict[tuple[str, str, str], Path]]:
    """MediaPipe's face_landmark.tflite (192 px), timed in TFLite's rounds: the issue's latency yardstick."""
    from edgekp.bench.peers import default_cache, obtain_mediapipe

    return {"tflite": {MEDIAPIPE: obtain_mediapipe(Path(cache) if cache else default_cache())}}


def _time(
    arts: list[Any],
    image: np.ndarray,
    args: argparse.Namespace,
    peers: dict[str, dict[tuple[str, str, str], Path]] | None,
) -> dict[tuple[str, str, str], Any]:
    if args.timing == "isolated":
        timings, loaded = time_per_runtime(arts, image, rounds=args.rounds, peers=peers, processes=args.processes)
        print(
            f"timing: each runtime in {args.processes} fresh process(es) of its own, {args.rounds} rounds each; "
            "modules loaded there: " + "; ".join(f"{rt}: {', '.join(mods)}" for rt, mods in loaded.items())
        )
        return timings
    extra = {key: peer_tflite_call(path, 1) for group in (peers or {}).values() for key, path in group.items()}
    print("timing: every runtime in this process (the one that exported them)")
    return time_round_robin(arts, image, rounds=args.rounds, extra=extra)


def _trained(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    from edgekp.checkpoints import load_run_model
    from edgekp.sources import resolve_source

    source = resolve_source(args.from_run)
    loaded = load_run_model(source.run_dir)
    return {"trained": loaded.model.eval()}, {"run": str(source.run_dir), "meta": loaded.meta}


def _nme(arts: list[Any], args: argparse.Namespace, info: dict[str, Any], model: Any) -> dict[tuple[str, str], float]:
    from benchmarks.int8_inputs import predict_all
    from edgekp.artifacts import RunDir
    from edgekp.bench.core import BenchOptions, load_faces, score
    from edgekp.export.base import get_target

    run = RunDir.open(info["run"])
    opts = BenchOptions(data=tuple(args.data), holdout=args.holdout, max_faces=args.max_faces)
    datasets = [(Path(p), "auto") for p in args.data]
    meta = {**info["meta"], "input_size": model.config.input_size, "num_points": model.config.num_points}
    faces = load_faces(run, datasets, meta, opts, Path(tempfile.mkdtemp(prefix="int8_speed_crops_")))
    out = {
        ("pytorch", "fp32"): score(
            predict_all(lambda x: model(torch.from_numpy(x)).detach().numpy(), faces.inputs), faces
        )["nme"]
    }
    for a in arts:
        runner = get_target(a.runtime).load_runner(a.path, 1)
        out[(a.runtime, a.precision)] = score(predict_all(runner, faces.inputs), faces)["nme"]
    print(f"NME on {faces.path}: {len(faces.inputs)} faces (inter-ocular)")
    return out


def _inputs(args: argparse.Namespace) -> int:
    """--inputs: image vs tensor input per runtime and precision, latency (runtime alone) and NME."""
    from benchmarks.int8_inputs import FORMS, TARGETS, export_forms, nme_per_artifact, pair_in_both_orders, time_native

    out = Path(args.out or tempfile.mkdtemp(prefix="int8_inputs_"))
    arts = export_forms(args.from_run, out)
    models, info = _trained(args)
    model = models["trained"]
    size = int(model.config.input_size)
    timings = time_native(arts, synthetic_calibration(1, size), args.rounds)
    nme: dict[Any, float] = {}
    where = ""
    if args.data:
        from edgekp.artifacts import RunDir
        from edgekp.bench.core import BenchOptions, load_faces

        opts = BenchOptions(data=tuple(args.data), holdout=args.holdout, max_faces=args.max_faces)
        meta = {**info["meta"], "input_size": size, "num_points": model.config.num_points}
        faces = load_faces(
            RunDir.open(info["run"]),
            [(Path(p), "auto") for p in args.data],
            meta,
            opts,
            Path(tempfile.mkdtemp(prefix="int8_inputs_crops_")),
        )
        nme = nme_per_artifact(arts, faces)
        where = f"{faces.path}: {len(faces.inputs)} faces, inter-ocular"
    host = host_info(threads=1)
    print(
        f"host: {host['cpu']}; ISA {' '.join(host['isa'])}; VNNI {host['has_vnni']}; 1 thread; load "
        f"{os.getloadavg()[0]:.1f}"
    )
    print("latency: the runtime alone on a tensor in the artifact's own form, round robin in this process, medians")
    if where:
        print(f"NME on {where}")
    print(f"{'runtime':<9} {'prec':<5} {'form':<7} {'ms':>7} {'/tensor':>8} {'int8/fp32':>9} {'NME %':>7}")
    rows = []
    for target, precision in TARGETS:
        for form in FORMS:
            key = (target, precision, form)
            t = timings[key]
            vs_tensor = statistics.median(
                a / b for a, b in zip(t.rounds, timings[(target, precision, "tensor")].rounds, strict=True)
            )
            fp = timings.get((target, "fp32", form))
            vs_fp32 = statistics.median(a / b for a, b in zip(t.rounds, fp.rounds, strict=True)) if fp else float("nan")
            n = nme.get(key)
            rows.append(
                {
                    "runtime": target,
                    "precision": precision,
                    "input": form,
                    "ms": t.ms,
                    "vs_tensor": vs_tensor,
                    "int8_over_fp32": vs_fp32,
                    "nme": n,
                    "artifact": str(arts[key]),
                }
            )
            print(
                f"{target:<9} {precision:<5} {form:<7} {t.ms:>7.3f} {vs_tensor:>8.2f} {vs_fp32:>9.2f} "
                f"{'' if n is None else f'{100 * n:.2f}':>7}"
            )
    print("image against tensor alone, both orders:")
    pairs = pair_in_both_orders(arts, synthetic_calibration(1, size), args.rounds)
    print("\n".join(pairs))
    if args.json:
        Path(args.json).write_text(json.dumps({"host": host, "rows": rows, "faces": where, "pairs": pairs}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="from_run", default=None, help="trained run (default: the shipped model)")
    p.add_argument("--screen", default=None, help=f"comma-separated untrained variants instead: {', '.join(VARIANTS)}")
    p.add_argument(
        "--runtimes", default=",".join(RUNTIMES), help="tflite,openvino,onnx (and openvino_cnn: NNCF's CNN scheme)"
    )
    p.add_argument("--data", action="append", default=[], help="face set for NME (repeat to pool); none: latency only")
    p.add_argument("--holdout", action="store_true", help="only the faces the run's training held out")
    p.add_argument("--max-faces", type=int, default=None)
    p.add_argument("--calib", type=int, default=32, help="synthetic calibration faces for int8")
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--out", default=None, help="folder for the artifacts (default: a temp folder)")
    p.add_argument("--json", default=None, help="also write the table here")
    p.add_argument(
        "--mediapipe", action="store_true", help="also time MediaPipe's face_landmark.tflite in the same rounds"
    )
    p.add_argument(
        "--timing",
        choices=("isolated", "shared"),
        default="isolated",
        help="isolated: each runtime timed in a fresh process of its own (default); shared: all in this one",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=3,
        help="isolated timing: fresh processes per runtime, their rounds pooled (processes differ among themselves)",
    )
    p.add_argument(
        "--peers-cache", default=None, help="where the MediaPipe download is cached (default: ~/.cache/edgekp/peers)"
    )
    p.add_argument(
        "--inputs",
        action="store_true",
        help="compare the default image inputs with the old NCHW float inputs (tflite, openvino; fp32, int8)",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.inputs:
        return _inputs(args)
    runtimes = tuple(r.strip() for r in args.runtimes.split(",") if r.strip())
    out = Path(args.out or tempfile.mkdtemp(prefix="int8_speed_"))
    if args.screen:
        models, info = {}, {}
        for name in args.screen.split(","):
            torch.manual_seed(0)
            from edgekp.models import create_model

            spec = dict(VARIANTS[name])
            models[name] = create_model(spec.pop("model", "kp_hvit_s"), **spec)
    else:
        models, info = _trained(args)
    size = int(next(iter(models.values())).config.input_size)
    calib = synthetic_calibration(args.calib, size)
    arts = []
    for name, model in models.items():
        if args.screen:
            settle_batchnorm(model, calib)
        arts += export_variant(name, model, calib, out, runtimes)
    peers = _mediapipe(args.peers_cache) if args.mediapipe else None
    timings = _time(arts, calib[:1], args, peers)
    r = ratios(timings)
    nme = _nme(arts, args, info, models["trained"]) if args.data and not args.screen else {}
    host = host_info(threads=1)
    print(f"host: {host['cpu']}; ISA {' '.join(host['isa'])}; VNNI {host['has_vnni']}; load {os.getloadavg()[0]:.1f}")
    if os.environ.get("ONEDNN_MAX_CPU_ISA"):  # OpenVINO's oneDNN honours it (AVX2: an AVX2-only host's kernels)
        print(
            f"ONEDNN_MAX_CPU_ISA={os.environ['ONEDNN_MAX_CPU_ISA']}: OpenVINO's kernels are capped there; LiteRT's "
            "are not"
        )
    print(
        f"{'variant':<12} {'runtime':<9} {'fp32 ms':>8} {'int8 ms':>8} {'int8/fp32':>9}"
        + ("  NME fp32 / int8" if nme else "")
    )
    rows = []
    for name in models:
        for rt in runtimes:
            fp, i8 = timings[(name, rt, "fp32")].ms, timings[(name, rt, "int8")].ms
            row = {
                "variant": name,
                "runtime": rt,
                "fp32_ms": fp,
                "int8_ms": i8,
                "ratio": r[(name, rt)],
                "nme_fp32": nme.get((rt, "fp32")),
                "nme_int8": nme.get((rt, "int8")),
            }
            rows.append(row)
            extra = f"  {100 * row['nme_fp32']:.2f}% / {100 * row['nme_int8']:.2f}%" if nme else ""
            print(f"{name:<12} {rt:<9} {fp:>8.3f} {i8:>8.3f} {row['ratio']:>9.2f}{extra}")
    if peers:
        mp = timings[MEDIAPIPE]
        print(
            f"MediaPipe face_landmark.tflite fp32: {mp.ms:.3f} ms; TFLite latency / MediaPipe's (within-round medians):"
        )
        for name in models:
            for prec in ("fp32", "int8"):
                if (name, "tflite", prec) in timings:
                    rel = statistics.median(
                        a / b for a, b in zip(timings[(name, "tflite", prec)].rounds, mp.rounds, strict=True)
                    )
                    print(f"  {name} {prec}: {rel:.2f}x")
    if nme:
        print(f"pytorch fp32 NME {100 * nme[('pytorch', 'fp32')]:.2f}%")
    if args.json:
        mediapipe = {"mediapipe_ms": timings[MEDIAPIPE].ms} if peers else {}
        Path(args.json).write_text(
            json.dumps(
                {"host": host, "timing": args.timing, "rows": rows, "artifacts": str(out), **mediapipe}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""fp32 vs post-training int8 vs QAT int8, per target that runs here, from the exported artifacts in
their real runtimes (OpenVINO CPU plugin, onnxruntime, ai-edge-litert), on every face set of the
reference report (edgekp.report.reference). The command behind benchmarks/qat_vs_ptq.py:

    python -m benchmarks.qat_vs_ptq --from runs/kp_hvit_s_merlrav --data-root ../shared/data --qat-minutes 8
    python -m benchmarks.qat_vs_ptq --from RUN --data-root ../shared/data --qat-minutes 0.5 \
        --max-train-faces 60 --eval-faces 40

Face sets: the reference report's (300w_val = the 300W photos the parent's training held out,
ytf_test, merlrav_test), read as the parent's recipe reads them (format, crop margin) by edgekp
bench's own loader (edgekp.bench.core.load_faces: faces with a third of the points labelled, the
scheme's default and every committed recipe's min_labelled_points) and scored with the one accuracy
path (edgekp.bench.accuracy.score_crops -> edgekp.metrics.summarize): each set under the
normalization its recipe entry names (MERL-RAV test: box = sqrt(w * h) of the labelled points' box,
over labelled points, with the |yaw| bins), others inter-ocular. d = change relative to the same
target's fp32 export; |d| > 1 % is flagged (the issue's QAT target). PTQ and QAT use the same
calibration faces (recipe calibration: N faces of the training data, same seed). PTQ int8 = the
export route's own post-training quantization: OpenVINO = nncf.quantize on the IR; TFLite =
litert-torch PT2E static; ONNX = nncf.quantize on the torch model exported as Q/DQ (the QAT route
with zero fine-tuning). QAT runs are kept at <out>/<target>/run, so the reference report can take
them (--qat <target>=<out>/<target>/run). Latency: batch 1, 1 thread, median. The host's ISA is
printed: without VNNI, int8 kernels are not faster than fp32 here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.report.qat_vs_ptq_figures import (
    QAT_RECIPES,
    TARGETS,
    TOLERANCE,
    FaceSetSpec,
    compare,
    face_set_specs,
    reference_face_sets,
    table,
)

YAW_THRESHOLD = 30.0  # edgekp bench's default large-pose rule, so the pose split matches the report


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="from_run", required=True, help="a train (or prune) run")
    p.add_argument("--data-root", required=True)
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--qat-epochs", type=int, default=None, help="override the recipes' finetune.max_epochs")
    p.add_argument("--qat-minutes", type=float, default=None, help="fine-tuning time budget per QAT run")
    p.add_argument("--max-train-faces", type=int, default=None, help="cap each training dataset (short tries)")
    p.add_argument(
        "--eval-faces",
        type=int,
        default=None,
        help="cap each face set, and the QAT runs' own validation sets (short tries)",
    )
    p.add_argument("--calib-faces", type=int, default=None)
    p.add_argument(
        "--qat-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field of every QAT recipe, as edgekp qat --set (e.g. finetune.lr=5e-5)",
    )
    p.add_argument(
        "--reuse-qat",
        action="store_true",
        help="reuse QAT runs already finished in --out (re-export and re-measure only)",
    )
    p.add_argument("--out", default=None, help="work folder (default: a temp folder); results.json is written there")
    return p.parse_args(argv)


def overrides(args: argparse.Namespace) -> list[str]:
    sets = [f"data.root={args.data_root}", "threads=1", "device=cpu"]
    if args.qat_epochs is not None:
        sets.append(f"finetune.max_epochs={args.qat_epochs}")
    if args.qat_minutes is not None:
        sets.append(f"finetune.time_budget_min={args.qat_minutes}")
    if args.calib_faces is not None:
        sets.append(f"calibration.faces={args.calib_faces}")
    return sets + list(args.qat_set)


@dataclass(frozen=True)
class Faces:
    spec: FaceSetSpec
    crops: Any  # CropSet at the model's input size
    inputs: np.ndarray  # N x 3 x S x S float32 in [0, 1]
    is_large: np.ndarray


def load_face_set(
    spec: FaceSetSpec, parent: Any, data: Any, scheme: Any, size: int, max_faces: int | None, cache_dir: Path
) -> Faces:
    """The faces of one set, read by edgekp bench's loader (edgekp.bench.core.load_faces): each dataset in
    the recipe's format, held-out faces as edgekp bench --holdout picks them, sorted by source and capped,
    cropped with the recipe's margin. ``parent``: the parent run (a RunDir)."""
    from edgekp.bench.core import BenchOptions, load_faces

    meta = {"scheme": scheme.name, "num_points": scheme.num_points, "input_size": size, "crop_margin": data.crop.margin}
    opts = BenchOptions(holdout=spec.holdout, max_faces=max_faces, yaw_threshold=YAW_THRESHOLD)
    found = load_faces(parent, [(data.resolve(rel), fmt) for rel, fmt in spec.datasets], meta, opts, cache_dir)
    return Faces(spec, found.crops, found.inputs, found.is_large)


def score_set(pred: np.ndarray, faces: Faces, scheme: Any) -> dict[str, Any]:
    from edgekp.bench.accuracy import score_crops

    s = score_crops(pred, faces.crops, scheme, faces.is_large, norm=faces.spec.norm)
    out = {
        "norm": s["norm"],
        "n": s["n"],
        "n_unscored": s["n_unscored"],
        "nme": s["nme"],
        "nme_box": s["nme_box"],
        "fr": s["fr"],
        "auc": s["auc"],
        "nme_corners_box": s["nme_corners_box"],
    }
    if faces.spec.norm == "box":
        out["bins"] = {b: {"n": c["n"], "nme": c["nme"]} for b, c in s["by_yaw"]["box"].items()}
    return out


def main(argv: list[str] | None = None) -> int:
    from edgekp.errors import EdgeKPError

    args = parse(argv)
    try:
        return run(args)
    except EdgeKPError as exc:
        print(f"edgekp: error: {exc}", file=sys.stderr)
        return exc.exit_code


def run(args: argparse.Namespace) -> int:
    import torch

    from edgekp.artifacts import RunDir
    from edgekp.bench.latency import LatencySettings, measure
    from edgekp.compress.lifecycle import compress, finetune_recipe, parent_train_recipe
    from edgekp.compress.qat import QatCompressor, calibration_images, load_qat_model
    from edgekp.config.export import ExportRecipe
    from edgekp.config.loader import load_recipe
    from edgekp.config.qat import QatRecipe
    from edgekp.export.base import ExportSpec, get_target
    from edgekp.export.pipeline import artifact_size, target_options
    from edgekp.host import host_info
    from edgekp.models.io import load_model_from_run
    from edgekp.train.data import build_training_data

    torch.set_num_threads(1)
    host = host_info(threads=1)
    print(
        f"host: {host['cpu']}; ISA: {' '.join(host['isa']) or 'none of the listed'}; VNNI: "
        f"{'yes' if host['has_vnni'] else 'NO (int8 is not expected to be faster than fp32 here)'}",
        flush=True,
    )
    work = Path(args.out or tempfile.mkdtemp(prefix="qat_vs_ptq_"))
    work.mkdir(parents=True, exist_ok=True)
    parent = RunDir.open(args.from_run)
    model, _ = load_model_from_run(parent.path)
    size = int(model.config.input_size)
    base_recipe = load_recipe("recipes/qat/openvino_int8.yaml", overrides(args), expect=QatRecipe)
    train_recipe = finetune_recipe(parent_train_recipe(parent), base_recipe)
    if args.max_train_faces:
        train_recipe.data.train[:] = [
            s.model_copy(update={"max_faces": args.max_train_faces}) for s in train_recipe.data.train
        ]
    if args.eval_faces:
        train_recipe.data.val[:] = [s.model_copy(update={"max_faces": args.eval_faces}) for s in train_recipe.data.val]
    specs = face_set_specs(train_recipe.data, reference_face_sets())
    data = build_training_data(train_recipe)
    faces = [
        load_face_set(s, parent, train_recipe.data, data.scheme, size, args.eval_faces, work / "crops") for s in specs
    ]
    print(
        "faces: "
        + "; ".join(
            f"{f.spec.name} {len(f.inputs)} ({f.spec.norm}, read as {'+'.join(fmt for _, fmt in f.spec.datasets)})"
            for f in faces
        ),
        flush=True,
    )
    calib = calibration_images(base_recipe, data, size, None)
    x1 = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)

    def evaluate(runner) -> dict:
        row: dict[str, Any] = {"sets": {}}
        for f in faces:
            pred = np.concatenate(
                [np.asarray(runner(f.inputs[i : i + 32]), np.float32) for i in range(0, len(f.inputs), 32)]
            )
            row["sets"][f.spec.name] = score_set(pred, f, data.scheme)
        with runner.session():  # the runner's thread setting holds for the whole timing loop
            row["latency_ms"] = measure(lambda: runner(x1), LatencySettings(min_runs=100, min_seconds=3))["p50_ms"]
        return row

    def qat_run(t: str, o: Path) -> Path:
        recipe = load_recipe(f"recipes/qat/{QAT_RECIPES[t]}.yaml", overrides(args), expect=QatRecipe)
        run_dir = work / t / "run"  # where scripts/reference_report.py --qat t=<run> takes it from
        manifest = run_dir / "manifest.json"
        finished = manifest.is_file() and json.loads(manifest.read_text()).get("status") == "ok"
        if not (args.reuse_qat and finished):
            if run_dir.exists():  # a previous try of this benchmark; QAT refuses to overwrite a run
                import shutil

                shutil.rmtree(run_dir)
            summary = compress(QatCompressor(recipe), recipe, parent.path, run_dir, data=data)
            print(
                f"  qat {t}: val NME {summary['val_nme_before_finetune']:.4f} after quantization -> "
                f"{summary['best_val_nme']:.4f} after {summary['epochs']} epochs",
                file=sys.stderr,
            )
        qmodel, _, info = load_qat_model(run_dir)
        route = get_target(t).qat_route(info["quantizer"], "int8")
        return get_target(t).convert_qat(qmodel, ExportSpec(size, 68, "int8", route.name), o)

    def ptq_onnx(o: Path) -> Path:
        import copy

        from edgekp.compress import qat_nncf
        from edgekp.compress.qat import resolve_ignored

        recipe = load_recipe("recipes/qat/onnx_int8.yaml", overrides(args), expect=QatRecipe)
        q = qat_nncf.prepare(copy.deepcopy(model), calib, recipe, resolve_ignored(model, recipe.ignored_scopes))
        return get_target("onnx").convert_qat(
            q, ExportSpec(size, 68, "int8", "qat-nncf"), o
        )  # the onnx target's NNCF Q/DQ route

    rows: list[dict[str, Any]] = []
    targets = [t for t in args.targets.split(",") if t]
    for t in targets:
        target = get_target(t)
        route0 = target.capabilities.routes[0].name
        plans = [
            ("fp32", lambda o, target=target, r=route0: target.convert(model, ExportSpec(size, 68, "fp32", r), None, o))
        ]
        if t == "onnx":
            plans.append(("ptq_int8", ptq_onnx))
        else:
            # The export recipe's defaults (tflite: static int8, head and first convolution float), as `edgekp export`.
            spec = ExportSpec(size, 68, "int8", route0, options=target_options(ExportRecipe(), t))
            plans.append(("ptq_int8", lambda o, s=spec, target=target: target.convert(model, s, calib, o)))
        plans.append(("qat_int8", lambda o, t=t: qat_run(t, o)))
        for precision, build in plans:
            o = work / t / precision
            o.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            try:
                artifact = build(o)
                row = {
                    "target": t,
                    "precision": precision,
                    "status": "ok",
                    "size_kb": round(artifact_size(artifact) / 1024, 1),
                    **evaluate(target.load_runner(artifact, threads=1)),
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            except Exception as exc:
                traceback.print_exc(file=sys.stderr)
                row = {"target": t, "precision": precision, "status": f"failed: {type(exc).__name__}: {str(exc)[:160]}"}
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "sets"}), file=sys.stderr, flush=True)
    fp32 = {r["target"]: r for r in rows if r["precision"] == "fp32" and r["status"] == "ok"}
    for r in rows:
        if r["status"] == "ok":  # the fp32 row is the reference: no d of its own
            r["d"], r["flags"] = compare(r, None if r["precision"] == "fp32" else fp32.get(r["target"]))
    print(
        f"\nhost ISA: {' '.join(host['isa']) or 'none of the listed'} "
        f"(VNNI: {'yes' if host['has_vnni'] else 'no'}); {host['cpu']}"
    )
    print(
        "NME in %: each set under its recipe normalization (io = inter-ocular, box = sqrt(w * h) of the labelled "
        "points' box, over labelled points); d = relative change against the same target's fp32 export, ! = |d| > "
        f"{100 * TOLERANCE:g} %; latency: batch 1, 1 thread, median."
    )
    print("faces: " + ", ".join(f"{f.spec.name} n={len(f.inputs)}" for f in faces) + "\n")
    for t in targets:
        print("\n".join(table(t, [r for r in rows if r["target"] == t], specs)))
    qat_ok = [r for r in rows if r["precision"] == "qat_int8" and r["status"] == "ok"]
    verdict = {
        r["target"]: not [k for k in r["flags"] if k in r["sets"]] for r in qat_ok
    }  # the set-level figures (the target)
    print(
        "QAT int8 within 1 % of fp32 on every face set: "
        + (", ".join(f"{t} {'yes' if ok else 'NO'}" for t, ok in verdict.items()) or "no QAT row finished")
    )
    runs = [f"--qat {t}={work / t / 'run'}" for t in targets if (work / t / "run" / "manifest.json").is_file()]
    if runs:
        print("QAT runs for the reference report: " + " ".join(runs))
    result = {
        "host": host,
        "isa": host["isa"],
        "has_vnni": host["has_vnni"],
        "tolerance": TOLERANCE,
        "face_sets": [
            {
                "name": f.spec.name,
                "datasets": [list(d) for d in f.spec.datasets],
                "holdout": f.spec.holdout,
                "norm": f.spec.norm,
                "n": len(f.inputs),
            }
            for f in faces
        ],
        "qat_within_tolerance": verdict,
        "rows": rows,
        "args": vars(args),
    }
    (work / "results.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"results: {work / 'results.json'}")
    return 0

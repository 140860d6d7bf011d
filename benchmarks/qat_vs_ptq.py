"""fp32 vs post-training int8 vs QAT int8, per target that runs here, from the exported artifacts in
their real runtimes (OpenVINO CPU plugin, onnxruntime, ai-edge-litert).

    python benchmarks/qat_vs_ptq.py --from runs/kp_hvit_s_300w --data-root ../shared/data
    python benchmarks/qat_vs_ptq.py --from RUN --data-root ../shared/data --qat-minutes 3 --max-train-faces 600 --eval-faces 200

Accuracy: NME (inter-ocular) on the 300W validation split of the parent's recipe (held-out photos of
HELEN train + AFW) and on ytf/test. PTQ and QAT use the same calibration faces (recipe
calibration: N faces of the training data, same seed). PTQ int8 = the export route's own post-training
quantization: OpenVINO = nncf.quantize on the IR; TFLite = litert-torch PT2E static; ONNX = nncf.quantize
on the torch model exported as Q/DQ (the QAT route with zero fine-tuning). Latency: batch 1, 1 thread,
median. The host's ISA is printed: without VNNI, int8 kernels are not faster than fp32 here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a clone without an install

TARGETS = ("openvino", "onnx", "tflite")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="from_run", required=True, help="a train (or prune) run")
    p.add_argument("--data-root", required=True)
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--qat-epochs", type=int, default=None, help="override the recipes' finetune.max_epochs")
    p.add_argument("--qat-minutes", type=float, default=None, help="fine-tuning time budget per QAT run")
    p.add_argument("--max-train-faces", type=int, default=None, help="cap each training dataset (short tries)")
    p.add_argument("--eval-faces", type=int, default=None, help="cap each evaluation set (short tries)")
    p.add_argument("--calib-faces", type=int, default=None)
    p.add_argument("--reuse-qat", action="store_true",
                   help="reuse QAT runs already finished in --out (re-export and re-measure only)")
    p.add_argument("--out", default=None, help="work folder (default: a temp folder); results.json is written there")
    return p.parse_args()


def overrides(args: argparse.Namespace, train_recipe) -> list[str]:
    sets = [f"data.root={args.data_root}", "threads=1", "device=cpu"]
    if args.qat_epochs is not None:
        sets.append(f"finetune.max_epochs={args.qat_epochs}")
    if args.qat_minutes is not None:
        sets.append(f"finetune.time_budget_min={args.qat_minutes}")
    if args.calib_faces is not None:
        sets.append(f"calibration.faces={args.calib_faces}")
    return sets


def main() -> int:
    import torch

    from edgekp.compress.lifecycle import compress, finetune_recipe, parent_train_recipe
    from edgekp.compress.qat import QatCompressor, calibration_images, load_qat_model
    from edgekp.config.loader import load_recipe
    from edgekp.artifacts import RunDir
    from edgekp.config.qat import QatRecipe
    from edgekp.bench.latency import LatencySettings, measure
    from edgekp.data.crops import preload_crops
    from edgekp.data.readers import read_dataset
    from edgekp.export.base import ExportSpec, get_target
    from edgekp.export.pipeline import artifact_size
    from edgekp.host import host_info
    from edgekp.models.io import load_model_from_run
    from edgekp.train.data import build_training_data
    from edgekp.train.evaluate import score

    args = parse()
    torch.set_num_threads(1)
    work = Path(args.out or tempfile.mkdtemp(prefix="qat_vs_ptq_"))
    work.mkdir(parents=True, exist_ok=True)
    parent = RunDir.open(args.from_run)
    model, _ = load_model_from_run(parent.path)
    size = int(model.config.input_size)
    base_recipe = load_recipe("recipes/qat/openvino_int8.yaml", overrides(args, None), expect=QatRecipe)
    train_recipe = finetune_recipe(parent_train_recipe(parent), base_recipe)
    if args.max_train_faces:
        train_recipe.data.train[:] = [s.model_copy(update={"max_faces": args.max_train_faces}) for s in train_recipe.data.train]
    data = build_training_data(train_recipe)
    ytf = read_dataset(Path(args.data_root) / "ytf/test", format="pts", scheme=data.scheme).records
    ytf = preload_crops(list(ytf)[: args.eval_faces or None], size=size, margin=train_recipe.data.crop.margin)
    n = args.eval_faces or len(data.val)
    sets = {"300w_val": (data.val.images[:n], data.val.points[:n]), "ytf_test": (ytf.images, ytf.points.astype(np.float32))}
    calib = calibration_images(base_recipe, data, size, None)
    x1 = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)

    def evaluate(runner) -> dict:
        row = {}
        for name, (images, points) in sets.items():
            x = np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0
            pred = np.concatenate([runner(x[i:i + 32]) for i in range(0, len(x), 32)])
            row[name] = score(pred, points, data.scheme)["nme"]
        row["latency_ms"] = measure(lambda: runner(x1), LatencySettings(min_runs=100, min_seconds=3))["p50_ms"]
        return row

    rows = []
    for t in [t for t in args.targets.split(",") if t]:
        target = get_target(t)
        out = work / t
        plans = [("fp32", lambda o: target.convert(model, ExportSpec(size, 68, "fp32", target.capabilities.routes[0].name), None, o))]
        if t == "onnx":
            from edgekp.compress import qat_nncf

            def ptq_onnx(o: Path) -> Path:
                import copy

                recipe = load_recipe("recipes/qat/onnx_int8.yaml", overrides(args, None), expect=QatRecipe)
                from edgekp.compress.qat import resolve_ignored

                q = qat_nncf.prepare(copy.deepcopy(model), calib, recipe, resolve_ignored(model, recipe.ignored_scopes))
                return target.convert_qat(q, ExportSpec(size, 68, "int8", "qat-nncf"), o)  # the onnx target's NNCF Q/DQ route
            plans.append(("ptq_int8", ptq_onnx))
        else:
            spec = ExportSpec(size, 68, "int8", target.capabilities.routes[0].name, options={"int8_mode": "static"})
            plans.append(("ptq_int8", lambda o, s=spec: target.convert(model, s, calib, o)))

        def qat_run(o: Path, t: str = t) -> Path:
            recipe_path = {"openvino": "openvino_int8", "onnx": "onnx_int8", "tflite": "tflite_int8"}[t]
            recipe = load_recipe(f"recipes/qat/{recipe_path}.yaml", overrides(args, None), expect=QatRecipe)
            run_dir = o / "run"
            finished = (run_dir / "manifest.json").is_file() and json.loads((run_dir / "manifest.json").read_text()).get("status") == "ok"
            if not (args.reuse_qat and finished):
                if run_dir.exists():  # a previous try of this benchmark; QAT refuses to overwrite a run
                    import shutil

                    shutil.rmtree(run_dir)
                summary = compress(QatCompressor(recipe), recipe, parent.path, run_dir, data=data)
                print(f"  qat {t}: val NME {summary['val_nme_before_finetune']:.4f} after quantization -> "
                      f"{summary['best_val_nme']:.4f} after {summary['epochs']} epochs", file=sys.stderr)
            qmodel, _, info = load_qat_model(run_dir)
            route = target.qat_route(info["quantizer"], "int8")
            return target.convert_qat(qmodel, ExportSpec(size, 68, "int8", route.name), o)
        plans.append(("qat_int8", qat_run))
        for precision, build in plans:
            o = out / precision
            o.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            try:
                artifact = build(o)
                row = {"target": t, "precision": precision, "status": "ok", "size_kb": round(artifact_size(artifact) / 1024, 1),
                       **evaluate(target.load_runner(artifact, threads=1)), "seconds": round(time.perf_counter() - t0, 1)}
            except Exception as exc:  # noqa: BLE001 - one failed row must not hide the others
                row = {"target": t, "precision": precision, "status": f"failed: {type(exc).__name__}: {str(exc)[:160]}"}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    host = host_info(threads=1)
    (work / "results.json").write_text(json.dumps({"host": host, "rows": rows, "args": vars(args)}, indent=2, default=str))
    print(f"host: {host['cpu']}; ISA: {' '.join(host['isa'])}; VNNI: {'yes' if host['has_vnni'] else 'NO (int8 is not expected to be faster than fp32 here)'}")
    print("NME: inter-ocular, %; d = relative change against the same target's fp32 export; latency: batch 1, 1 thread, median")
    print(f"{'target':9} {'precision':9} {'300W val':>9} {'d 300W':>7} {'ytf test':>9} {'d ytf':>7} {'size KB':>8} {'ms':>7}  status")
    fp32 = {r["target"]: r for r in rows if r["precision"] == "fp32" and r["status"] == "ok"}
    for r in rows:
        if r["status"] != "ok":
            print(f"{r['target']:9} {r['precision']:9} {'':>9} {'':>7} {'':>9} {'':>7} {'':>8} {'':>7}  {r['status']}")
            continue
        ref = fp32.get(r["target"])
        def rel(key: str) -> str:
            return f"{100 * (r[key] / ref[key] - 1):+.1f}%" if ref else "n/a"

        print(f"{r['target']:9} {r['precision']:9} {100 * r['300w_val']:9.2f} {rel('300w_val'):>7} {100 * r['ytf_test']:9.2f} "
              f"{rel('ytf_test'):>7} {r['size_kb']:8.0f} {r['latency_ms']:7.2f}  ok")
    print(f"results: {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

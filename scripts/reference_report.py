"""Build the committed reference report (reports/reference/) from finished runs on real faces.

    python scripts/reference_report.py --data-root ../shared/data \
        --train runs/kp_hvit_s_300w --prune runs/prune_sweep/taylor_50 \
        --qat openvino=runs/qat/openvino --qat onnx=runs/qat/onnx --qat tflite=runs/qat/tflite --qat coreml=runs/qat/coreml

Every step is an ordinary edgekp command, printed before it runs, so the report can be rebuilt by
hand: export each run to every target it supports (real-face calibration and parity), bench each
run on the 300W validation photos its training held out and on ytf/test (1 thread; peers on the
shipped run), then one comparison report per face set and an index page. Exports and bench
results already present are reused (edgekp's own cache), so a rerun only does what changed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

TRAIN_EXPORTS = [("onnx", "fp32", None), ("tflite", "fp32", None), ("tflite", "int8", None), ("tflite", "fp32", "tf"),
                 ("openvino", "fp32", None), ("openvino", "int8", None), ("coreml", "fp16", None), ("coreml", "int8", None)]
PRUNE_EXPORTS = [("onnx", "fp32", None), ("tflite", "fp32", None), ("tflite", "int8", None), ("openvino", "fp32", None),
                 ("openvino", "int8", None)]
FACE_SETS = {
    "300w_val": (["300w/helen_train", "300w/afw"], True, "300W validation photos held out of training (HELEN train + AFW)"),
    "ytf_test": (["ytf/test"], False, "YouTube-Faces test clips (770 faces)"),
}


def edgekp(*args: str) -> None:
    cmd = [sys.executable, "-m", "edgekp", *args]
    print("$ edgekp " + " ".join(shlex.quote(a) for a in args), flush=True)
    done = subprocess.run(cmd, check=False)
    if done.returncode not in (0, 1):  # 1: --strict breaches or a failed export row, already reported
        raise SystemExit(f"step failed (exit {done.returncode}): edgekp {' '.join(args)}")


def export_dir(run: Path, target: str, precision: str, route: str | None) -> Path:
    return run / "exports" / (f"{target}-{precision}" + (f"-{route}" if route else ""))


def _finished(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    return manifest.is_file() and json.loads(manifest.read_text()).get("status") == "ok"


def exported(run: Path, target: str, precision: str, route: str | None) -> bool:
    if _finished(export_dir(run, target, precision, route)):
        return True
    # A QAT run's export folder is named after its conversion route (e.g. openvino-int8-qat-nncf).
    return route is None and any(_finished(d) for d in (run / "exports").glob(f"{target}-{precision}-qat-*"))


def export_all(run: Path, plan: list[tuple[str, str, str | None]], data_root: str) -> None:
    for target, precision, route in plan:
        if exported(run, target, precision, route):
            continue
        args = ["export", "--from", str(run), "--target", target, "--precision", precision,
                "--calib", "calibration/300w_train_128.yaml", "--data-root", data_root]
        edgekp(*args, *(["--route", route] if route else []))


def headline(index: list[tuple[str, str, dict]], train_label: str) -> list[str]:
    """Per face set: the shipped model's fp32 NME, its TFLite fp32 latency, each peer's, and the ratio."""
    out = ["| faces | model | NME % (68 points) | NME % (6 eye/mouth corners) | host p50 ms (1 thread) | edgekp TFLite fp32 / this |",
           "|---|---|---|---|---|---|"]

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.2f}"

    for name, _, summary in index:
        rows = summary["rows"]
        ratios = {r["peer"].split()[0]: r["ratio"] for r in summary.get("peer_latency_ratios", []) if r["run"] == train_label}
        mine = [r for r in rows if r["run"] == train_label and (r["target"], r["precision"], r["route"]) == ("tflite", "fp32", "litert")]
        for r in mine + [r for r in rows if r["variant"] == "peer" and r["status"] == "ok"]:
            peer = r["variant"] == "peer"
            who = f"{r['target']} (peer)" if peer else f"edgekp {train_label} (TFLite fp32)"
            ratio = f"{ratios[r['target']]:.2f}" if peer and r["target"] in ratios else ("1.00" if not peer else "-")
            full = r["points_scored"] == "all"
            corners = r["nme_corners"] if full else r["nme"]
            p50 = "-" if r["p50_ms"] is None else f"{r['p50_ms']:.2f}"
            out.append(f"| {name} | {who} | {pct(r['nme']) if full else '-'} | {pct(corners)} | {p50} | {ratio} |")
    out += ["", "MediaPipe predicts a 468-point mesh with no 68-point counterpart for most points: it is scored on the six eye "
            "and mouth corners, so compare it in the corners column, where every row is scored on the same six points. dlib's predictor was trained on 300-W images, which include the 300W "
            "validation photos. Latencies were measured on a shared 2-core host; the ratio compares rows of the same bench."]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", required=True)
    p.add_argument("--train", required=True, help="the shipped model's training run")
    p.add_argument("--prune", action="append", default=[], help="prune runs (repeatable)")
    p.add_argument("--qat", action="append", default=[], metavar="TARGET=RUN", help="QAT runs with the target they export to")
    p.add_argument("--out", default="reports/reference")
    p.add_argument("--threads", default="1")
    args = p.parse_args()
    root = Path(args.data_root)
    train = Path(args.train)
    export_all(train, TRAIN_EXPORTS, args.data_root)
    for run in args.prune:
        export_all(Path(run), PRUNE_EXPORTS, args.data_root)
    qat_runs = []
    for item in args.qat:
        target, _, run = item.partition("=")
        export_all(Path(run), [(target, "int8", None)], args.data_root)
        qat_runs.append(run)
    runs = [str(train), *args.prune, *qat_runs]
    out = Path(args.out)
    index = []
    for name, (paths, holdout, what) in FACE_SETS.items():
        for run in runs:
            bench = ["bench", "--from", run, "--threads", args.threads, "-q"]
            for rel in paths:
                bench += ["--data", str(root / rel)]
            bench += ["--holdout"] if holdout else []
            bench += ["--peers"] if run == str(train) else []
            edgekp(*bench)
        edgekp("report", *runs, "--out", str(out / name), "--title", f"edgekp reference: {what}", "--no-samples")
        summary = json.loads((out / name / "report.json").read_text())
        index.append((name, what, summary))
    lines = ["# edgekp reference reports", "",
             "Built by `python scripts/reference_report.py` (see its docstring for the exact arguments); one report per face set.", ""]
    for name, what, _ in index:
        lines.append(f"- [{what}]({name}/report.md) ([HTML]({name}/report.html), [JSON]({name}/report.json))")
    lines += ["", "## Headline figures", "", *headline(index, train.name)]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"index: {out / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build the committed reference report (reports/reference/) from finished runs on real faces
(the command behind scripts/reference_report.py, run from the checkout root).

    python scripts/reference_report.py --data-root ../shared/data \
        --train runs/kp_hvit_s_merlrav --prune runs/prune_sweep/taylor_50 --variant runs/kp_hvit_t_q_merlrav \
        --qat openvino=runs/qat/openvino --qat onnx=runs/qat/onnx --qat tflite=runs/qat/tflite \\
        --qat coreml=runs/qat/coreml

Every step is an ordinary edgekp command, printed before it runs, so the report can be rebuilt by
hand: export each run to every target it supports (real-face calibration and parity), bench each
run on three face sets (1 thread; dlib and MediaPipe in the same bench as the shipped run): the
300W validation photos its training held out, ytf/test, and MERL-RAV test (profiles: its headline
columns are box-normalized, overall and per |yaw| bin); profile the shipped run's TFLite, OpenVINO
and ONNX exports per operator (`edgekp bench --profile`, 1 thread: every report of that run shows
it); then one comparison report per face set and an index page. Exports and bench results already present are reused
(edgekp's own cache), so
a rerun only does what changed. A partial rebuild: --sets merlrav_test --skip-export.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

from edgekp.bench.profile import PROFILE_FILE
from edgekp.config.export import ExportRecipe
from edgekp.data.pose import YAW_BIN_NAMES as BINS
from edgekp.export.pipeline import target_options
from edgekp.report.tables import run_labels

TRAIN_EXPORTS = [
    ("onnx", "fp32", None),
    ("tflite", "fp32", None),
    ("tflite", "int8", None),
    ("tflite", "fp32", "tf"),
    ("openvino", "fp32", None),
    ("openvino", "int8", None),
    ("coreml", "fp16", None),
    ("coreml", "int8", None),
]
# Pruned runs and trained runs of other registered variants (--variant, e.g. the small quantization-friendly
# kp_hvit_t_q) get the deployable subset.
PRUNE_EXPORTS = [
    ("onnx", "fp32", None),
    ("tflite", "fp32", None),
    ("tflite", "int8", None),
    ("openvino", "fp32", None),
    ("openvino", "int8", None),
]
FACE_SETS = {
    "300w_val": (
        ["300w/helen_train", "300w/afw"],
        True,
        "300W validation photos held out of training (HELEN train + AFW)",
    ),
    "ytf_test": (["ytf/test"], False, "YouTube-Faces test clips (770 faces)"),
    "merlrav_test": (
        ["merlrav/test"],
        False,
        "MERL-RAV test: 1,961 AFLW faces with visibility, about 43 % at |yaw| > 30",
    ),
}
PROFILED = ("onnx", "tflite", "openvino")  # the export targets `edgekp bench --profile` reads


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


# Options added to change the old behaviour, with what their absence from an export's manifest meant:
# exports before openvino.batch had a dynamic batch, and before openvino.float_modules an int8 head.
ABSENT_MEANT: dict[str, dict[str, object]] = {"openvino": {"batch": None, "float_modules": []}}


def _current_options(folder: Path, target: str) -> bool:
    """The export in ``folder`` was made with this release's default options for its target."""
    recorded = json.loads((folder / "manifest.json").read_text()).get("recipe", {}).get(target)
    defaults = target_options(ExportRecipe(), target)
    # An option added since the export was made is absent from its manifest: it ran as the default,
    # unless the option was added to change what exports did before (ABSENT_MEANT).
    return isinstance(recorded, dict) and {**defaults, **ABSENT_MEANT.get(target, {}), **recorded} == defaults


def exported(run: Path, target: str, precision: str, route: str | None) -> bool:
    """A finished export made with this release's default options for its target (an export from
    before a default changed, e.g. tflite.float_modules or openvino.batch, is redone)."""
    folder = export_dir(run, target, precision, route)
    if _finished(folder):
        return _current_options(folder, target)
    # A QAT run's export folder is named after its conversion route (e.g. openvino-int8-qat-nncf).
    return route is None and any(
        _finished(d) and _current_options(d, target) for d in (run / "exports").glob(f"{target}-{precision}-qat-*")
    )


# Pose-balanced real faces (half |yaw| > 30) from the shipped model's training sets, its held-out photos excluded.
# Measured: OpenVINO PTQ int8 on MERL-RAV test 3.64 % box with calibration/300w_train_128.yaml (near-frontal
# photos), 3.02 % with this set (fp32 3.00 %); at |yaw| 60-90 5.72 -> 3.43 %.
CALIBRATION = "calibration/merlrav_300w_train_256.yaml"


def export_all(run: Path, plan: list[tuple[str, str, str | None]], data_root: str, calib: str = CALIBRATION) -> None:
    for target, precision, route in plan:
        if exported(run, target, precision, route):
            continue
        args = [
            "export",
            "--from",
            str(run),
            "--target",
            target,
            "--precision",
            precision,
            "--calib",
            calib,
            "--data-root",
            data_root,
        ]
        edgekp(*args, *(["--route", route] if route else []))


def profile(run: Path) -> bool:
    """The run's per-operator profile (bench/profile.json), reused while it is newer than every export it
    covers and records its host. False when the run has no export to profile."""
    exports = [d for d in sorted((run / "exports").glob("*")) if d.name.split("-")[0] in PROFILED and _finished(d)]
    if not exports:
        print(f"no per-operator profile: {run} has no finished TFLite, OpenVINO or ONNX export", flush=True)
        return False
    out = run / "bench" / PROFILE_FILE
    newest = max((d / "manifest.json").stat().st_mtime for d in exports)
    if not (out.is_file() and out.stat().st_mtime >= newest and all("host" in e for e in json.loads(out.read_text()))):
        edgekp("bench", "--profile", "--from", str(run), "--threads", "1", "-q")
    return out.is_file()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def headline_row(r: dict, who: str, ratio: str) -> str:
    """One row: inter-ocular and box NME over the 68 points (blank for a peer scored on other points),
    the six corners in both normalizations (the one column every model shares), box NME per |yaw| bin."""
    full = r["points_scored"] == "all"
    corners_io = r["nme_corners"] if full else r["nme"]
    corners_box = r.get("nme_corners_box") if full or r.get("nme_corners_box") is not None else r.get("nme_box")
    # A peer's bins cover the points it is scored on (the corners), marked so they are not read as 68-point figures.
    bins = [_pct(r.get(f"nme_box_{b}")) + ("" if full or r.get(f"nme_box_{b}") is None else " (c)") for b in BINS]
    p50 = "-" if r["p50_ms"] is None else f"{r['p50_ms']:.2f}"
    return (
        f"| {who} | {_pct(r['nme']) if full else '-'} | {_pct(r.get('nme_box')) if full else '-'} | "
        f"{_pct(corners_io)} | "
        f"{_pct(corners_box)} | {' | '.join(bins)} | {p50} | {ratio} |"
    )


def _own_row(rows: list[dict], label: str, int8: bool = False) -> list[dict]:
    """A run's TFLite fp32 row (and with ``int8`` its TFLite int8 row, for the variants deployed in int8); without a
    TFLite export (a partial rebuild, a host without LiteRT) its PyTorch row, named as such."""
    wanted = ("fp32", "int8") if int8 else ("fp32",)
    mine = [
        r
        for p in wanted
        for r in rows
        if r["run"] == label
        and r["status"] == "ok"
        and (r["target"], r["precision"], r["route"]) == ("tflite", p, "litert")
    ]
    return mine or [r for r in rows if r["run"] == label and r["target"] == "pytorch" and r["status"] == "ok"]


def headline(index: list[tuple[str, str, dict]], train_label: str, variant_labels: tuple[str, ...] = ()) -> list[str]:
    """Per face set: the shipped model's TFLite fp32 row, each variant's TFLite fp32 and int8 rows and each peer's, in
    accuracy and latency, with each peer's latency over the shipped model's (a variant's own ratios are in its
    report)."""
    out = []
    for _name, what, summary in index:
        rows = summary["rows"]
        ratios = {
            r["peer"].split()[0]: r["ratio"] for r in summary.get("peer_latency_ratios", []) if r["run"] == train_label
        }
        mine = [
            *_own_row(rows, train_label),
            *(row for label in variant_labels for row in _own_row(rows, label, int8=True)),
        ]
        out += [
            f"### {what}",
            "",
            (
                "| model | NME % inter-ocular (68) | NME % box (68) | corners % inter-ocular | corners % box | "
                "box % \\|yaw\\| 0-30 | 30-60 | 60-90 | host p50 ms (1 thread) | edgekp TFLite fp32 / this |"
            ),
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in mine + [r for r in rows if r["variant"] == "peer" and r["status"] == "ok"]:
            peer = r["variant"] == "peer"
            who = (
                f"{r['target']} (peer)"
                if peer
                else f"edgekp {r['run']} ({'TFLite' if r['target'] == 'tflite' else 'PyTorch'} {r['precision']})"
            )
            ratio = (
                f"{ratios[r['target']]:.2f}"
                if peer and r["target"] in ratios
                else ("1.00" if r["run"] == train_label else "-")
            )
            out.append(headline_row(r, who, ratio))
        out.append("")
    out += [
        (
            "MediaPipe predicts a 468-point mesh with no 68-point counterpart for most points: it is scored on the "
            "six eye "
            "and mouth corners, so compare it in the corners columns, where every row is scored on the same six "
            "points; its "
            "|yaw| bins (c) are over those corners too. Box NME divides by sqrt(w * h) of the labelled points' box "
            "and scores "
            "every face; inter-ocular leaves out faces whose outer eye corners are not both labelled (profiles), so on "
            "MERL-RAV the box columns are the ones to read. dlib's predictor was trained on 300-W images, which "
            "include the 300W "
            "validation photos. Latencies were measured on a shared 2-core host; the ratio compares rows of the same "
            "bench."
        )
    ]
    return out


def bench_and_report(
    runs: list[str],
    train: str,
    sets: list[str],
    root: Path,
    out: Path,
    threads: str,
    peers: bool = True,
    max_faces: int | None = None,
) -> list[tuple[str, str, dict]]:
    """Bench every run on each face set (peers beside the shipped run), then one report per set."""
    index = []
    for name in sets:
        paths, holdout, what = FACE_SETS[name]
        for run in runs:
            bench = ["bench", "--from", run, "--threads", threads, "-q"]
            for rel in paths:
                bench += ["--data", str(root / rel)]
            bench += ["--holdout"] if holdout else []
            bench += ["--peers"] if peers and run == train else []
            bench += ["--max-faces", str(max_faces)] if max_faces else []
            edgekp(*bench)
        edgekp("report", *runs, "--out", str(out / name), "--title", f"edgekp reference: {what}", "--no-samples")
        index.append((name, what, json.loads((out / name / "report.json").read_text())))
    return index


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", required=True)
    p.add_argument("--train", required=True, help="the shipped model's training run")
    p.add_argument("--prune", action="append", default=[], help="prune runs (repeatable)")
    p.add_argument(
        "--qat", action="append", default=[], metavar="TARGET=RUN", help="QAT runs with the target they export to"
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="RUN",
        help="train runs of other registered variants (repeatable): exported like prune runs, in the headline",
    )
    p.add_argument("--out", default="reports/reference")
    p.add_argument("--threads", default="1")
    p.add_argument("--calib", default=CALIBRATION, help="calibration set of every int8 export (default: %(default)s)")
    p.add_argument("--sets", default=",".join(FACE_SETS), help="face sets to rebuild (default: %(default)s)")
    p.add_argument("--skip-export", action="store_true", help="bench the exports already there; export nothing")
    p.add_argument(
        "--no-peers", action="store_true", help="leave dlib and MediaPipe out (they are downloaded with pip)"
    )
    p.add_argument(
        "--max-faces", type=int, help="score at most this many faces per set (a smoke run, not the reference)"
    )
    args = p.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in FACE_SETS]
    if unknown:
        print(
            f"edgekp: error: unknown face set(s) {', '.join(unknown)}; choose from {', '.join(FACE_SETS)}",
            file=sys.stderr,
        )
        return 2
    root = Path(args.data_root)
    train = Path(args.train)
    qat_runs = []
    for item in args.qat:
        target, _, run = item.partition("=")
        qat_runs.append((target, run))
    if not args.skip_export:
        export_all(train, TRAIN_EXPORTS, args.data_root, args.calib)
        for run in [*args.prune, *args.variant]:
            export_all(Path(run), PRUNE_EXPORTS, args.data_root, args.calib)
        for target, run in qat_runs:
            export_all(Path(run), [(target, "int8", None)], args.data_root, args.calib)
    profiled = profile(train)
    runs = [str(train), *args.variant, *args.prune, *(run for _, run in qat_runs)]
    out = Path(args.out)
    index = bench_and_report(
        runs, str(train), sets, root, out, args.threads, peers=not args.no_peers, max_faces=args.max_faces
    )
    lines = [
        "# edgekp reference reports",
        "",
        "Built by `python scripts/reference_report.py` (see its docstring for the exact arguments); one report per "
        "face set.",
        "",
    ]
    for name, what, _ in index:
        lines.append(f"- [{what}]({name}/report.md) ([HTML]({name}/report.html), [JSON]({name}/report.json))")
    if profiled and index:
        first = index[0][0]
        lines += [
            "",
            (
                f"Where the time goes in {train.name} (per-operator profile, 1 thread, fp32 beside int8 per runtime): "
                "the section of that name in each report, e.g. "
                f"[{first}]({first}/report.md#where-the-time-goes-per-operator-profile-1-thread)."
            ),
        ]
    # The report names runs by folder, parent/folder where folder names clash (edgekp.report.tables.run_labels).
    labels = dict(zip(runs, run_labels([Path(r) for r in runs]), strict=True))
    lines += [
        "",
        "## Headline figures",
        "",
        *headline(index, labels[str(train)], tuple(labels[v] for v in args.variant)),
    ]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"index: {out / 'README.md'}")
    return 0

"""edgekp eval: NME, FR and AUC of a model on a dataset over labelled points, overall, by pose and
by |yaw| bin (0-30, 30-60, 60-90), under the chosen normalization and box-normalized."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_json, print_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="M",
        help="run dir, .pt checkpoint, exported file, or shipped:t|s|b (default: the shipped model, s)",
    )
    parser.add_argument("--data", metavar="PATH", required=True, help="dataset folder or annotation file")
    parser.add_argument("--format", default="auto", help="dataset format (default: detect from the path)")
    parser.add_argument(
        "--norm", default="inter_ocular", choices=("inter_ocular", "inter_pupil", "box"), help="NME normalization"
    )
    parser.add_argument(
        "--yaw-threshold", type=float, default=30.0, help="large pose when |yaw| exceeds this (degrees)"
    )
    parser.add_argument("--threads", type=int, default=None, help="runtime threads")
    parser.add_argument("--skip-bad", action="store_true", help="log and skip unreadable faces instead of failing")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="score only the faces of DATA that the model's training run held out for validation",
    )
    parser.add_argument(
        "--flip",
        action="store_true",
        help="test-time flip averaging: also predict each crop's mirror image and average (twice the cost)",
    )
    add_json(parser)


def _pct(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{100 * value:.2f}%"


def format_eval(result: dict, data: str, model: str) -> str:
    norm = result["norm"]
    unscored = f", {result['n_unscored']} without both outer eye corners left out" if result.get("n_unscored") else ""
    auc = "n/a" if result["auc"] is None else f"{result['auc']:.4f}"
    lines = [
        f"{result['n']} faces ({result['subset']}{unscored}) from {data} with {model}",
        f"NME ({norm}) {_pct(result['nme'])}  FR@0.10 {_pct(result['fr'])}  AUC@0.10 {auc}",
        f"large pose ({result['large_pose_rule']}, n={result.get('n_large', 0)}): NME ({norm}) "
        f"{_pct(result.get('nme_large'))}",
        f"small pose (n={result.get('n_small', 0)}): NME ({norm}) {_pct(result.get('nme_small'))}",
    ]
    if norm != "box":
        lines.append(
            f"NME (box, all {result['n'] + result.get('n_unscored', 0)} faces) {_pct(result['nme_box'])}  "
            f"FR@0.10 {_pct(result['fr_box'])}"
        )
    lines.append(f"by |yaw| (pose from {result['pose_source']}):")
    for name in result["by_yaw"][norm]:
        cells = [f"NME ({n}) {_pct(bins[name]['nme'])} (n={bins[name]['n']})" for n, bins in result["by_yaw"].items()]
        lines.append(f"  {name:>5} deg: " + "  ".join(cells))
    skipped = result.get("skipped") or []
    if skipped:  # --skip-bad: say what was left out, not only in the log
        lines.append(
            f"skipped {len(skipped)} unreadable file(s) (--skip-bad): "
            + "; ".join(f"{f} ({why})" for f, why in skipped[:5])
            + (" ..." if len(skipped) > 5 else "")
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from edgekp.bench.accuracy import evaluate_dataset
    from edgekp.bench.holdout import holdout_sources
    from edgekp.bench.predictor import load_predictor

    only = holdout_sources(args.model, args.data) if args.holdout else None
    predictor = load_predictor(args.model, threads=args.threads)
    if args.flip:
        from edgekp.bench.flip_average import flip_averaged

        predictor = flip_averaged(predictor)
    result = evaluate_dataset(
        predictor,
        args.data,
        format=args.format,
        skip_bad=args.skip_bad,
        yaw_threshold=args.yaw_threshold,
        norm=args.norm,
        only_sources=only,
    )
    result["subset"] = "held-out validation faces" if only is not None else "all faces"
    result["flip_averaged"] = bool(args.flip)
    print_result(args, result, format_eval(result, args.data, predictor.source))
    return 0

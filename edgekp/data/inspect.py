"""Dataset statistics for ``edgekp data inspect``: faces, scheme, image sizes, poses, problems.

``inspect_dataset`` returns a JSON-ready dict (keys documented in ``edgekp.commands.data_inspect``);
``format_report`` renders it as text with histograms. Bad faces never stop an inspection: every
problem is collected and listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekp.data.images import check_image
from edgekp.data.readers import Dataset, read_dataset
from edgekp.errors import DataError
from edgekp.logs import progress

HIST_EDGES: dict[str, list[float]] = {
    "yaw": [float(v) for v in range(-90, 91, 15)],
    "pitch": [float(v) for v in range(-60, 61, 15)],
    "roll": [float(v) for v in range(-60, 61, 15)],
}
NOT_ESTIMATED = "pose: not estimated for this scheme"


def default_yaw_threshold() -> float:
    """The balancer's default large-pose yaw threshold (one source of truth: the recipe schema)."""
    from edgekp.config.data import BalanceSpec

    value = BalanceSpec.model_fields["yaw_threshold"].default
    return float(value) if value is not None else 30.0


def _histogram(values: np.ndarray, edges: list[float]) -> dict[str, Any]:
    # Values beyond the outer edges land in the end bins, so the counts always add up to n.
    clipped = np.clip(values, edges[0], edges[-1])
    counts, _ = np.histogram(clipped, bins=edges)
    return {"edges": edges, "counts": counts.astype(int).tolist()}


def pose_stats(dataset: Dataset, yaw_threshold: float) -> dict[str, Any]:
    """Labelled poses where present (angle by angle), else estimated from the labelled 68 landmarks."""
    from edgekp.data.pose import YAW_BINS, pose_source, record_poses_with_source

    angles, from_label = record_poses_with_source(dataset.records)
    known = np.isfinite(angles[:, 0])
    n_labels = int(from_label[:, 0].sum())
    if not known.any():
        return {"source": "none", "note": NOT_ESTIMATED, "labelled": 0, "estimated": 0}
    yaw = angles[known, 0].astype(np.float64)
    large = int((np.abs(yaw) > yaw_threshold).sum())
    out: dict[str, Any] = {
        "source": pose_source(from_label[known, 0]),  # of yaw, which the balance and the yaw bins use
        "labelled": n_labels,
        "estimated": int(known.sum()) - n_labels,
        "unknown": int((~known).sum()),
        "yaw_threshold": yaw_threshold,
        "large": large,
        "small": int(known.sum()) - large,
        "yaw_bins": {name: int(((np.abs(yaw) >= lo) & (np.abs(yaw) < hi)).sum()) for name, lo, hi in YAW_BINS},
    }
    if out["unknown"]:
        out["note"] = f"{out['unknown']} face(s) without labels: {NOT_ESTIMATED}"
    for k, name in enumerate(("yaw", "pitch", "roll")):
        ok = np.isfinite(angles[:, k])
        col = angles[ok, k].astype(np.float64)
        out[name] = {
            "source": pose_source(from_label[ok, k]),
            "min": float(col.min()),
            "max": float(col.max()),
            "mean": float(col.mean()),
            "abs_mean": float(np.abs(col).mean()),
            "histogram": _histogram(col, HIST_EDGES[name]),
        }
    return out


def visibility_stats(dataset: Dataset) -> dict[str, Any]:
    """Points by visibility (visible / occluded with a location / no location) and faces affected."""
    from edgekp.data.records import OCCLUDED, UNLABELLED, VISIBLE, visibility_of

    vis = np.stack([visibility_of(r) for r in dataset.records])
    labelled = (vis > UNLABELLED).sum(axis=1)
    return {
        "carried": any(r.visibility is not None for r in dataset.records),
        "points": {
            "visible": int((vis == VISIBLE).sum()),
            "occluded": int((vis == OCCLUDED).sum()),
            "self_occluded": int((vis == UNLABELLED).sum()),
        },
        "labelled_points": int((vis > UNLABELLED).sum()),
        "faces_with_self_occlusion": int((vis == UNLABELLED).any(axis=1).sum()),
        "faces_with_occlusion": int((vis == OCCLUDED).any(axis=1).sum()),
        "labelled_per_face": {"min": int(labelled.min()), "max": int(labelled.max()), "mean": float(labelled.mean())},
    }


def image_stats(dataset: Dataset, decode: bool = True) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Sizes of the distinct images, and the missing/unreadable ones as (file, reason)."""
    paths = sorted({Path(r.image) for r in dataset.records if r.image is not None and r.array is None})
    sizes, problems = [], []
    for path in progress(paths, "checking images", total=len(paths)):
        try:
            if decode:
                sizes.append(check_image(path))
            else:
                from PIL import Image

                with Image.open(path) as image:
                    sizes.append(image.size)
        except DataError as exc:
            problems.append((str(path), str(exc).removeprefix(f"{path}: ")))
        except OSError as exc:
            problems.append((str(path), f"unreadable image ({exc})"))
    stats: dict[str, Any] = {"distinct": len(paths), "readable": len(sizes), "bad": len(problems), "decoded": decode}
    if sizes:
        arr = np.array(sizes)
        stats["width"] = {"min": int(arr[:, 0].min()), "max": int(arr[:, 0].max())}
        stats["height"] = {"min": int(arr[:, 1].min()), "max": int(arr[:, 1].max())}
    return stats, problems


def inspect_dataset(
    path: str | Path,
    *,
    format: str = "auto",
    scheme: str | None = None,
    decode: bool = True,
    yaw_threshold: float | None = None,
) -> dict[str, Any]:
    """Everything ``edgekp data inspect`` reports, as a JSON-ready dict."""
    dataset = read_dataset(path, format=format, scheme=scheme, skip_bad=True)
    images, image_problems = image_stats(dataset, decode=decode)
    threshold = default_yaw_threshold() if yaw_threshold is None else yaw_threshold
    problems = [{"file": f, "reason": r} for f, r in [*dataset.skipped, *image_problems]]
    return {
        "path": str(dataset.path),
        "format": dataset.format,
        "scheme": dataset.scheme.name,
        "num_points": dataset.scheme.num_points,
        "faces": len(dataset.records),
        "photos": len({r.photo for r in dataset.records}),
        "images": images,
        "visibility": visibility_stats(dataset),
        "pose": pose_stats(dataset, threshold),
        "problems": problems,
        "problem_count": len(problems),
        # Read, not refused: v = 0 points with coordinates (taken as unlabelled), faces left out for too few labelled
        # points.
        "notices": [{"file": f, "reason": r} for f, r in dataset.notices],
        "notice_count": len(dataset.notices),
    }


def _bars(hist: dict[str, Any], width: int = 40) -> list[str]:
    counts, edges = hist["counts"], hist["edges"]
    top = max(max(counts), 1)
    return [
        f"    [{lo:+4.0f}, {hi:+4.0f}) {n:6d} {'#' * round(width * n / top)}"
        for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
    ]


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{report['path']}: {report['faces']} faces ({report['photos']} photos), "
        f"{report['num_points']} points ({report['scheme']}), format {report['format']}",
    ]
    images = report["images"]
    if "width" in images:
        lines.append(
            f"images: {images['distinct']} distinct, width {images['width']['min']}-{images['width']['max']} px, "
            f"height {images['height']['min']}-{images['height']['max']} px, {images['bad']} bad"
        )
    else:
        lines.append(f"images: {images['distinct']} distinct, none readable")
    v = report["visibility"]
    p = v["points"]
    lines.append(
        f"visibility: {v['labelled_points']} labelled points ({p['visible']} visible, {p['occluded']} occluded), "
        f"{p['self_occluded']} self-occluded (no location); faces with self-occlusion "
        f"{v['faces_with_self_occlusion']}, "
        f"with occlusion {v['faces_with_occlusion']}; labelled per face "
        f"{v['labelled_per_face']['min']}-{v['labelled_per_face']['max']}"
        + ("" if v["carried"] else " (the format carries no visibility)")
    )
    pose = report["pose"]
    if pose["source"] == "none":
        lines.append(pose["note"])
    else:
        bins = ", ".join(f"{k} {n}" for k, n in pose["yaw_bins"].items())
        lines.append(
            f"pose (yaw from {pose['source']}: {pose['labelled']} labelled, {pose['estimated']} estimated): "
            f"large {pose['large']} / small {pose['small']} at |yaw| > {pose['yaw_threshold']:g} deg; |yaw| bins {bins}"
        )
        if pose.get("note"):
            lines.append(f"  {pose['note']}")
        for name in ("yaw", "pitch", "roll"):
            s = pose[name]
            lines.append(
                f"  {name} ({s['source']}): min {s['min']:+.1f}, max {s['max']:+.1f}, mean {s['mean']:+.1f}, "
                f"mean |.| {s['abs_mean']:.1f} deg"
            )
            lines.extend(_bars(s["histogram"]))
    if report["problems"]:
        lines.append(f"problems: {report['problem_count']}")
        lines.extend(f"  {p['file']}: {p['reason']}" for p in report["problems"][:50])
        if report["problem_count"] > 50:
            lines.append(f"  ... and {report['problem_count'] - 50} more (see --json)")
    else:
        lines.append("problems: none")
    if report["notices"]:
        lines.append(f"notices (read, not refused): {report['notice_count']}")
        lines.extend(f"  {n['file']}: {n['reason']}" for n in report["notices"][:20])
        if report["notice_count"] > 20:
            lines.append(f"  ... and {report['notice_count'] - 20} more (see --json)")
    return "\n".join(lines)

"""Face boxes in image pixels, and merging the overlapping boxes a detector returns for one face."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FaceBox:
    x: float
    y: float
    w: float
    h: float
    detector: str
    score: float | None = None

    def iou(self, other: FaceBox) -> float:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.x + self.w, other.x + other.w), min(self.y + self.h, other.y + other.h)
        inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box ``a`` (x0, y0, x1, y1) with each row of ``b``."""
    x0, y0 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x1, y1 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)

    def area(r: np.ndarray) -> np.ndarray:
        return np.clip(r[..., 2] - r[..., 0], 0, None) * np.clip(r[..., 3] - r[..., 1], 0, None)

    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def suppress_weighted(found: list[tuple[np.ndarray, float]], detector: str, iou: float = 0.3) -> list[FaceBox]:
    """Score-weighted merge of overlapping (x0, y0, x1, y1) boxes, best first; one box per face."""
    if not found:
        return []
    boxes = np.stack([b for b, _ in found]).astype(np.float64)
    scores = np.array([s for _, s in found], np.float64)
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    alive = np.ones(len(boxes), bool)
    out: list[FaceBox] = []
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        group = alive & (_iou(boxes[i], boxes) >= iou)
        group[i] = True
        weights = scores[group]
        merged = (boxes[group] * weights[:, None]).sum(0) / weights.sum()
        alive &= ~group
        x0, y0, x1, y1 = (float(v) for v in merged)
        out.append(FaceBox(x0, y0, x1 - x0, y1 - y0, detector, float(scores[i])))
    return out

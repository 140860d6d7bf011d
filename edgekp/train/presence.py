"""Train the face-presence head of a finished landmark model, with everything else frozen.

The backbone and the landmark head are not touched (their weights are copied, and the head reads
``forward_features`` under no_grad), so the landmarks stay bit-for-bit what they were; the report
checks that on the validation faces. Training runs on cached pooled features, so it takes seconds
once the crops are encoded. The threshold is the probability that best separates validation faces
from validation negatives (Youden's J: true-positive rate minus false-positive rate), chosen on a
set the head never trained on, and written into the model's config (``presence_threshold``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from edgekp.logs import get_logger
from edgekp.models.hvit import KeypointHVit
from edgekp.train.presence_data import PresenceCrops

log = get_logger(__name__)


@dataclass(frozen=True)
class PresenceResult:
    model: KeypointHVit
    threshold: float
    report: dict[str, Any]


def with_presence_head(base: KeypointHVit, hidden: int, seed: int) -> KeypointHVit:
    """A copy of ``base`` with an untrained presence head; every other weight copied exactly."""
    torch.manual_seed(seed)
    model = KeypointHVit(base.config.replace(presence_hidden=hidden, presence_threshold=None), variant=base.variant)
    # A base that already has a presence head (retraining the shipped one) gives up its old head.
    state = {k: v for k, v in base.state_dict().items() if not k.startswith("presence.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("presence.") for k in missing):
        raise RuntimeError(f"base weights do not fit (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model.eval()


@torch.no_grad()
def pooled_features(model: KeypointHVit, images: np.ndarray, batch: int = 128) -> torch.Tensor:
    out = []
    for start in range(0, len(images), batch):
        x = torch.from_numpy(images[start : start + batch]).permute(0, 3, 1, 2).float() / 255.0
        out.append(model.presence.pool(model.forward_features(x)))  # type: ignore[union-attr]
    return torch.cat(out)


def fit_head(model: KeypointHVit, features: torch.Tensor, labels: np.ndarray, epochs: int, seed: int) -> list[float]:
    head = model.presence
    assert head is not None
    y = torch.from_numpy(labels).float()[:, None]
    # Balance the classes in the loss: there are more negatives than faces per photo.
    pos_weight = torch.tensor([(len(y) - y.sum().item()) / max(1.0, y.sum().item())])
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    opt = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    head.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for start in range(0, len(y), 256):
            idx = order[start : start + 256]
            loss = loss_fn(head.classify(features[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        losses.append(total / len(y))
    head.eval()
    return losses


def youden_threshold(prob: np.ndarray, labels: np.ndarray, slack: float = 0.002) -> float:
    """The probability cut with the largest TPR - FPR (Youden's J).

    When the classes separate well, a wide band of cuts scores within ``slack`` of the best J; the
    cut is the middle of that band in logit space, so it sits as far as the data allow from both
    classes rather than against one of them (what a cut at an edge of the band would do)."""
    logits = np.linspace(-9.0, 9.0, 721)
    cuts = 1.0 / (1.0 + np.exp(-logits))
    pos, neg = prob[labels > 0.5], prob[labels < 0.5]
    j = np.array([(pos >= c).mean() - (neg >= c).mean() for c in cuts])
    band = logits[j >= j.max() - slack]
    return float(1.0 / (1.0 + np.exp(-np.median(band))))


def rates(prob: np.ndarray, crops: PresenceCrops, threshold: float) -> dict[str, Any]:
    kinds = np.asarray(crops.kinds)
    out: dict[str, Any] = {"faces_above": float((prob[kinds == "face"] >= threshold).mean())}
    for kind in sorted(set(crops.kinds) - {"face"}):
        out[f"{kind}_below"] = float((prob[kinds == kind] < threshold).mean())
    out["n"] = {k: int((kinds == k).sum()) for k in sorted(set(crops.kinds))}
    return out


@torch.no_grad()
def probabilities(model: KeypointHVit, features: torch.Tensor) -> np.ndarray:
    return torch.sigmoid(model.presence.classify(features)).numpy()[:, 0]  # type: ignore[union-attr]


@torch.no_grad()
def landmark_change(base: KeypointHVit, model: KeypointHVit, images: np.ndarray) -> float:
    """Largest |difference| of the normalized landmarks between base and head-carrying model."""
    x = torch.from_numpy(images[:256]).permute(0, 3, 1, 2).float() / 255.0
    lm, _ = model.forward_with_presence(x)
    return float((lm - base(x)).abs().max())


def train_presence(
    base: KeypointHVit, train: PresenceCrops, val: PresenceCrops, hidden: int = 32, epochs: int = 60, seed: int = 0
) -> PresenceResult:
    model = with_presence_head(base, hidden, seed)
    log.info("presence: encoding %d train and %d validation crops", len(train.labels), len(val.labels))
    f_train, f_val = pooled_features(model, train.images), pooled_features(model, val.images)
    losses = fit_head(model, f_train, train.labels, epochs, seed)
    p_val = probabilities(model, f_val)
    threshold = youden_threshold(p_val, val.labels)
    model.config = model.config.replace(presence_threshold=round(threshold, 4))
    p_train = probabilities(model, f_train)
    report = {
        "hidden": hidden,
        "epochs": epochs,
        "seed": seed,
        "final_loss": losses[-1],
        "threshold": round(threshold, 4),
        "threshold_rule": "Youden's J (TPR - FPR) on the validation crops",
        "validation": rates(p_val, val, threshold),
        "train": rates(p_train, train, threshold),
        "landmark_max_abs_change": landmark_change(base, model, val.images[val.labels > 0.5]),
    }
    return PresenceResult(model, threshold, report)

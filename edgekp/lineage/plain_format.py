"""The plain model checkpoint format, ``edgekp-model/1``: weights plus the config that rebuilds the network.

Format (a dict of plain containers and tensors, loadable with ``torch.load(weights_only=True)``)::

    {"format": "edgekp-model/1", "name": <variant>, "config": HvitConfig.to_dict(),
     "state_dict": {...}, "meta": {...}}

The network is rebuilt from ``config`` alone, so a model whose heads were pruned (fewer heads in
some module) loads without knowing which heads went. Train, prune and QAT runs write their best
model to ``<run>/model.pt``. A reader that takes any format (plain, QAT) goes through
edgekp.lineage.checkpoints (load_run_model, load_model_file), which dispatches here for this one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from edgekp.errors import ConfigError, LineageError
from edgekp.lineage.checkpoints import load_checkpoint, save_checkpoint
from edgekp.models.config import HvitConfig
from edgekp.models.hvit import KeypointHVit

FORMAT = "edgekp-model/1"


def _unwrap(model: nn.Module) -> nn.Module:
    # DistributedDataParallel / DataParallel keep the real model in .module.
    return getattr(model, "module", model) if not isinstance(model, KeypointHVit) else model


def save_model(path: str | Path, model: nn.Module, meta: dict[str, Any] | None = None) -> None:
    """Atomically write ``model`` (a KeypointHVit, possibly DDP-wrapped) with ``meta`` to ``path``.

    ``meta`` must be JSON-like; values JSON cannot hold (e.g. Path) are stored as their str() so the
    file stays loadable with weights_only=True.
    """
    net = _unwrap(model)
    config = getattr(net, "config", None)
    if not isinstance(config, HvitConfig):
        raise TypeError(f"save_model needs an edgekp model with an HvitConfig (got {type(net).__name__})")
    plain_meta = json.loads(json.dumps(meta or {}, default=str))
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    save_checkpoint(
        path,
        {
            "format": FORMAT,
            "name": str(getattr(net, "variant", "custom")),
            "config": config.to_dict(),
            "state_dict": state,
            "meta": plain_meta,
        },
    )


def load_model(path: str | Path) -> tuple[KeypointHVit, dict[str, Any]]:
    """Rebuild the model from the checkpoint's config and load its weights; returns (model in eval, meta).

    Raises LineageError (one line) for a missing, corrupt or foreign file, or weights that do not fit.
    """
    path = Path(path)
    state = load_checkpoint(path)  # LineageError for missing/corrupt/not-a-mapping
    if state.get("format") != FORMAT:
        raise LineageError(
            f"{str(path)!r} is not an edgekp model checkpoint (format {state.get('format')!r}, expected {FORMAT!r})"
        )
    missing = [k for k in ("config", "state_dict") if not isinstance(state.get(k), dict)]
    if missing:
        raise LineageError(f"{str(path)!r} is an incomplete model checkpoint (no {', '.join(missing)})")
    try:
        config = HvitConfig.from_dict(state["config"])
    except (ConfigError, TypeError, ValueError) as exc:
        raise LineageError(f"{str(path)!r} holds an invalid model config ({exc})") from None
    model = KeypointHVit(config, variant=str(state.get("name", "custom")))
    try:
        model.load_state_dict(state["state_dict"], strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:240]
        raise LineageError(f"{str(path)!r}: weights do not match the model its config describes ({detail})") from None
    meta = state.get("meta")
    return model.eval(), dict(meta) if isinstance(meta, dict) else {}

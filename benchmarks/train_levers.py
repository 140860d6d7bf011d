"""Issue 13's levers, measured one at a time: one training per lever (benchmarks/train_levers.yaml:
a named set of overrides of one base recipe), same seed and time budget, into --out/<lever>; then a
table of epochs, chosen epoch, stop reason, each validation set's NME (the box-normalized ones by
|yaw| bin), params and MFLOPs, read back from each run's manifest and history.

    python -m benchmarks.train_levers --data-root ../shared/data --device auto --budget-min 120 --reuse
    python -m benchmarks.train_levers --only baseline,loss_l1,ema_off --data-root ../shared/data --reuse
    python -m benchmarks.train_levers --jobs 4 --device cuda --data-root ../shared/data --reuse  # 4 at once (GPU)
    python -m benchmarks.train_levers --table            # train nothing: the table of what is there
    python -m benchmarks.train_levers --table --json

--reuse keeps finished runs and resumes interrupted ones (or ones stopped by a budget that has since
grown) with `edgekp train --resume` semantics: only device, threads, workers and the time budget may
differ from the first leg. Exit 2 on a user error (a bad lever, a changed recipe), before any training.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from edgekp.train.lever_command import levers_main

if __name__ == "__main__":
    sys.exit(levers_main(doc=__doc__, default_levers=Path(__file__).resolve().with_name("train_levers.yaml")))

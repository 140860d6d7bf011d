"""The patent's ablation: the same recipe trained with pose balancing on and off (levers `baseline`
and `balance_off` of benchmarks/train_levers.yaml, same seed and time budget), then the box NME of
the box-normalized validation set (MERL-RAV test) per |yaw| bin for both, the difference, and a
sentence derived from those numbers: does balancing help large poses, and what does it cost small ones?

    python -m benchmarks.balance_ablation --data-root ../shared/data --device auto --budget-min 120 --reuse
    python -m benchmarks.balance_ablation --table      # train nothing: compare the two runs already there
    python -m benchmarks.balance_ablation --table --paired   # + face-by-face differences with 95 % intervals

Without --paired the figures are each run's validation history at its chosen epoch and a change
under 1 % relative is called "about the same". With --paired both models are re-scored on the same
faces and a bin counts as changed only when the 95 % interval of the mean per-face difference
excludes zero.

It shares its runs with train_levers.py (same --out, default runs/levers): with --reuse, whichever
script ran first trained them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from edgekp.report.balance_ablation import main

if __name__ == "__main__":
    sys.exit(main(doc=__doc__, default_levers=Path(__file__).resolve().with_name("train_levers.yaml")))

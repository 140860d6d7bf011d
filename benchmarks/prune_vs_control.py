"""Pruned runs against their same-budget control: NME on each validation set and TFLite fp32 / int8
latency, timed round robin in one process (edgekp.compress.prune_vs_control: what is compared, how,
issue 14's targets).

    edgekp prune --recipe recipes/prune/control.yaml --from runs/kp_hvit_s_merlrav --out runs/prune5/control \
        --set finetune.max_epochs=2
    edgekp prune --recipe recipes/prune/heads_50.yaml --from runs/kp_hvit_s_merlrav --out runs/prune5/heads_50 \
        --set finetune.max_epochs=2
    python -m benchmarks.prune_vs_control --control runs/prune5/control runs/prune5/heads_50 runs/prune5/blocks3_mlp30
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # busy cores: OpenMP spin-waits distort timings

from edgekp.compress.prune_vs_control import main

if __name__ == "__main__":
    raise SystemExit(main())

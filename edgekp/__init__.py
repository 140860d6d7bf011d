"""edgekp: train a face-keypoint model and take it to phones (TFLite, CoreML, OpenVINO)."""

import os as _os

__version__ = "0.1.0"

# Before anything imports torch: OpenMP reads its wait policy once, when it loads. Spinning waits made
# PyTorch at 2 threads several times slower than at 1 on a shared 2-core host (see edgekp.measure.threads).
# The CLI sets the same default; doing it here covers scripts and notebooks that import edgekp first.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

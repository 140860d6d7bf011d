"""Run lineage: where a model came from and where each stage's outputs go.

- ``run_dir``: a stage's output folder (``RunDir``), its ``manifest.json`` written at start and
  updated at the end, and the chain of parent runs.
- ``manifest``: the manifest typed: the header every run writes (``ManifestHeader``) and the read
  view of the fields stages read (``Manifest``).
- ``checkpoints``: the one checkpoint loader (``load_run_model``, ``load_model_file``), dispatching on
  the format a checkpoint declares; the format registry compressors add to.
- ``plain_format``: the plain model format ``edgekp-model/1`` (train and prune runs' ``model.pt``).
- ``sidecar``: the ``<artifact>.json`` written beside every exported file.
- ``model_source``: ``--from RUN_DIR`` or a shipped model, materialized as a run directory.
- ``shipped``: the models shipped as package data in ``edgekp/shipped/``, by size (``shipped:t|s|b``).
- ``atomic``, ``hashes``: atomic file writes and the sha256 hashes that pin a lineage.
"""

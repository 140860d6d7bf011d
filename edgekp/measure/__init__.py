"""Measurement, one home for each part (the lowest layer above logs and errors; it imports no other edgekp package):

- ``timing``: the one timing loop (warm-up, min runs / min seconds, median and p90) for one callable,
  and round-robin timing of several callables (per-turn times, thread counts set per turn);
- ``isolated``: a measurement run in a fresh process, spec and result as JSON;
- ``threads``: torch thread settings that restore what they found, and why OpenMP waits sleep;
- ``host``: the machine a result came from (CPU, ISA flags, VNNI, cores, library versions);
- ``hashes``: hashes of the data a measurement was made on.

Nothing is imported here, so a worker process (dlib's, MediaPipe's) can import ``edgekp.measure.timing``
without loading torch.
"""

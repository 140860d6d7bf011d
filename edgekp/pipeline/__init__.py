"""The one-command pipeline (``edgekp run``): data -> train -> prune -> QAT -> export -> bench -> report."""

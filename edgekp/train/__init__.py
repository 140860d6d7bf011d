"""Training: the two-part loss, the loop, early stopping, checkpoints, DDP; lever sweeps (one training per
lever, edgekp.train.levers) and their table."""

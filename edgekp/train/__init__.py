"""Training: the two-part loss, the loop, early stopping, checkpoints, DDP."""

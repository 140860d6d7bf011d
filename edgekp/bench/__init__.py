"""Measurement: predictors over every kind of model source, accuracy evaluation, latency."""

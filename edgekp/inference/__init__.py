"""Landmarks on whole photos: face detection, crop, predict, refine, map back to pixels."""

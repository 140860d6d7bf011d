"""Test-time flip averaging: the mirror's points come back in the original crop's frame and labels."""

from __future__ import annotations

import numpy as np

from edgekp.bench.flip_average import flip_averaged, unflip_points
from edgekp.bench.predictor import load_predictor
from edgekp.data.crops import preload_crops
from edgekp.data.readers import read_dataset
from edgekp.data.schemes import get_scheme


def test_unflip_mirrors_x_and_swaps_left_right_labels():
    scheme = get_scheme("ibug68")
    points = np.random.default_rng(0).uniform(0.1, 0.9, (2, 68, 2)).astype(np.float32)
    mirrored = points.copy()
    mirrored[..., 0] = 1.0 - mirrored[..., 0]
    mirrored = mirrored[:, scheme.flip_permutation()]  # what a perfect model predicts on the mirror image
    back = unflip_points(mirrored, scheme.flip_permutation())
    np.testing.assert_allclose(back, points, atol=1e-6)
    # the outer eye corners (36, 45) and mouth corners (48, 54) trade labels under a mirror
    assert scheme.flip_permutation()[36] == 45 and scheme.flip_permutation()[48] == 54


def test_flip_averaged_shipped_model_agrees_with_single_pass_on_real_faces(shared_data):
    """On real faces the mirror's prediction, mapped back, lands beside the direct one (a label swap or
    an x not mirrored would move eye corners by a third of the crop), and the average is flip-equivariant."""
    predictor = load_predictor("shipped:s", threads=1)
    records = list(read_dataset(shared_data / "300w" / "afw", format="pts", scheme=get_scheme("ibug68")).records)[:8]
    crops = preload_crops(records, size=predictor.input_size, margin=predictor.margin)
    single = predictor.predict(crops.images)
    averaged = flip_averaged(predictor).predict(crops.images)
    assert averaged.shape == single.shape
    assert float(np.abs(averaged - single).max()) < 0.05
    assert float(np.abs(averaged - single).mean()) > 1e-5  # the mirror pass really ran
    from_mirror = flip_averaged(predictor).predict(np.ascontiguousarray(crops.images[:, :, ::-1]))
    perm = get_scheme("ibug68").flip_permutation()
    np.testing.assert_allclose(unflip_points(from_mirror, perm), averaged, atol=2e-4)

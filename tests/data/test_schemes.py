"""The landmark-scheme table: flip permutations are involutions, indices in range, norms defined."""

from __future__ import annotations

import numpy as np
import pytest

from edgekp.data.schemes import SCHEMES, get_scheme, scheme_for_points
from edgekp.errors import ConfigError

EXPECTED = {
    "ibug68": (68, (36, 45)),
    "wflw98": (98, (60, 72)),
    "cofw29": (29, (8, 9)),
    "aflw19": (19, (6, 11)),
    "lapa106": (106, (66, 79)),
}


def test_table_has_every_scheme():
    assert {name: (s.num_points, s.inter_ocular) for name, s in SCHEMES.items()} == EXPECTED


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_flip_permutation_is_an_involution(name):
    scheme = SCHEMES[name]
    perm = scheme.flip_permutation()
    assert sorted(perm.tolist()) == list(range(scheme.num_points))
    np.testing.assert_array_equal(perm[perm], np.arange(scheme.num_points))


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_pairs_in_range_and_disjoint(name):
    scheme = SCHEMES[name]
    flat = [i for pair in scheme.flip_pairs for i in pair]
    assert all(0 <= i < scheme.num_points for i in flat)
    assert len(flat) == len(set(flat)), "a point appears in two flip pairs"
    assert all(a != b for a, b in scheme.flip_pairs)
    for group in (scheme.inter_ocular, scheme.left_eye, scheme.right_eye):
        assert all(0 <= i < scheme.num_points for i in group)


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_eyes_swap_under_flip(name):
    """The outer eye corners and the two eye groups are mirror images of each other."""
    scheme = SCHEMES[name]
    perm = scheme.flip_permutation()
    a, b = scheme.inter_ocular
    assert perm[a] == b
    assert sorted(perm[list(scheme.left_eye)].tolist()) == sorted(scheme.right_eye)


def test_ibug68_known_pairs():
    perm = get_scheme("ibug68").flip_permutation()
    assert perm[0] == 16 and perm[8] == 8 and perm[36] == 45 and perm[48] == 54 and perm[30] == 30


def test_unknown_scheme_did_you_mean():
    with pytest.raises(ConfigError, match="did you mean 'wflw98'"):
        get_scheme("wflw")


def test_scheme_for_points():
    assert scheme_for_points(98).name == "wflw98"
    assert scheme_for_points(5) is None

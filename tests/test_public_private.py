"""The one public/private split of every leaderboard."""

import numpy as np
import pytest

from autograder.public_private import public_private_split


@pytest.mark.parametrize("count", [1, 2, 11, 60, 1000])
def test_split_is_disjoint_complete_and_public_is_the_floor_of_half(count):
    public, private = public_private_split(count)
    assert len(public) == count // 2
    assert sorted([*public, *private]) == list(range(count))
    assert list(public) == sorted(public) and list(private) == sorted(private)


def test_split_is_the_same_on_every_call_and_not_the_first_half():
    first, _ = public_private_split(100)
    again, _ = public_private_split(100)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, np.arange(50)), "the split must be shuffled, not a prefix"

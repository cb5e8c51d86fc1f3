"""The public/private split of every leaderboard, as on Kaggle.

Students see the public score while the assignment runs; the private score decides the ranking
and the points. One rule for every assignment: the test items, in the order the grading side
lists their ids, are shuffled by ``numpy.random.default_rng(SEED)``; the first
``floor(count * PUBLIC_FRACTION)`` positions of that permutation are public, the rest private.
"""

import numpy as np

SEED = 0
PUBLIC_FRACTION = 0.5


def public_private_split(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positions (int arrays) of the public and the private test items among ``count``.

    >>> public, private = public_private_split(5)
    >>> len(public), len(private), sorted([*public, *private]) == list(range(5))
    (2, 3, True)
    """
    order = np.random.default_rng(SEED).permutation(count)
    cut = int(count * PUBLIC_FRACTION)
    return np.sort(order[:cut]), np.sort(order[cut:])

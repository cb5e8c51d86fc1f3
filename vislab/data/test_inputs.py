"""The released test inputs of a dataset: the images students predict, never their labels.

For an embedded dataset they are drawn from a seed derived from the instructor's secret key, so
the kit's public code cannot rebuild them or their labels; the grading side makes them
(``python datasets.py prepare NAME``) and they are handed to students with the course's data.
They are cached as ``<name>-test`` (``tensor_cache``), next to ``key.txt``, the public
fingerprint of the key that made them.
"""

import torch

from vislab.data import tensor_cache
from vislab.paths import dataset_dir

KEY_FILE = "key.txt"


def test_inputs_name(name: str) -> str:
    """The cache entry of a dataset's released test inputs.

    >>> test_inputs_name("textured-digits")
    'textured-digits-test'
    """
    return f"{name}-test"


def has_test_inputs(name: str, fingerprint: str | None = None) -> bool:
    """Whether the test inputs are here (made with the key of ``fingerprint``, when given)."""
    if not tensor_cache.is_cached(test_inputs_name(name)):
        return False
    return fingerprint is None or inputs_fingerprint(name) == fingerprint


def inputs_fingerprint(name: str) -> str | None:
    path = dataset_dir(test_inputs_name(name)) / KEY_FILE
    return path.read_text().strip() if path.exists() else None


def save_test_inputs(name: str, tensors: dict[str, torch.Tensor], fingerprint: str) -> None:
    """Cache the test inputs of ``name`` (grading side), with the fingerprint of their key."""
    tensor_cache.save_tensors(test_inputs_name(name), tensors)
    (dataset_dir(test_inputs_name(name)) / KEY_FILE).write_text(fingerprint + "\n")


def load_test_inputs(name: str) -> dict[str, torch.Tensor]:
    """The released test inputs of ``name``; a message says where to get them when missing."""
    if not tensor_cache.is_cached(test_inputs_name(name)):
        raise FileNotFoundError(
            f"the test images of {name!r} are not on this machine. They come with your course's "
            f"data (your instructor makes them with the course's secret key): copy that folder "
            f"to the vislab cache. To practise with the kit alone, run `python datasets.py "
            f"prepare {name}` (it uses the kit's public demo key).")
    return tensor_cache.load_tensors(test_inputs_name(name))

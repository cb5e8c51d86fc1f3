"""Caching built datasets as tensors, verified by a SHA-256 written next to them."""

import hashlib
from collections.abc import Callable
from pathlib import Path

import torch

from vislab.files import atomic_write
from vislab.paths import dataset_dir

DATA_FILE = "tensors.pt"
HASH_FILE = "tensors.sha256"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """A hash of the tensors' names, dtypes, shapes and bytes (independent of pickling)."""
    digest = hashlib.sha256()
    for key in sorted(tensors):
        value = tensors[key].contiguous()
        digest.update(f"{key}:{value.dtype}:{tuple(value.shape)}".encode())
        digest.update(value.numpy().tobytes())
    return digest.hexdigest()


def save_tensors(name: str, tensors: dict[str, torch.Tensor]) -> str:
    """Write ``tensors`` to the dataset's cache folder with their hash; return the hash."""
    folder = dataset_dir(name)
    sha = tensors_sha256(tensors)
    # atomic: two processes building the same dataset at once never leave a torn file
    atomic_write(folder / DATA_FILE, lambda handle: torch.save(tensors, handle))
    atomic_write(folder / HASH_FILE, lambda handle: handle.write((sha + "\n").encode()))
    return sha


def is_cached(name: str) -> bool:
    folder = dataset_dir(name)
    return (folder / DATA_FILE).exists() and (folder / HASH_FILE).exists()


def load_tensors(name: str, build: Callable[[], dict[str, torch.Tensor]] | None = None,
                 ) -> dict[str, torch.Tensor]:
    """Load a cached dataset, building and caching it first when ``build`` is given.

    Raises ``RuntimeError`` when the cached tensors no longer match their recorded hash.
    """
    folder = dataset_dir(name)
    if not is_cached(name):
        if build is None:
            raise FileNotFoundError(f"dataset {name!r} is not prepared: run "
                                    f"`python datasets.py prepare {name}`")
        save_tensors(name, build())
    tensors = torch.load(folder / DATA_FILE, weights_only=True)
    expected = (folder / HASH_FILE).read_text().strip()
    if tensors_sha256(tensors) != expected:
        raise RuntimeError(f"the cached dataset {name!r} in {folder} is corrupt (hash mismatch): "
                           f"delete that folder and run `python datasets.py prepare {name}`")
    return tensors

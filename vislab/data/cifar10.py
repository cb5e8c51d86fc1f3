"""CIFAR-10 from its own on-disk format (the "python version": pickled batches).

``cifar-10-batches-py/`` holds ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` and
``batches.meta``; each batch is a pickled dict with ``b"data"`` (uint8 array [10000, 3072], the
red, green and blue planes of 32x32 images, row-major) and ``b"labels"`` (10000 ints).
``python datasets.py prepare cifar10 --from DIR`` reads them from ``DIR`` (the folder itself or
its parent); without ``--from`` torchvision downloads the archive when a network is there.

The test images are cached as released test inputs (:mod:`vislab.data.test_inputs`) without
their labels; the grading side keeps the labels (CIFAR-10's test labels are public anyway:
anyone can download them, so a course that grades on CIFAR-10 grades on a known test set).
"""

import pickle
from pathlib import Path

import numpy as np
import torch

from vislab.data import tensor_cache
from vislab.data.registry import DatasetSpec
from vislab.data.test_inputs import load_test_inputs, save_test_inputs
from vislab.paths import dataset_dir

NAME = "cifar10"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
#: the key fingerprint of test inputs whose labels are public
PUBLIC_LABELS = "public"


def find_batches_dir(source: Path) -> Path:
    """``source`` itself or its ``cifar-10-batches-py`` child, whichever holds the batches."""
    for candidate in (source, source / FOLDER):
        if (candidate / TEST_BATCH).exists():
            return candidate
    raise FileNotFoundError(f"no CIFAR-10 batches in {source}: expected {FOLDER}/{TEST_BATCH} "
                            "(the python version of CIFAR-10, extracted)")


def read_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One pickled batch as (X (Tensor[N, 3, 32, 32] uint8), y (Tensor[N] int64))."""
    with open(path, "rb") as handle:
        try:
            batch = pickle.load(handle, encoding="bytes")
        except (pickle.UnpicklingError, EOFError) as error:
            raise ValueError(f"{path} is not a CIFAR-10 batch ({error}): extract the archive "
                             "again") from None
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: data has shape {data.shape}, expected (N, 3072)")
    labels = torch.tensor(batch[b"labels"], dtype=torch.int64)
    return torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()), labels


def read_class_names(batches_dir: Path) -> list[str]:
    with open(batches_dir / "batches.meta", "rb") as handle:
        meta = pickle.load(handle, encoding="bytes")
    return [name.decode() for name in meta[b"label_names"]]


def read_cifar10(batches_dir: Path) -> dict[str, torch.Tensor]:
    """All of CIFAR-10 as tensors: ``train_X``, ``train_y``, ``test_X``, ``test_y``."""
    parts = [read_batch(batches_dir / name) for name in TRAIN_BATCHES]
    test_X, test_y = read_batch(batches_dir / TEST_BATCH)
    return {"train_X": torch.cat([X for X, _ in parts]), "train_y": torch.cat([y for _, y in parts]),
            "test_X": test_X, "test_y": test_y}


def prepare(source: Path | None) -> None:
    """Cache CIFAR-10 from ``source`` (or download it through torchvision)."""
    if source is None:
        import torchvision

        download_root = dataset_dir(NAME) / "download"
        try:
            torchvision.datasets.CIFAR10(download_root, download=True)
        except Exception as error:  # no network: urllib and torchvision raise many kinds
            raise RuntimeError(
                f"could not download CIFAR-10 ({error}). On a machine with internet, get "
                "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract "
                "it and run `python datasets.py prepare cifar10 --from <folder>`") from None
        source = download_root
    batches_dir = find_batches_dir(Path(source))
    data = read_cifar10(batches_dir)
    tensor_cache.save_tensors(NAME, {"train_X": data["train_X"], "train_y": data["train_y"]})
    save_test_inputs(NAME, {"test_X": data["test_X"]}, fingerprint=PUBLIC_LABELS)
    (dataset_dir(NAME) / "classes.txt").write_text("\n".join(read_class_names(batches_dir)))


def class_names() -> list[str]:
    return (dataset_dir(NAME) / "classes.txt").read_text().split("\n")


def _verify() -> str:
    data = tensor_cache.load_tensors(NAME)
    test = load_test_inputs(NAME)
    return f"{len(data['train_X'])} train + {len(test['test_X'])} test images, hash ok"


DATASETS = [
    DatasetSpec(name=NAME, kind="real",
                description="CIFAR-10 (python version) for a3: `prepare cifar10 --from DIR`",
                prepare=prepare, verify=_verify,
                is_ready=lambda: tensor_cache.is_cached(NAME)),
]

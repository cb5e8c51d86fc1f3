"""a4's digit boxes built from MNIST's own idx files, the way INF265 made its data.

:func:`build_from_mnist` composes the 28 x 28 digits (read by :mod:`vislab.data.mnist_idx`) into
the same splits as the embedded default: training and validation scenes from MNIST's training
digits, the localisation test scenes from its test digits. As for the embedded default, the
detection test scenes (from MNIST's test digits too) are drawn by the grading side from a seed
that only the instructor's key gives.
"""

from pathlib import Path

import numpy as np
import torch

from vislab.a4_detection.glyph_splits import (
    DETECTION_SIZES,
    LOCALIZATION_SIZES,
    SEED,
    GlyphPools,
    build_from_glyphs,
)
from vislab.a4_detection.splits import SOURCES, store_splits, verify_cached
from vislab.data import tensor_cache
from vislab.data.mnist_idx import InvalidIdxFile, find_mnist_files, read_idx
from vislab.data.registry import DatasetSpec
from vislab.paths import dataset_dir

NAME = SOURCES["mnist"]
VALIDATION_FRACTION = 0.1


def download_dir() -> Path:
    """Where ``prepare`` without a source downloads MNIST's idx files."""
    return dataset_dir("mnist-idx")


def mnist_digits(directory: str | Path, seed: int = SEED,
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """MNIST's 70,000 digits (``array[G, 28, 28]``), their classes and the split pools:
    validation digits drawn from the training ones with ``seed``, test digits MNIST's own."""
    arrays = {key: read_idx(path) for key, path in find_mnist_files(directory).items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise InvalidIdxFile(f"MNIST {part}: expected images (N, H, W) and labels (N,), got "
                                 f"{images.shape} and {labels.shape}")
    glyphs = np.concatenate([arrays["train_images"], arrays["test_images"]])
    classes = np.concatenate([arrays["train_labels"], arrays["test_labels"]]).astype(int)
    num_train = len(arrays["train_images"])
    order = np.random.default_rng(seed).permutation(num_train)
    num_val = max(1, round(num_train * VALIDATION_FRACTION))
    pools = {"train": order[num_val:], "val": order[:num_val],
             "test": np.arange(num_train, len(glyphs))}
    return glyphs, classes, pools


def mnist_glyphs(directory: str | Path, seed: int = SEED) -> GlyphPools:
    """MNIST's digits cropped to their ink, in their split pools."""
    return GlyphPools.from_images(*mnist_digits(directory, seed))


def build_from_mnist(directory: str | Path, localization_sizes: dict[str, int] | None = None,
                     detection_sizes: dict[str, int] | None = None,
                     seed: int = SEED) -> dict[str, torch.Tensor]:
    """The splits students get (``vislab.data.inf265.TRAINING_KEYS``) from MNIST's idx files,
    of ``LOCALIZATION_SIZES`` and ``DETECTION_SIZES`` images unless other sizes are given."""
    return build_from_glyphs(*mnist_digits(directory, seed),
                             localization_sizes or LOCALIZATION_SIZES,
                             detection_sizes or DETECTION_SIZES, seed)


def prepare(source: Path | None) -> None:
    """Build the MNIST digit boxes from ``source`` (or download MNIST with torchvision)."""
    if source is None:
        source = download_dir()
        try:
            from torchvision.datasets import MNIST
            MNIST(source, train=True, download=True)
            MNIST(source, train=False, download=True)
        except Exception as error:
            raise FileNotFoundError(f"downloading MNIST failed ({error}); copy its four idx files "
                                    "to a folder and give that folder as the source") from None
    store_splits(NAME, build_from_mnist(source))


DATASETS = [DatasetSpec(
    name=NAME, kind="real",
    description="a4_detection from MNIST: the four idx files composed into 48x60 digit scenes "
                "like INF265's",
    prepare=prepare, verify=lambda: verify_cached(NAME),
    is_ready=lambda: tensor_cache.is_cached(NAME))]

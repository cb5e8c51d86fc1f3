"""The held-out test labels of a3_cifar, on the grading side, and the scores of handed-in CSVs.

- ``textured-digits`` (embedded): the test images are drawn with the public renderer of
  :mod:`vislab.a3_cifar.textured_digits` from a seed only the instructor's key gives; the images
  are released without labels, the labels go to the sealed store. With the public demo key the
  split is the one the kit publishes (the generator continues after the training images).
- ``cifar10`` (real): the labels are read from CIFAR-10's own test batch when the instructor
  prepares it (``python datasets.py prepare cifar10 --from DIR``); they are public anyway.
"""

from pathlib import Path

import numpy as np
import torch

from autograder.heldout import store
from autograder.heldout.key import HeldoutKey
from autograder.predictions_csv import read_predictions
from autograder.public_private import public_private_split
from vislab.a3_cifar import textured_digits
from vislab.a3_cifar.data import dataset_name
from vislab.data import cifar10, tensor_cache
from vislab.data.test_inputs import has_test_inputs, save_test_inputs
from vislab.seeds import seeded_generator

CSV_COLUMNS = ["Category"]


def _test_generator(key: HeldoutKey) -> torch.Generator:
    if not key.demo:
        return seeded_generator(key.seed(f"{textured_digits.NAME}:test"))
    generator = seeded_generator(textured_digits.SEED)  # the published split: after the training
    textured_digits.draw_images(textured_digits.writer_pool("train"), textured_digits.NUM_TRAIN,
                                generator)
    return generator


def prepare_textured_digits(key: HeldoutKey, source: Path | None = None) -> None:
    """Draw the test split with ``key``: release its images, seal its labels (once per key)."""
    name = textured_digits.NAME
    if has_test_inputs(name, key.fingerprint) and store.has_labels(name, key):
        return
    X, y = textured_digits.draw_images(textured_digits.writer_pool("test"),
                                       textured_digits.NUM_TEST, _test_generator(key))
    save_test_inputs(name, {"test_X": X}, key.fingerprint)
    store.save_labels(name, {"test_y": y}, key)


def prepare_cifar10(key: HeldoutKey, source: Path | None) -> None:
    """Seal CIFAR-10's test labels, read from its test batch in ``source``."""
    if source is None:
        raise FileNotFoundError("CIFAR-10's test labels are read from its files: run `python "
                                "datasets.py prepare cifar10 --from DIR` on the grading machine")
    _, labels = cifar10.read_batch(cifar10.find_batches_dir(Path(source)) / cifar10.TEST_BATCH)
    store.save_labels(cifar10.NAME, {"test_y": labels}, key)


#: dataset -> what makes its held-out labels (``datasets.py prepare`` calls it)
HELDOUT_BUILDERS = {textured_digits.NAME: prepare_textured_digits, cifar10.NAME: prepare_cifar10}


def prepare_grading(key: HeldoutKey) -> None:
    """Before any sandbox starts: the chosen dataset's released data and held-out labels."""
    name = dataset_name()
    if name == textured_digits.NAME:
        if not tensor_cache.is_cached(name):
            textured_digits.prepare()
        prepare_textured_digits(key)
    elif not store.has_labels(name, key):
        raise FileNotFoundError(f"no held-out labels of {name}: run `python datasets.py prepare "
                                f"{name} --from DIR` on the grading machine")


def score_predictions(path: Path, key: HeldoutKey) -> tuple[float, float]:
    """(public, private) accuracy of a handed-in CSV on the held-out labels."""
    labels = store.load_labels(dataset_name(), key)["test_y"]
    frame = read_predictions(path, CSV_COLUMNS, range(len(labels)), allowed_values=range(10))
    correct = frame["Category"].astype(int).to_numpy() == labels.numpy()
    public, private = public_private_split(len(labels))
    return float(correct[public].mean()), float(correct[private].mean())


def overall_accuracy(path: Path, key: HeldoutKey) -> float:
    """The mean of the public and private accuracies (the accuracy over every test image when
    the halves are equal)."""
    public, private = score_predictions(path, key)
    return float(np.mean([public, private]))

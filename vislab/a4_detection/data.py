"""Digit localisation and grid detection data of a4_detection, in the INF265 tensor format.

The format is described in :mod:`vislab.data.inf265_labels`. Three sources give the same splits,
chosen by ``VISLAB_A4_DATASET``:

- ``digits`` (default): embedded, built from ``sklearn.datasets.load_digits``
  (:mod:`vislab.a4_detection.embedded`);
- ``inf265``: the course's own files, read by :func:`vislab.data.inf265.read_inf265`;
- ``mnist``: built from MNIST's idx files (:mod:`vislab.a4_detection.mnist`).

Every source produces the same dictionary of tensors, cached by
:func:`vislab.a4_detection.splits.store_splits` without the detection test labels: the notebook
gets the detection test images and their ids only, and the autograder scores the predictions CSV
against :func:`heldout_detection_objects`. The localisation test split keeps its labels:
students evaluate their chosen model on it once.
"""

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from vislab.a4_detection import embedded
from vislab.a4_detection.splits import HELDOUT_FILE, SOURCES, store_splits, verify_cached
from vislab.data import tensor_cache
from vislab.data.choice import chosen_dataset, dataset_variable
from vislab.data.inf265 import SPLITS, read_inf265
from vislab.data.inf265_labels import unflatten_objects
from vislab.data.registry import DatasetSpec
from vislab.paths import heldout_dir

ASSIGNMENT = "a4_detection"
DEFAULT = "digits"


@dataclass
class LocalizationData:
    """Localisation splits: images ``Tensor[N, 1, 48, 60]`` in [0, 1], labels ``Tensor[N, 6]``."""

    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    source: str


@dataclass
class DetectionData:
    """Detection splits: ``X`` and grid labels ``y`` (``Tensor[N, 2, 3, 6]``), objects per image.

    ``train_objects[i]`` / ``val_objects[i]`` (``Tensor[K, 6]``, image coordinates) list the
    digits of image ``i``. The test split has images and ids only.
    """

    train: TensorDataset
    val: TensorDataset
    train_objects: list[torch.Tensor]
    val_objects: list[torch.Tensor]
    test_X: torch.Tensor
    test_ids: list[int]
    source: str


def dataset_name(name: str | None = None) -> str:
    """``name``, else ``$VISLAB_A4_DATASET``, else ``"digits"``; checked against ``SOURCES``."""
    return chosen_dataset(ASSIGNMENT, SOURCES, DEFAULT, name)


def load_localization(choice: str | None = None) -> LocalizationData:
    """The localisation splits of the selected dataset (built first when embedded)."""
    choice = dataset_name(choice)
    tensors = _cached_splits(choice)
    parts = {split: TensorDataset(as_float_images(tensors[f"loc_{split}_X"]),
                                  tensors[f"loc_{split}_y"]) for split in SPLITS}
    return LocalizationData(**parts, source=_describe(choice, tensors))


def load_detection(choice: str | None = None) -> DetectionData:
    """The detection splits of the selected dataset; the test labels stay with the autograder."""
    choice = dataset_name(choice)
    tensors = _cached_splits(choice)
    train_X, val_X = (as_float_images(tensors[f"det_{s}_X"]) for s in ("train", "val"))
    test_X = as_float_images(tensors["det_test_X"])
    return DetectionData(
        train=TensorDataset(train_X, tensors["det_train_y"]),
        val=TensorDataset(val_X, tensors["det_val_y"]),
        train_objects=unflatten_objects(tensors["det_train_objects"], len(train_X)),
        val_objects=unflatten_objects(tensors["det_val_objects"], len(val_X)),
        test_X=test_X, test_ids=list(range(len(test_X))), source=_describe(choice, tensors))


def heldout_detection_objects(choice: str | None = None) -> dict[int, torch.Tensor]:
    """The detection test objects by test id (``Tensor[K, 6]`` each): for the autograder only."""
    choice = dataset_name(choice)
    _cached_splits(choice)
    path = heldout_dir(SOURCES[choice]) / HELDOUT_FILE
    if not path.exists():
        raise FileNotFoundError(f"the held-out labels {path} are missing: run `python datasets.py "
                                f"prepare {SOURCES[choice]}` on the grading machine")
    heldout = torch.load(path, weights_only=True)
    num_images = len(heldout["det_test_y"])
    return dict(enumerate(unflatten_objects(heldout["det_test_objects"], num_images)))


def as_float_images(X: torch.Tensor) -> torch.Tensor:
    """Images as float32 in [0, 1] (the cache keeps the embedded ones as uint8)."""
    return X.float() / 255 if X.dtype == torch.uint8 else X.float()


def _cached_splits(choice: str) -> dict[str, torch.Tensor]:
    name = SOURCES[choice]
    if not tensor_cache.is_cached(name):
        if choice != DEFAULT:
            source = "DIR_WITH_THE_COURSE_FILES" if choice == "inf265" else "DIR_WITH_MNIST_IDX"
            raise FileNotFoundError(f"{dataset_variable(ASSIGNMENT)}={choice}: the dataset {name!r} is not "
                                    f"prepared; run `python datasets.py prepare {name} --from "
                                    f"{source}` (see `python datasets.py list`)")
        embedded.prepare(None)
    return tensor_cache.load_tensors(name)


def _describe(choice: str, tensors: dict[str, torch.Tensor]) -> str:
    origin = {"digits": "the embedded digit boxes (sklearn's 8x8 digits, scaled, perturbed)",
              "inf265": "the INF265 course files", "mnist": "digit boxes built from MNIST"}[choice]
    sizes = ", ".join(f"{split} {len(tensors[f'loc_{split}_X'])}" for split in SPLITS)
    det = ", ".join(f"{split} {len(tensors[f'det_{split}_X'])}" for split in SPLITS)
    return (f"{dataset_variable(ASSIGNMENT)}={choice}: {origin}. Localisation images: {sizes}; "
            f"detection images: {det}.")


def prepare_inf265(source: Path | None) -> None:
    if source is None:
        raise FileNotFoundError("the INF265 files cannot be downloaded by the kit: copy the "
                                "course's data folder (localization_*.pt, detection_*.pt, "
                                "list_y_true_*.pt) to this machine and give its path")
    store_splits(SOURCES["inf265"], read_inf265(source))


def verify_inf265() -> str:
    return verify_cached(SOURCES["inf265"])


DATASETS = [DatasetSpec(
    name=SOURCES["inf265"], kind="real",
    description="a4_detection: UiB INF265 project 2 tensors (localization_*, detection_*, "
                "list_y_true_*.pt) read from a folder",
    prepare=prepare_inf265, verify=verify_inf265,
    is_ready=lambda: tensor_cache.is_cached(SOURCES["inf265"]))]

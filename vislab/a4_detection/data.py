"""Digit localisation and grid detection data of a4_detection, in the INF265 tensor format.

The format is described in :mod:`vislab.data.inf265_labels`. Three sources give the same splits,
chosen by ``VISLAB_A4_DATASET``:

- ``digits`` (default): embedded, built from ``sklearn.datasets.load_digits``
  (:mod:`vislab.a4_detection.embedded`);
- ``inf265``: the course's own files, read by :func:`vislab.data.inf265.read_inf265`;
- ``mnist``: built from MNIST's idx files (:mod:`vislab.a4_detection.mnist`).

Every source produces the same dictionary of tensors, cached by
:func:`vislab.a4_detection.splits.store_splits`. The detection test split comes as released test
inputs (:mod:`vislab.data.test_inputs`): the notebook gets the test images and their ids only;
their boxes live on the grading side, which scores the predictions CSV against them. The
localisation test split keeps its labels: students evaluate their chosen model on it once.
"""

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from vislab.a4_detection import embedded
from vislab.a4_detection.splits import SOURCES, TEST_INPUTS_KEY, store_splits, verify_cached
from vislab.data import tensor_cache
from vislab.data.choice import chosen_dataset, dataset_variable
from vislab.data.inf265 import SPLITS, read_inf265
from vislab.data.inf265_labels import unflatten_objects
from vislab.data.registry import DatasetSpec
from vislab.data.test_inputs import has_test_inputs, load_test_inputs

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
    name = SOURCES[choice]
    num_test = len(load_test_inputs(name)[TEST_INPUTS_KEY]) if has_test_inputs(name) else None
    return LocalizationData(**parts, source=_describe(choice, tensors, num_test))


def load_detection(choice: str | None = None) -> DetectionData:
    """The detection splits of the selected dataset; the test images come without labels."""
    choice = dataset_name(choice)
    tensors = _cached_splits(choice)
    train_X, val_X = (as_float_images(tensors[f"det_{s}_X"]) for s in ("train", "val"))
    test_X = as_float_images(load_test_inputs(SOURCES[choice])[TEST_INPUTS_KEY])
    return DetectionData(
        train=TensorDataset(train_X, tensors["det_train_y"]),
        val=TensorDataset(val_X, tensors["det_val_y"]),
        train_objects=unflatten_objects(tensors["det_train_objects"], len(train_X)),
        val_objects=unflatten_objects(tensors["det_val_objects"], len(val_X)),
        test_X=test_X, test_ids=list(range(len(test_X))),
        source=_describe(choice, tensors, len(test_X)))


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


def _describe(choice: str, tensors: dict[str, torch.Tensor], num_test_detection: int | None,
              ) -> str:
    origin = {"digits": "the embedded digit boxes (sklearn's 8x8 digits, scaled, perturbed)",
              "inf265": "the INF265 course files", "mnist": "digit boxes built from MNIST"}[choice]
    sizes = ", ".join(f"{split} {len(tensors[f'loc_{split}_X'])}" for split in SPLITS)
    det = ", ".join(f"{split} {len(tensors[f'det_{split}_X'])}" for split in ("train", "val"))
    det += (f", test {num_test_detection} (without labels)" if num_test_detection is not None
            else ", test not on this machine yet")
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

"""Digit localisation and grid detection data of a4_detection, in the INF265 tensor format.

The format is described in :mod:`vislab.detection_labels`. Three sources give the same splits,
chosen by ``VISLAB_A4_DATASET``:

- ``digits`` (default): embedded, built from ``sklearn.datasets.load_digits``
  (:mod:`vislab.data.embedded_digit_boxes`);
- ``inf265``: the course's own files, read from a directory by :func:`read_inf265`;
- ``mnist``: built from MNIST's idx files (:mod:`vislab.data.mnist_idx`).

Every source produces the same dictionary of tensors (``SPLIT_KEYS``); :func:`store_splits`
caches it, except the detection test labels, which go to ``vislab.paths.heldout_dir``: the
notebook gets the detection test images and their ids only, and the autograder scores the
predictions CSV against :func:`heldout_detection_objects`. The localisation test split keeps its
labels: students evaluate their chosen model on it once.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from vislab.data import tensor_cache
from vislab.data.registry import DatasetSpec
from vislab.detection_labels import (
    DETECTION_CLASSES,
    LOCALIZATION_CLASSES,
    InvalidLabels,
    flatten_objects,
    unflatten_objects,
    validate_grid_labels,
    validate_images,
    validate_localization_labels,
    validate_objects,
)
from vislab.paths import heldout_dir

ENV_VARIABLE = "VISLAB_A4_DATASET"
#: value of ``VISLAB_A4_DATASET`` -> cached dataset name
SOURCES = {"digits": "digit-boxes", "inf265": "digit-boxes-inf265", "mnist": "digit-boxes-mnist"}
SPLITS = ("train", "val", "test")
#: ``loc_<split>_X``, ``loc_<split>_y`` (N, 6), ``det_<split>_X``, ``det_<split>_y`` (N, 2, 3, 6),
#: ``det_<split>_objects`` (M, 7), see :func:`vislab.detection_labels.flatten_objects`
SPLIT_KEYS = tuple(f"{task}_{split}_{part}" for split in SPLITS
                   for task, parts in (("loc", ("X", "y")), ("det", ("X", "y", "objects")))
                   for part in parts)
HELDOUT_KEYS = ("det_test_y", "det_test_objects")
HELDOUT_FILE = "detection_test.pt"


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


def selected_source() -> str:
    """The value of ``VISLAB_A4_DATASET`` (``digits`` when unset), checked."""
    choice = os.environ.get(ENV_VARIABLE, "digits").strip().lower() or "digits"
    if choice not in SOURCES:
        raise ValueError(f"{ENV_VARIABLE}={choice!r} is not a known dataset: use one of "
                         f"{', '.join(SOURCES)}")
    return choice


def load_localization(choice: str | None = None) -> LocalizationData:
    """The localisation splits of the selected dataset (built first when embedded)."""
    choice = choice or selected_source()
    tensors = _cached_splits(choice)
    parts = {split: TensorDataset(as_float_images(tensors[f"loc_{split}_X"]),
                                  tensors[f"loc_{split}_y"]) for split in SPLITS}
    return LocalizationData(**parts, source=_describe(choice, tensors))


def load_detection(choice: str | None = None) -> DetectionData:
    """The detection splits of the selected dataset; the test labels stay with the autograder."""
    choice = choice or selected_source()
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
    choice = choice or selected_source()
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


def validate_splits(tensors: dict[str, torch.Tensor], where: str) -> None:
    """Check a dictionary of splits (``SPLIT_KEYS``) against the INF265 format."""
    missing = [key for key in SPLIT_KEYS if key not in tensors]
    if missing:
        raise InvalidLabels(f"{where}: missing {', '.join(missing)}")
    for split in SPLITS:
        X, y = tensors[f"loc_{split}_X"], tensors[f"loc_{split}_y"]
        validate_images(X, f"{where} localisation {split}")
        validate_localization_labels(y, LOCALIZATION_CLASSES, f"{where} localisation {split}")
        _same_length(X, y, f"{where} localisation {split}")
        X, y = tensors[f"det_{split}_X"], tensors[f"det_{split}_y"]
        validate_images(X, f"{where} detection {split}")
        validate_grid_labels(y, DETECTION_CLASSES, f"{where} detection {split}")
        _same_length(X, y, f"{where} detection {split}")
        objects = unflatten_objects(tensors[f"det_{split}_objects"], len(X))
        for index, rows in enumerate(objects):
            validate_objects(rows, DETECTION_CLASSES, f"{where} detection {split} image {index}")
        cells, counted = int(y[..., 0].sum()), sum(len(rows) for rows in objects)
        if cells > counted:
            raise InvalidLabels(f"{where} detection {split}: the grid labels hold {cells} digits "
                                f"but the object lists only {counted}; are they the same images?")


def store_splits(name: str, tensors: dict[str, torch.Tensor]) -> None:
    """Validate and cache the splits; the detection test labels go to the held-out folder."""
    validate_splits(tensors, name)
    tensor_cache.save_tensors(name, {k: v for k, v in tensors.items() if k not in HELDOUT_KEYS})
    torch.save({key: tensors[key] for key in HELDOUT_KEYS}, heldout_dir(name) / HELDOUT_FILE)


def read_inf265(directory: str | Path) -> dict[str, torch.Tensor]:
    """Read the course's files from ``directory`` into ``SPLIT_KEYS`` tensors.

    Expects ``localization_<split>.pt`` and ``detection_<split>.pt`` (each a ``TensorDataset``
    of images and labels, or a pair of tensors) and ``list_y_true_<split>.pt`` (per detection
    image a ``Tensor[K, 6]`` or a list of ``Tensor[6]``) for the splits train, val and test.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory; give the folder that holds "
                                "localization_train.pt, detection_train.pt, "
                                "list_y_true_train.pt...")
    tensors = {}
    for split in SPLITS:
        tensors[f"loc_{split}_X"], tensors[f"loc_{split}_y"] = _read_pair(
            directory / f"localization_{split}.pt")
        tensors[f"det_{split}_X"], tensors[f"det_{split}_y"] = _read_pair(
            directory / f"detection_{split}.pt")
        tensors[f"det_{split}_objects"] = flatten_objects(
            _read_object_lists(directory / f"list_y_true_{split}.pt"))
    validate_splits(tensors, str(directory))
    return tensors


def _read_pair(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    content = _load_course_file(path)
    pair = content.tensors if isinstance(content, TensorDataset) else content
    if not isinstance(pair, list | tuple) or len(pair) != 2 \
            or not all(isinstance(t, torch.Tensor) for t in pair):
        raise InvalidLabels(f"{path.name}: expected a TensorDataset of (images, labels) or a pair "
                            f"of tensors, got {type(content).__name__}")
    return pair[0], pair[1].float()


def _read_object_lists(path: Path) -> list[torch.Tensor]:
    content = _load_course_file(path)
    if not isinstance(content, list | tuple):
        raise InvalidLabels(f"{path.name}: expected a list with one entry per image, got "
                            f"{type(content).__name__}")
    objects = []
    for index, entry in enumerate(content):
        if isinstance(entry, list | tuple):
            entry = torch.stack(list(entry)) if len(entry) else torch.zeros(0, 6)
        if not isinstance(entry, torch.Tensor):
            raise InvalidLabels(f"{path.name}: entry {index} is a {type(entry).__name__}; each "
                                "image needs a tensor (K, 6) or a list of tensors (6,)")
        objects.append(entry.float().reshape(-1, 6))
    return objects


def _load_course_file(path: Path):
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the INF265 folder must hold localization_, "
                                "detection_ and list_y_true_ files for train, val and test")
    with torch.serialization.safe_globals([TensorDataset]):
        try:
            return torch.load(path, weights_only=True)
        except Exception as error:  # an unpickling error says little to a user
            raise InvalidLabels(f"{path.name} cannot be read as tensors ({type(error).__name__}); "
                                "is it one of the course's .pt files?") from None


def _same_length(X: torch.Tensor, y: torch.Tensor, where: str) -> None:
    if len(X) != len(y):
        raise InvalidLabels(f"{where}: {len(X)} images but {len(y)} labels")


def _cached_splits(choice: str) -> dict[str, torch.Tensor]:
    name = SOURCES[choice]
    if not tensor_cache.is_cached(name):
        if choice != "digits":
            source = "DIR_WITH_THE_COURSE_FILES" if choice == "inf265" else "DIR_WITH_MNIST_IDX"
            raise FileNotFoundError(f"{ENV_VARIABLE}={choice}: the dataset {name!r} is not "
                                    f"prepared; run `python datasets.py prepare {name} --from "
                                    f"{source}` (see `python datasets.py list`)")
        from vislab.data.embedded_digit_boxes import prepare
        prepare(None)
    return tensor_cache.load_tensors(name)


def _describe(choice: str, tensors: dict[str, torch.Tensor]) -> str:
    origin = {"digits": "the embedded digit boxes (sklearn's 8x8 digits, scaled, perturbed)",
              "inf265": "the INF265 course files", "mnist": "digit boxes built from MNIST"}[choice]
    sizes = ", ".join(f"{split} {len(tensors[f'loc_{split}_X'])}" for split in SPLITS)
    det = ", ".join(f"{split} {len(tensors[f'det_{split}_X'])}" for split in SPLITS)
    return (f"{ENV_VARIABLE}={choice}: {origin}. Localisation images: {sizes}; "
            f"detection images: {det}.")


def prepare_inf265(source: Path | None) -> None:
    if source is None:
        raise FileNotFoundError("the INF265 files cannot be downloaded by the kit: copy the "
                                "course's data folder (localization_*.pt, detection_*.pt, "
                                "list_y_true_*.pt) to this machine and give its path")
    store_splits(SOURCES["inf265"], read_inf265(source))


def verify_inf265() -> str:
    return verify_cached(SOURCES["inf265"])


def verify_cached(name: str) -> str:
    """A one-line summary of a cached digit-box dataset, or an error saying how to fix it."""
    tensors = tensor_cache.load_tensors(name)
    heldout_file = heldout_dir(name) / HELDOUT_FILE
    if not heldout_file.exists():
        raise FileNotFoundError(f"{heldout_file} is missing: run `python datasets.py prepare "
                                f"{name}` again")
    heldout = torch.load(heldout_file, weights_only=True)
    validate_splits({**tensors, **heldout}, name)
    return (f"localisation {len(tensors['loc_train_X'])}/{len(tensors['loc_val_X'])}/"
            f"{len(tensors['loc_test_X'])}, detection {len(tensors['det_train_X'])}/"
            f"{len(tensors['det_val_X'])}/{len(tensors['det_test_X'])} (train/val/test)")


DATASETS = [DatasetSpec(
    name=SOURCES["inf265"], kind="real",
    description="a4_detection: UiB INF265 project 2 tensors (localization_*, detection_*, "
                "list_y_true_*.pt) read from a folder",
    prepare=prepare_inf265, verify=verify_inf265,
    is_ready=lambda: tensor_cache.is_cached(SOURCES["inf265"]))]

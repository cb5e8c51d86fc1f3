"""INF265's digit data from its own files (UiB INF265, project 2).

The course ships ``localization_<split>.pt`` and ``detection_<split>.pt`` (each a
``TensorDataset`` of images and labels, or a pair of tensors) and ``list_y_true_<split>.pt`` (per
detection image a ``Tensor[K, 6]`` or a list of ``Tensor[6]``) for the splits train, val and
test. :func:`read_inf265` reads what students get into one dictionary of tensors
(``RELEASED_KEYS``): every split except the labels of the detection test images, which it never
opens (they are the held-out labels: the grading side reads them with :func:`read_pair` and
:func:`read_object_lists`). :func:`validate_splits` checks such a dictionary against the label
format of :mod:`vislab.data.inf265_labels`; the kit's own builders of digit scenes produce the
same dictionary.
"""

from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from vislab.data.inf265_labels import (
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

SPLITS = ("train", "val", "test")
#: ``loc_<split>_X``, ``loc_<split>_y`` (N, 6), ``det_<split>_X``, ``det_<split>_y`` (N, 2, 3, 6),
#: ``det_<split>_objects`` (M, 7), see :func:`vislab.data.inf265_labels.flatten_objects`
SPLIT_KEYS = tuple(f"{task}_{split}_{part}" for split in SPLITS
                   for task, parts in (("loc", ("X", "y")), ("det", ("X", "y", "objects")))
                   for part in parts)
#: what students get: everything but the detection test split (training and validation data of
#: both tasks, the localisation test split with its labels) ...
TRAINING_KEYS = tuple(key for key in SPLIT_KEYS if not key.startswith("det_test_"))
#: ... and the detection test images, without their labels
RELEASED_KEYS = (*TRAINING_KEYS, "det_test_X")


def validate_splits(tensors: dict[str, torch.Tensor], where: str) -> None:
    """Check a dictionary of splits against the INF265 format.

    It must hold ``TRAINING_KEYS``; the detection test split may come without labels (the
    released part) or without anything (a cache of training data), and is checked when there.
    """
    missing = [key for key in TRAINING_KEYS if key not in tensors]
    if missing:
        raise InvalidLabels(f"{where}: missing {', '.join(missing)}")
    for split in SPLITS:
        X, y = tensors[f"loc_{split}_X"], tensors[f"loc_{split}_y"]
        validate_images(X, f"{where} localisation {split}")
        validate_localization_labels(y, LOCALIZATION_CLASSES, f"{where} localisation {split}")
        _same_length(X, y, f"{where} localisation {split}")
        validate_detection_split(tensors.get(f"det_{split}_X"), tensors.get(f"det_{split}_y"),
                                 tensors.get(f"det_{split}_objects"), f"{where} detection {split}")


def validate_detection_split(X: torch.Tensor | None, y: torch.Tensor | None,
                             objects: torch.Tensor | None, where: str) -> None:
    """Check a detection split: images ``X``, grid labels ``y`` and flattened ``objects``
    (:func:`vislab.data.inf265_labels.flatten_objects`), each checked when given; labels come
    as a pair (``y`` and ``objects``)."""
    if X is not None:
        validate_images(X, where)
    if (y is None) != (objects is None):
        raise InvalidLabels(f"{where}: the grid labels and the object lists come together")
    if y is None:
        return
    validate_grid_labels(y, DETECTION_CLASSES, where)
    if X is not None:
        _same_length(X, y, where)
    rows_per_image = unflatten_objects(objects, len(y))
    for index, rows in enumerate(rows_per_image):
        validate_objects(rows, DETECTION_CLASSES, f"{where} image {index}")
    cells, counted = int(y[..., 0].sum()), sum(len(rows) for rows in rows_per_image)
    if cells > counted:
        raise InvalidLabels(f"{where}: the grid labels hold {cells} digits but the object lists "
                            f"only {counted}; are they the same images?")


def read_inf265(directory: str | Path) -> dict[str, torch.Tensor]:
    """Read the course's files from ``directory`` into ``RELEASED_KEYS`` tensors.

    Expects ``localization_<split>.pt`` and ``detection_<split>.pt`` (each a ``TensorDataset``
    of images and labels, or a pair of tensors) for the splits train, val and test, and
    ``list_y_true_<split>.pt`` (per detection image a ``Tensor[K, 6]`` or a list of
    ``Tensor[6]``) for train and val. Of ``detection_test.pt`` only the images are kept.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory; give the folder that holds "
                                "localization_train.pt, detection_train.pt, "
                                "list_y_true_train.pt...")
    tensors = {}
    for split in SPLITS:
        tensors[f"loc_{split}_X"], tensors[f"loc_{split}_y"] = read_pair(
            directory / f"localization_{split}.pt")
        X, y = read_pair(directory / f"detection_{split}.pt")
        tensors[f"det_{split}_X"] = X
        if split != "test":
            tensors[f"det_{split}_y"] = y
            tensors[f"det_{split}_objects"] = flatten_objects(
                read_object_lists(directory / f"list_y_true_{split}.pt"))
    validate_splits(tensors, str(directory))
    return tensors


def read_pair(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)`` of one of the course's ``TensorDataset`` files (labels as float)."""
    content = _load_course_file(path)
    pair = content.tensors if isinstance(content, TensorDataset) else content
    if not isinstance(pair, list | tuple) or len(pair) != 2 \
            or not all(isinstance(t, torch.Tensor) for t in pair):
        raise InvalidLabels(f"{path.name}: expected a TensorDataset of (images, labels) or a pair "
                            f"of tensors, got {type(content).__name__}")
    return pair[0], pair[1].float()


def read_object_lists(path: Path) -> list[torch.Tensor]:
    """The objects of each image (``Tensor[K, 6]``) of a course's ``list_y_true_*.pt`` file."""
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

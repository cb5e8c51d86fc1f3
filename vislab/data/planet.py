"""Planet "Understanding the Amazon from space": 17 labels per 4-band satellite chip.

The Kaggle layout is read, under one folder::

    train_v2.csv                 image_name,tags   (tags separated by spaces)
    train-tif-v2/<image_name>.tif  uint16, 256x256x4, bands in the order blue, green, red, NIR

Items come out as float tensors in the order red, green, blue, near-infrared, holding the raw
sensor values (normalise them with statistics of the training images). The split follows the
IN5400 2022 assignment: scikit-learn's ``train_test_split(test_size=0.33, random_state=0)``
gives training and the rest; we cut the rest in two (same seed) for validation and a test set
that students see as images only (:class:`PlanetImages`); its labels are read by the grading
side alone (``autograder/checks/a1_multilabel/heldout.py``).

Kaggle data cannot be downloaded without an account: get ``train_v2.csv`` and
``train-tif-v2.tar.7z`` from kaggle.com/c/planet-understanding-the-amazon-from-space, unpack
them into one folder and run ``python datasets.py prepare planet --from FOLDER``.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
import torch
from sklearn.model_selection import train_test_split

from vislab.data.registry import DatasetSpec
from vislab.paths import dataset_dir

PLANET_CLASSES = ("agriculture", "artisinal_mine", "bare_ground", "blooming", "blow_down",
                  "clear", "cloudy", "conventional_mine", "cultivation", "habitation", "haze",
                  "partly_cloudy", "primary", "road", "selective_logging", "slash_burn", "water")
BANDS = ("red", "green", "blue", "nir")
#: position of red, green, blue, nir in the files' band order (blue, green, red, nir)
FILE_BAND_ORDER = (2, 1, 0, 3)
LABELS_FILE = "train_v2.csv"
IMAGE_FOLDER = "train-tif-v2"


def read_tags(csv_path: str | Path, classes: Sequence[str] = PLANET_CLASSES,
              ) -> tuple[list[str], torch.Tensor]:
    """``(image_names, labels)`` from ``train_v2.csv``; ``labels`` (Tensor[N, 17], float 0/1)."""
    csv_path = Path(csv_path)
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    if list(frame.columns) != ["image_name", "tags"]:
        raise ValueError(f"{csv_path} has the columns {list(frame.columns)}; expected "
                         "['image_name', 'tags'] (Kaggle's train_v2.csv)")
    column = {name: index for index, name in enumerate(classes)}
    labels = torch.zeros(len(frame), len(classes))
    for row, tags in enumerate(frame["tags"]):
        for tag in tags.split():
            if tag not in column:
                raise ValueError(f"{csv_path}: image {frame['image_name'][row]} has the unknown "
                                 f"tag {tag!r}; known tags: {', '.join(classes)}")
            labels[row, column[tag]] = 1
    return frame["image_name"].tolist(), labels


def read_bands(path: str | Path) -> torch.Tensor:
    """A 4-band TIFF as float Tensor[4, H, W] in the order red, green, blue, nir (raw values)."""
    array = tifffile.imread(path)
    if array.ndim != 3 or 4 not in (array.shape[0], array.shape[2]):
        raise ValueError(f"{path} has shape {array.shape}; expected a 4-band image (H, W, 4)")
    if array.shape[2] != 4:  # stored band-first
        array = np.moveaxis(array, 0, 2)
    return torch.from_numpy(array[:, :, FILE_BAND_ORDER].astype(np.float32)).permute(2, 0, 1)


def split_indices(count: int, seed: int = 0) -> dict[str, list[int]]:
    """Seeded ``train`` (67%), ``val`` and ``test`` (16.5% each) positions of ``count`` images."""
    if count < 6:
        raise ValueError(f"{count} images cannot be split into train, val and test")
    train, rest = train_test_split(list(range(count)), test_size=0.33, random_state=seed)
    val, test = train_test_split(rest, test_size=0.5, random_state=seed)
    return {"train": sorted(train), "val": sorted(val), "test": sorted(test)}


class PlanetImages(torch.utils.data.Dataset):
    """The Planet chips ``names`` (in that order), without labels: a test set as students see it.

    Items are ``X`` (Tensor[4, H, W], red, green, blue, nir) after ``transform``.
    """

    def __init__(self, root: str | Path, names: Sequence[str], transform: Callable | None = None):
        self.root, self.names, self.transform = Path(root), list(names), transform

    def __len__(self) -> int:
        return len(self.names)

    def image(self, index: int) -> torch.Tensor:
        path = self.root / IMAGE_FOLDER / f"{self.names[index]}.tif"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: {LABELS_FILE} lists it; unpack "
                                    f"train-tif-v2 into {self.root}")
        X = read_bands(path)
        return self.transform(X) if self.transform else X

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.image(index)


class PlanetChips(PlanetImages):
    """Some of the Planet chips: items ``(X, y)``, ``X`` (Tensor[4, H, W]) after ``transform``.

    ``y`` is Tensor[17] (float 0/1); ``names[i]`` the image name of item ``i``.
    """

    def __init__(self, root: str | Path, indices: Sequence[int] | None = None,
                 transform: Callable | None = None):
        names, labels = read_tags(Path(root) / LABELS_FILE)
        if indices is not None:
            names, labels = [names[i] for i in indices], labels[list(indices)]
        super().__init__(root, names, transform)
        self.classes, self.labels = PLANET_CLASSES, labels

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.image(index), self.labels[index]


# --- where a prepared copy lives --------------------------------------------------------------

ROOT_FILE = "root.txt"


def prepared_root() -> Path:
    record = dataset_dir("planet") / ROOT_FILE
    if not record.exists():
        raise FileNotFoundError("Planet is not prepared: download train_v2.csv and train-tif-v2 "
                                "from kaggle.com/c/planet-understanding-the-amazon-from-space, "
                                "then run `python datasets.py prepare planet --from FOLDER`")
    return Path(record.read_text().strip())


def prepare(source: Path | None) -> Path:
    if source is None:
        prepared_root()  # raises: Kaggle data needs an account, there is nothing to download
    root = Path(source).expanduser().resolve()
    if not (root / LABELS_FILE).exists() or not (root / IMAGE_FOLDER).is_dir():
        raise FileNotFoundError(f"{root} must hold {LABELS_FILE} and the folder {IMAGE_FOLDER}/")
    read_tags(root / LABELS_FILE)
    (dataset_dir("planet") / ROOT_FILE).write_text(str(root) + "\n")
    return root


def verify() -> str:
    root = prepared_root()
    names, labels = read_tags(root / LABELS_FILE)
    missing = [n for n in names if not (root / IMAGE_FOLDER / f"{n}.tif").exists()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} of {len(names)} chips are missing from "
                                f"{root / IMAGE_FOLDER} (e.g. {missing[:3]})")
    return f"Planet at {root}: {len(names)} chips, {labels.sum(1).mean():.2f} labels/chip"


DATASETS = [
    DatasetSpec(
        name="planet", kind="real",
        description="Planet Amazon (Kaggle): 17 labels per 4-band (RGB + NIR) satellite chip",
        prepare=prepare, verify=verify,
        is_ready=lambda: (dataset_dir("planet") / ROOT_FILE).exists(),
    ),
]

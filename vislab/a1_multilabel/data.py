"""The data of assignment a1 (multi-label prediction), whichever dataset is chosen.

``VISLAB_A1_DATASET`` picks it (no notebook edit):

- ``scenes`` (default): the embedded 64x64 RGB + NIR scenes, 20 labels
  (:mod:`vislab.a1_multilabel.scenes`), no download;
- ``voc2012`` / ``voc2007``: PASCAL VOC, 20 labels, RGB (:mod:`vislab.data.voc`);
- ``planet``: Planet Amazon, 17 labels, RGB + NIR (:mod:`vislab.data.planet`).

:func:`load_multilabel` gives training and validation sets of ``(X, y)`` and a test set of
images only: its labels live on the grading side alone (``autograder/checks/a1_multilabel/
heldout.py``), never in this package. ``X`` is a
float Tensor[bands, H, W], each band normalised (RGB with the backbone's statistics from
:func:`vislab.pretrained.input_normalization`, NIR with the training set's); ``y`` is a float
Tensor[num_classes] of 0/1.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import Dataset
from torchvision.transforms import v2

from vislab.a1_multilabel import scenes as multilabel_scenes
from vislab.data import planet, voc
from vislab.data.choice import chosen_dataset
from vislab.data.image_tensors import NormalizedImages
from vislab.pretrained import input_normalization

ASSIGNMENT = "a1_multilabel"
DEFAULT = "scenes"
CHOICES = ("scenes", "voc2012", "voc2007", "planet")
PLANET_STATS_SAMPLE = 200


@dataclass(frozen=True)
class MultilabelData:
    """One dataset of a1, ready for DataLoaders.

    ``train`` and ``val`` yield ``(X, y)``; ``test`` yields ``X`` only, ``test_ids[i]`` being the
    id of its item ``i`` (the ``Id`` of the predictions CSV). ``bands`` names the channels of
    ``X`` in order; ``mean``/``std`` are the per-band statistics ``X`` was normalised with.
    """

    name: str
    description: str
    classes: tuple[str, ...]
    bands: tuple[str, ...]
    train: Dataset
    val: Dataset
    test: Dataset
    test_ids: tuple
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def select_bands(self, bands: Sequence[str]) -> "MultilabelData":
        """The same images with only ``bands`` (e.g. ``("red", "green", "blue")``), in order."""
        unknown = [band for band in bands if band not in self.bands]
        if unknown:
            raise ValueError(f"{self.name} has the bands {self.bands}, not {unknown}")
        index = [self.bands.index(band) for band in bands]
        return replace(self, bands=tuple(bands), train=SelectBands(self.train, index),
                       val=SelectBands(self.val, index), test=SelectBands(self.test, index),
                       mean=tuple(self.mean[i] for i in index),
                       std=tuple(self.std[i] for i in index))

    def labels(self, split: str) -> torch.Tensor:
        """All labels of ``train`` or ``val`` (Tensor[N, num_classes]) without reading images."""
        return _labels_of(getattr(self, split))

    def unnormalize(self, X: torch.Tensor) -> torch.Tensor:
        """Images (Tensor[..., bands, H, W]) back in [0, 1] for showing them."""
        mean = torch.tensor(self.mean)[:, None, None]
        std = torch.tensor(self.std)[:, None, None]
        return (X * std + mean).clamp(0, 1)


class SelectBands(Dataset):
    """Items of ``dataset`` with only the channels ``index`` of their image."""

    def __init__(self, dataset: Dataset, index: Sequence[int]):
        self.dataset, self.index = dataset, list(index)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int):
        item = self.dataset[i]
        if isinstance(item, tuple):
            return item[0][self.index], *item[1:]
        return item[self.index]


def _labels_of(dataset: Dataset) -> torch.Tensor:
    if isinstance(dataset, SelectBands):
        return _labels_of(dataset.dataset)
    if isinstance(dataset, torch.utils.data.Subset):
        return _labels_of(dataset.dataset)[list(dataset.indices)]
    return dataset.labels.float()


def dataset_name(name: str | None = None) -> str:
    """``name``, else ``$VISLAB_A1_DATASET``, else ``"scenes"``; checked against the choices."""
    return chosen_dataset(ASSIGNMENT, CHOICES, DEFAULT, name)


def load_multilabel(name: str | None = None, image_size: int | None = None) -> MultilabelData:
    """The chosen dataset (see the module docstring). ``image_size``: side of the square inputs
    of VOC and Planet (default 224, as the original assignments); the scenes are 64x64."""
    name = dataset_name(name)
    if name == "scenes":
        return _load_scenes()
    if name == "planet":
        return _load_planet(image_size or 224)
    return _load_voc(name.removeprefix("voc"), image_size or 224)


def _load_scenes() -> MultilabelData:
    tensors = multilabel_scenes.load()
    test_X = multilabel_scenes.load_test_images()
    rgb_mean, rgb_std = input_normalization()
    nir = tensors["train_X"][:, 3].float() / 255
    mean, std = (*rgb_mean, nir.mean().item()), (*rgb_std, nir.std().item())
    return MultilabelData(
        name="scenes",
        description=("embedded scenes (vislab.a1_multilabel.scenes): 64x64 images in red, green, "
                     "blue and near-infrared composed from shipped photos and textures; 20 labels, "
                     "3 of them (heat_source, ir_tag, irrigation) visible only in the NIR band"),
        classes=multilabel_scenes.CLASSES, bands=multilabel_scenes.BANDS,
        train=NormalizedImages(tensors["train_X"], tensors["train_y"].float(), mean, std),
        val=NormalizedImages(tensors["val_X"], tensors["val_y"].float(), mean, std),
        test=NormalizedImages(test_X, None, mean, std),
        test_ids=tuple(range(len(test_X))), mean=mean, std=std)


def val_test_positions(count: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """Seeded validation and test positions of a split of ``count`` images cut in two at random
    (VOC's val split: one half validates, the other is the test set). Public: the grading side
    cuts the same way to find the test images' labels.

    >>> val_test_positions(4)
    ([0, 1], [2, 3])
    """
    val, test = train_test_split(list(range(count)), test_size=0.5, random_state=seed)
    return sorted(val), sorted(test)


def _load_voc(year: str, image_size: int) -> MultilabelData:
    root = voc.prepared_root(year)
    mean, std = input_normalization()
    resize = [v2.Resize(image_size, antialias=True), v2.CenterCrop(image_size)]
    scale = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    augment = v2.Compose([*resize, v2.RandomHorizontalFlip(), *scale])
    train = voc.VocMultilabel(root, "train", augment)
    evaluate = v2.Compose([*resize, *scale])
    val_ids = voc.VocMultilabel(root, "val").ids
    val_part, test_part = val_test_positions(len(val_ids))
    val = voc.VocMultilabel(root, "val", evaluate, indices=val_part)
    test = voc.VocImages(root, [val_ids[i] for i in test_part], evaluate)
    return MultilabelData(
        name=f"voc{year}",
        description=(f"PASCAL VOC {year} from {root}: training = its train split; its val split "
                     f"cut in two (seed 0) for validation and the test set; "
                     f"{image_size}x{image_size}"),
        classes=voc.VOC_CLASSES, bands=("red", "green", "blue"), train=train, val=val,
        test=test, test_ids=tuple(test.ids), mean=tuple(mean), std=tuple(std))


def _load_planet(image_size: int) -> MultilabelData:
    root = planet.prepared_root()
    names, _ = planet.read_tags(root / planet.LABELS_FILE)
    parts = planet.split_indices(len(names))
    sample = planet.PlanetChips(root, parts["train"][:PLANET_STATS_SAMPLE])
    X = torch.stack([sample[i][0] for i in range(len(sample))])  # (n, 4, H, W) raw values
    mean, std = X.mean(dim=(0, 2, 3)).tolist(), X.std(dim=(0, 2, 3)).tolist()
    resize = [v2.Resize(image_size, antialias=True), v2.Normalize(mean, std)]
    train_tf = v2.Compose([*resize, v2.RandomHorizontalFlip(), v2.RandomVerticalFlip()])
    train = planet.PlanetChips(root, parts["train"], train_tf)
    val = planet.PlanetChips(root, parts["val"], v2.Compose(resize))
    test = planet.PlanetImages(root, [names[i] for i in parts["test"]], v2.Compose(resize))
    return MultilabelData(
        name="planet",
        description=(f"Planet Amazon from {root}: train_test_split(test_size=0.33, random_state=0) "
                     f"as in IN5400 2022, the 33% cut in two for validation and the test set; "
                     f"4 bands at {image_size}x{image_size}"),
        classes=planet.PLANET_CLASSES, bands=planet.BANDS, train=train, val=val,
        test=test, test_ids=tuple(test.names), mean=tuple(mean), std=tuple(std))

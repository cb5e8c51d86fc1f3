"""The data of a3: a 10-class 32x32 image set, split and wrapped for training.

Which set is one setting: ``$VISLAB_A3_DATASET`` = ``textured-digits`` (the embedded default)
or ``cifar10`` (after ``python datasets.py prepare cifar10 --from DIR``). Test images come without
labels (:mod:`vislab.data.test_inputs`): the held-out labels live on the grading side only.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch

from vislab.a3_cifar import textured_digits
from vislab.data import cifar10, tensor_cache
from vislab.data.choice import chosen_dataset
from vislab.data.image_tensors import NormalizedImages
from vislab.data.loaders import make_loader, split_train_val
from vislab.data.test_inputs import load_test_inputs

ASSIGNMENT = "a3_cifar"
DEFAULT = textured_digits.NAME
#: name -> (prepare, class names); prepare builds an embedded set, a real one must be prepared first
SOURCES = {
    textured_digits.NAME: (textured_digits.prepare, lambda: textured_digits.CLASS_NAMES),
    cifar10.NAME: (None, cifar10.class_names),
}
#: TDT4265's normalisation: (x - 0.5) / 0.25 on every channel
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


@dataclass
class ImageClassificationData:
    """Training, validation and unlabelled test data of one dataset."""

    name: str
    class_names: list[str]
    train_X: torch.Tensor  # Tensor[N_train, 3, 32, 32] uint8
    train_y: torch.Tensor
    val_X: torch.Tensor
    val_y: torch.Tensor
    test_X: torch.Tensor  # Tensor[N_test, 3, 32, 32] uint8, no labels
    test_ids: list[int]

    def loaders(self, batch_size: int, seed: int = 0, train_transform: Callable | None = None,
                image_size: int | None = None, mean=MEAN, std=STD, eval_batch_size: int = 500):
        """(train_loader, val_loader, test_loader); only training is shuffled and augmented."""
        def image_set(X, y=None, transform=None):
            return NormalizedImages(X, y, mean, std, transform, image_size)

        return (make_loader(image_set(self.train_X, self.train_y, train_transform), batch_size,
                            shuffle=True, seed=seed),
                make_loader(image_set(self.val_X, self.val_y), eval_batch_size),
                make_loader(image_set(self.test_X), eval_batch_size))


def dataset_name() -> str:
    """The a3 dataset chosen by ``$VISLAB_A3_DATASET`` (default ``textured-digits``)."""
    return chosen_dataset(ASSIGNMENT, SOURCES, DEFAULT)


def _cached(name: str) -> dict[str, torch.Tensor]:
    prepare, _ = SOURCES[name]
    if not tensor_cache.is_cached(name):
        if prepare is None:
            raise FileNotFoundError(f"dataset {name!r} is not prepared: run "
                                    f"`python datasets.py prepare {name} --from <folder>`")
        prepare()
    return tensor_cache.load_tensors(name)


def load_a3_data(val_fraction: float = 0.1, seed: int = 0) -> ImageClassificationData:
    """Load (building the embedded set on first use) and split the a3 dataset."""
    name = dataset_name()
    data = _cached(name)
    X, y = data["train_X"], data["train_y"]
    test_X = load_test_inputs(name)["test_X"]
    train, val = split_train_val(torch.utils.data.TensorDataset(X, y), val_fraction, seed)
    return ImageClassificationData(
        name=name, class_names=SOURCES[name][1](),
        train_X=X[train.indices], train_y=y[train.indices],
        val_X=X[val.indices], val_y=y[val.indices],
        test_X=test_X, test_ids=list(range(len(test_X))))

"""``textured-digits``: the embedded default of a3, a CIFAR-10-shaped task built from shipped data.

32x32 RGB images in 10 classes: a handwritten digit from ``sklearn.datasets.load_digits``
(scaled, rotated, sheared, placed anywhere, in a random colour and opacity) over a random crop
of a shipped photograph or texture, with a small distracting fragment of another digit and
pixel noise. The class is the big digit. Test images use digits written by other people than
the training images (the last 300 of the 1,797), so the test set measures generalisation.

Unlike CIFAR-10's 50,000 + 10,000 it has 12,000 training and 2,000 test images, sized for a
2-core CPU; it is hard enough that the given baseline CNN is clearly beaten by a better one.

Only the training images are built here. The test images are drawn by the grading side
(``autograder/checks/a3_cifar/heldout.py``) with the same code from a seed that only the
instructor's key gives, so their labels cannot be rebuilt from this module.
"""

import torch

from vislab.data import tensor_cache
from vislab.data.glyphs_over_photos import compose_images
from vislab.data.registry import DatasetSpec
from vislab.seeds import seeded_generator

NAME = "textured-digits"
CLASS_NAMES = [str(digit) for digit in range(10)]
NUM_TRAIN, NUM_TEST = 12_000, 2_000
TEST_WRITERS = 300  # the last digits of load_digits are kept for the test set
SEED = 0


def glyphs_and_labels() -> tuple[torch.Tensor, torch.Tensor]:
    """sklearn's 1,797 digits as glyphs (Tensor[1797, 8, 8] in [0, 1]) and labels (Tensor[1797])."""
    from sklearn.datasets import load_digits  # only when building: grading never builds

    digits = load_digits()
    return (torch.tensor(digits.images, dtype=torch.float32) / 16,
            torch.tensor(digits.target, dtype=torch.int64))


def writer_pool(split: str) -> torch.Tensor:
    """Indices of the glyphs a split draws from: test images use the last ``TEST_WRITERS``."""
    count = len(glyphs_and_labels()[0])
    return (torch.arange(count - TEST_WRITERS) if split == "train"
            else torch.arange(count - TEST_WRITERS, count))


def draw_images(pool: torch.Tensor, count: int, generator: torch.Generator,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` images (Tensor[count, 3, 32, 32] uint8) of digits drawn from the glyphs ``pool``
    with ``generator``, and their labels (Tensor[count])."""
    glyphs, labels = glyphs_and_labels()
    picked = pool[torch.randint(len(pool), (count,), generator=generator)]
    others = pool[torch.randint(len(pool), (count,), generator=generator)]
    return compose_images(glyphs[picked], glyphs[others], generator), labels[picked]


def build(num_train: int = NUM_TRAIN) -> dict[str, torch.Tensor]:
    """The training images: ``train_X`` (Tensor[num_train, 3, 32, 32] uint8) and ``train_y``,
    the same on every machine (seed ``SEED``). The test images are drawn by the grading side
    from a secret seed and released without labels (:mod:`vislab.data.test_inputs`)."""
    train_X, train_y = draw_images(writer_pool("train"), num_train, seeded_generator(SEED))
    return {"train_X": train_X, "train_y": train_y}


def prepare(source=None) -> None:
    """Build and cache the training images."""
    tensor_cache.save_tensors(NAME, build())


def _verify() -> str:
    data = tensor_cache.load_tensors(NAME)
    return f"{len(data['train_X'])} training images, hash ok"


DATASETS = [
    DatasetSpec(
        name=NAME, kind="embedded",
        description="a3 default: 32x32 RGB, 10 classes, handwritten digits over shipped photos",
        prepare=prepare,
        verify=_verify,
        is_ready=lambda: tensor_cache.is_cached(NAME),
    ),
]

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

import math

import torch
import torch.nn.functional as F

from vislab.data import tensor_cache
from vislab.data.photo_sources import photo_sources
from vislab.data.registry import DatasetSpec
from vislab.seeds import seeded_generator

NAME = "textured-digits"
CLASS_NAMES = [str(digit) for digit in range(10)]
IMAGE_SIZE = 32
NUM_TRAIN, NUM_TEST = 12_000, 2_000
TEST_WRITERS = 300  # the last digits of load_digits are kept for the test set
SEED = 0


def _affine(n: int, scale: torch.Tensor, angle: torch.Tensor, shift: torch.Tensor,
            shear: torch.Tensor) -> torch.Tensor:
    """Sampling matrices (Tensor[n, 2, 3]) mapping output coordinates to source coordinates."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos / scale, (-sin + shear) / scale
    theta[:, 1, 0], theta[:, 1, 1] = sin / scale, cos / scale
    theta[:, :, 2] = shift
    return theta


def _digit_masks(glyphs: torch.Tensor, scale: torch.Tensor, generator: torch.Generator,
                 max_shift: float) -> torch.Tensor:
    """Warp 8x8 glyphs (Tensor[n, 8, 8] in [0, 1]) to 32x32 masks (Tensor[n, 1, 32, 32])."""
    n = len(glyphs)
    angle = (torch.rand(n, generator=generator) - 0.5) * math.radians(40)
    shear = (torch.rand(n, generator=generator) - 0.5) * 0.4
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 2 * max_shift
    theta = _affine(n, scale, angle, shift, shear)
    grid = F.affine_grid(theta, (n, 1, IMAGE_SIZE, IMAGE_SIZE), align_corners=False)
    blurred = F.grid_sample(glyphs[:, None], grid, mode="bilinear", padding_mode="zeros",
                            align_corners=False)
    return torch.sigmoid((blurred - 0.35) * 12)  # crisp pen strokes, not a blurred 8x8 blob


def _backgrounds(n: int, generator: torch.Generator) -> torch.Tensor:
    """Random crops of shipped photos, resized to Tensor[n, 3, 32, 32] in [0, 1]."""
    sources = [torch.from_numpy(image).permute(2, 0, 1).float() / 255
               for image in photo_sources().values()]
    choice = torch.randint(len(sources), (n,), generator=generator)
    out = torch.empty(n, 3, IMAGE_SIZE, IMAGE_SIZE)
    for index in range(len(sources)):
        rows = (choice == index).nonzero().flatten()
        if len(rows) == 0:
            continue
        zoom = 0.08 + 0.3 * torch.rand(len(rows), generator=generator)  # crop side / image side
        centre = (torch.rand(len(rows), 2, generator=generator) - 0.5) * 2 * (1 - zoom[:, None])
        theta = torch.zeros(len(rows), 2, 3)
        theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = zoom, zoom, centre
        grid = F.affine_grid(theta, (len(rows), 3, IMAGE_SIZE, IMAGE_SIZE), align_corners=False)
        source = sources[index][None].expand(len(rows), -1, -1, -1)
        out[rows] = F.grid_sample(source, grid, mode="bilinear", align_corners=False)
    return out


def _render(glyphs: torch.Tensor, distractors: torch.Tensor, generator: torch.Generator,
            ) -> torch.Tensor:
    """Compose images (Tensor[n, 3, 32, 32] uint8) of ``glyphs`` over photo crops."""
    n = len(glyphs)
    background = _backgrounds(n, generator)
    mean = background.mean(dim=(2, 3), keepdim=True)
    background = mean + 0.6 * (background - mean)  # busy, but quieter than the digit
    scale = 0.65 + 0.3 * torch.rand(n, generator=generator)
    digit = _digit_masks(glyphs, scale, generator, max_shift=0.25)
    fragment = _digit_masks(distractors, 0.3 + 0.15 * torch.rand(n, generator=generator),
                            generator, max_shift=0.9)
    colour = torch.rand(n, 3, 1, 1, generator=generator)
    colour = 0.25 * colour + 0.75 * (1 - mean)  # mostly, not always, visible on its background
    opacity = 0.7 + 0.3 * torch.rand(n, 1, 1, 1, generator=generator)
    image = background * (1 - opacity * digit) + colour * opacity * digit
    fragment_colour = torch.rand(n, 3, 1, 1, generator=generator)
    image = image * (1 - 0.3 * fragment) + fragment_colour * 0.3 * fragment
    noise = 0.04 * torch.rand(n, 1, 1, 1, generator=generator)
    image = image + noise * torch.randn(image.shape, generator=generator)
    return (image.clamp(0, 1) * 255).round().to(torch.uint8)


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
    return _render(glyphs[picked], glyphs[others], generator), labels[picked]


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

"""Held-out photographs for a2_bn_folding: 64x64 RGB crops the kit's checkpoint never saw.

The kit's own resnet18 checkpoint is pretrained on the photos of
:mod:`vislab.data.photo_sources`; these crops come from the photographs that installed
packages ship and that list leaves out: the two views of ``skimage.data.stereo_motorcycle``
(a motorbike in a garage, photographed from two positions). Crops have a random position and
side (seeded), are resized to 64x64 with antialiasing and cached as uint8 tensors verified by
hash.

``VISLAB_A2_DATASET`` chooses the images a2 uses: ``heldout-photos`` (default) or a folder of
your own JPEG/PNG files (e.g. 64 ImageNet validation images when ImageNet weights are on disk),
each resized (shorter side) and centre-cropped to the crop size.
"""

from pathlib import Path

import numpy as np
import skimage.data
import torch
from PIL import Image
from torchvision.transforms import v2

from vislab.data.choice import chosen_dataset, dataset_variable
from vislab.data.registry import DatasetSpec
from vislab.data.tensor_cache import is_cached, load_tensors, save_tensors
from vislab.seeds import seeded_generator

NAME = "heldout-photos"
ASSIGNMENT = "a2_bn_folding"
VARIABLE = dataset_variable(ASSIGNMENT)
CROP_SIZE = 64
CROPS_PER_SOURCE = 600
#: crop side in pixels of the source image, before resizing to CROP_SIZE
CROP_SIDES = (96, 256)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def source_images() -> dict[str, np.ndarray]:
    """The photographs the crops come from, as uint8 arrays (H, W, 3)."""
    left, right, _disparity = skimage.data.stereo_motorcycle()
    return {"motorcycle_left": left, "motorcycle_right": right}


def build(seed: int = 0) -> dict[str, torch.Tensor]:
    """Crops of every source image: ``X`` (uint8 Tensor[N, 3, 64, 64]) and ``source`` (Tensor[N]).

    Crops are interleaved by source (crop ``i`` comes from source ``i % 2``), so any prefix
    holds every source in equal shares.
    """
    generator = seeded_generator(seed)
    per_source = []
    for image in source_images().values():
        image = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
        height, width = image.shape[1:]
        crops = []
        for _ in range(CROPS_PER_SOURCE):
            side = int(torch.randint(CROP_SIDES[0], CROP_SIDES[1] + 1, (1,), generator=generator))
            top = int(torch.randint(0, height - side + 1, (1,), generator=generator))
            left = int(torch.randint(0, width - side + 1, (1,), generator=generator))
            crops.append(v2.functional.resized_crop(image, top, left, side, side,
                                                    [CROP_SIZE, CROP_SIZE], antialias=True))
        per_source.append(torch.stack(crops))
    X = torch.stack(per_source, dim=1).flatten(0, 1)  # (N, 3, 64, 64), sources interleaved
    source = torch.arange(len(per_source)).repeat(CROPS_PER_SOURCE)
    return {"X": X.contiguous(), "source": source}


def load_heldout_photos() -> dict[str, torch.Tensor]:
    """The cached crops (built on first use): ``X`` uint8 (N, 3, 64, 64), ``source`` (N,)."""
    return load_tensors(NAME, build)


def read_image_folder(folder: str | Path, size: int = CROP_SIZE) -> torch.Tensor:
    """Every JPEG/PNG in ``folder`` (sorted by name), resized and centre-cropped to ``size``.

    Returns uint8 Tensor[N, 3, size, size]. Grey and RGBA images are converted to RGB.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{VARIABLE}={folder} is not a folder: set it to "
                                f"'{NAME}' or to a folder of .jpg/.png images")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"{folder} holds no .jpg or .png image: put some there or "
                                f"unset {VARIABLE} to use the embedded {NAME}")
    resize = v2.Compose([v2.Resize(size, antialias=True), v2.CenterCrop(size)])
    images = []
    for path in paths:
        with Image.open(path) as image:
            images.append(resize(v2.functional.pil_to_tensor(image.convert("RGB"))))
    return torch.stack(images)


def a2_images(num_images: int | None = None) -> tuple[torch.Tensor, str]:
    """The images a2 compares models on, and a sentence saying where they come from.

    ``VISLAB_A2_DATASET`` picks them (see the module docstring). Returns the first
    ``num_images`` (all when ``None``) as uint8 Tensor[N, 3, 64, 64].
    """
    choice = chosen_dataset(ASSIGNMENT, [NAME], NAME, folder_allowed=True)
    if choice == NAME:
        X = load_heldout_photos()["X"]
        where = (f"{NAME}: 64x64 crops of skimage's stereo_motorcycle photographs, which the "
                 "kit's checkpoint never saw")
    else:
        X = read_image_folder(choice)
        where = f"the images in {choice} ({VARIABLE})"
    if num_images is not None:
        if num_images > len(X):
            raise ValueError(f"asked for {num_images} images but {where} holds only {len(X)}")
        X = X[:num_images]
    return X, where


def _verify() -> str:
    tensors = load_tensors(NAME)
    return f"{NAME}: {len(tensors['X'])} crops of {len(source_images())} photographs"


DATASETS = [
    DatasetSpec(
        name=NAME, kind="embedded",
        description="64x64 crops of photographs the kit's checkpoint never saw (a2_bn_folding)",
        prepare=lambda source: save_tensors(NAME, build()),
        verify=_verify,
        is_ready=lambda: is_cached(NAME),
    ),
]

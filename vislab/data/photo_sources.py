"""The photographs and textures that installed packages ship, as one list of RGB images.

They are the raw material of the embedded datasets and of the kit's own pretraining task:
``skimage.data`` (photos, textures, microscopy, astronomy) and scikit-learn's two sample photos.
Grey images are turned into RGB by repeating their channel.
"""

from functools import cache
from pathlib import Path

import numpy as np
import torch

#: name -> loader; every image here ships inside an installed package (no download)
SKIMAGE_PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field",
                  "immunohistochemistry", "colorwheel", "camera", "coins", "moon", "page", "text",
                  "clock", "cell", "microaneurysms", "horse", "checkerboard"]
SKIMAGE_TEXTURES = ["brick", "grass", "gravel"]


def _to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = np.clip(image * 255 if image.max() <= 1 else image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.array(image[:, :, :3], copy=True, order="C")


def skimage_photo(name: str) -> np.ndarray:
    """The photograph ``skimage.data.<name>()`` (e.g. ``"chelsea"``) as a writable uint8 array
    (H, W, 3), read from the PNG file skimage ships: equal to what ``skimage.data`` gives,
    without the 0.15 s of skimage.io that its loaders import."""
    import skimage.data
    from PIL import Image

    with Image.open(Path(skimage.data.data_dir) / f"{name}.png") as image:
        return np.array(image.convert("RGB"))  # a copy: PIL's own buffer is read-only


@cache
def photo_sources() -> dict[str, np.ndarray]:
    """Every source image by name, as uint8 arrays of shape (H, W, 3)."""
    import skimage.data  # imported on first use: a graded notebook that never builds data
    from sklearn.datasets import load_sample_images  # does not pay the 0.7 s of these two

    sources = {name: _to_rgb_uint8(getattr(skimage.data, name)())
               for name in SKIMAGE_PHOTOS + SKIMAGE_TEXTURES}
    for name, image in zip(["china", "flower"], load_sample_images().images, strict=True):
        sources[name] = _to_rgb_uint8(image)
    return sources


@cache
def photo_tensors() -> dict[str, torch.Tensor]:
    """Every source image by name as a float tensor (Tensor[3, H, W] in [0, 1]), converted once."""
    return {name: torch.from_numpy(image).permute(2, 0, 1).float() / 255
            for name, image in photo_sources().items()}

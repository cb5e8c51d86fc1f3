"""A dataset of images kept as uint8 tensors and served as normalised floats, with labels when known.

Keeping the images as uint8 (a quarter of float32's memory) and normalising one item at a time is
how every embedded set of the kit is served to a DataLoader.
"""

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset


class NormalizedImages(Dataset):
    """``images`` (uint8 Tensor[N, bands, H, W]) served as ``(X, y)``, or ``X`` without ``labels``.

    ``X`` is a float Tensor[bands, H', W']: ``transform`` (e.g. a torchvision ``v2``
    augmentation) is applied to the uint8 image first, then each band is scaled to [0, 1] and
    normalised with ``mean``/``std`` (one value per band), then the image is resized (bilinear,
    antialiased) to ``image_size`` x ``image_size`` when that is given. ``y`` is
    ``labels[i]`` unchanged.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None,
                 mean: Sequence[float], std: Sequence[float], transform: Callable | None = None,
                 image_size: int | None = None):
        self.images, self.labels = images, labels
        self.mean = torch.tensor(mean, dtype=torch.float32)[:, None, None]
        self.std = torch.tensor(std, dtype=torch.float32)[:, None, None]
        self.transform, self.image_size = transform, image_size

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = self.images[i]
        if self.transform is not None:
            image = self.transform(image)
        X = (image.float() / 255 - self.mean) / self.std
        if self.image_size is not None and X.shape[-1] != self.image_size:
            X = F.interpolate(X[None], size=self.image_size, mode="bilinear", align_corners=False,
                              antialias=True)[0]
        return X if self.labels is None else (X, self.labels[i])

"""DataLoader helpers with seeded generators, so every run sees batches in the same order."""

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from vislab.seeds import seeded_generator


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = False, seed: int = 0,
                num_workers: int = 0) -> DataLoader:
    """A DataLoader whose shuffling depends only on ``seed``."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers,
                      generator=seeded_generator(seed))


def split_train_val(dataset: Dataset, val_fraction: float, seed: int = 0,
                    ) -> tuple[Subset, Subset]:
    """Split ``dataset`` at random (seeded) into training and validation subsets.

    >>> train, val = split_train_val(torch.utils.data.TensorDataset(torch.arange(10)), 0.2)
    >>> len(train), len(val)
    (8, 2)
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    n_val = max(1, round(len(dataset) * val_fraction))
    order = torch.randperm(len(dataset), generator=seeded_generator(seed)).tolist()
    return Subset(dataset, order[n_val:]), Subset(dataset, order[:n_val])

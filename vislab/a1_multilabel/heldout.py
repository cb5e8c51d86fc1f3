"""Held-out test labels of a multi-label dataset: written by the loaders, read by the autograder.

One CSV per dataset, ``heldout_dir(name)/test_labels.csv``: an ``Id`` column, then one 0/1
column per class. It never goes into ``starter/``; a student's loader gives test images only.
"""

from collections.abc import Sequence

import pandas as pd
import torch

from vislab.paths import heldout_dir

HELDOUT_FILE = "test_labels.csv"


def write_heldout_labels(name: str, ids: Sequence, labels: torch.Tensor,
                         classes: Sequence[str]) -> None:
    """Write ``labels`` (Tensor[N, C], 0/1) of the test ``ids`` for dataset ``name``."""
    if len(ids) != len(labels) or labels.shape[1] != len(classes):
        raise ValueError(f"{len(ids)} ids, labels of shape {tuple(labels.shape)} and "
                         f"{len(classes)} classes do not match")
    frame = pd.DataFrame(labels.numpy().astype(int), columns=list(classes))
    frame.insert(0, "Id", list(ids))
    frame.to_csv(heldout_dir(name) / HELDOUT_FILE, index=False)


def has_heldout_labels(name: str) -> bool:
    return (heldout_dir(name) / HELDOUT_FILE).exists()


def read_heldout_labels(name: str) -> tuple[list[str], torch.Tensor, tuple[str, ...]]:
    """``(ids, labels, classes)``: ids as strings, ``labels`` a float Tensor[N, C]."""
    path = heldout_dir(name) / HELDOUT_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: load the dataset once on this machine "
                                "(vislab.a1_multilabel.data.load_multilabel writes it)")
    frame = pd.read_csv(path, dtype={"Id": str})
    classes = tuple(frame.columns[1:])
    labels = torch.tensor(frame[list(classes)].to_numpy(), dtype=torch.float32)
    return frame["Id"].tolist(), labels, classes

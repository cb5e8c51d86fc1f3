"""The cache of a4's digit-box splits, whichever source built them.

Every source (the embedded digits, INF265's files, MNIST) produces the dictionary of tensors
:data:`vislab.data.inf265.SPLIT_KEYS`. :func:`store_splits` caches it under the source's name,
except the detection test labels (``HELDOUT_KEYS``), which go to ``vislab.paths.heldout_dir``.
"""

import torch

from vislab.data import tensor_cache
from vislab.data.inf265 import validate_splits
from vislab.paths import heldout_dir

#: value of ``VISLAB_A4_DATASET`` -> cached dataset name
SOURCES = {"digits": "digit-boxes", "inf265": "digit-boxes-inf265", "mnist": "digit-boxes-mnist"}
HELDOUT_KEYS = ("det_test_y", "det_test_objects")
HELDOUT_FILE = "detection_test.pt"


def store_splits(name: str, tensors: dict[str, torch.Tensor]) -> None:
    """Validate and cache the splits; the detection test labels go to the held-out folder."""
    validate_splits(tensors, name)
    tensor_cache.save_tensors(name, {k: v for k, v in tensors.items() if k not in HELDOUT_KEYS})
    torch.save({key: tensors[key] for key in HELDOUT_KEYS}, heldout_dir(name) / HELDOUT_FILE)


def verify_cached(name: str) -> str:
    """A one-line summary of a cached digit-box dataset, or an error saying how to fix it."""
    tensors = tensor_cache.load_tensors(name)
    heldout_file = heldout_dir(name) / HELDOUT_FILE
    if not heldout_file.exists():
        raise FileNotFoundError(f"{heldout_file} is missing: run `python datasets.py prepare "
                                f"{name}` again")
    heldout = torch.load(heldout_file, weights_only=True)
    validate_splits({**tensors, **heldout}, name)
    return (f"localisation {len(tensors['loc_train_X'])}/{len(tensors['loc_val_X'])}/"
            f"{len(tensors['loc_test_X'])}, detection {len(tensors['det_train_X'])}/"
            f"{len(tensors['det_val_X'])}/{len(tensors['det_test_X'])} (train/val/test)")

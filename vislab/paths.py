"""Where vislab keeps what it builds or downloads.

Nothing here is committed: datasets (training data and released test inputs, never test labels)
and checkpoints are cached under ``cache_dir()``, which is ``$VISLAB_CACHE`` when set and
``<repo>/cache`` otherwise.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """The root of vislab's cache (created on first use)."""
    root = Path(os.environ.get("VISLAB_CACHE", REPO_ROOT / "cache")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def dataset_dir(name: str) -> Path:
    """The cache folder of one dataset, e.g. ``cache/datasets/textured_digits``."""
    path = cache_dir() / "datasets" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoint_dir() -> Path:
    """Where pretrained checkpoints (ImageNet copies or the kit's own) are cached."""
    path = cache_dir() / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path

"""The embedded default of a4_detection: digit boxes from ``sklearn.datasets.load_digits``.

sklearn ships 1,797 handwritten digits of 8 x 8 pixels. They are split by glyph into disjoint
train/val/test pools (no digit drawing is seen in two splits), scaled up to 12-38 pixels and
composed into 48 x 60 scenes with clutter, blur and noise by :mod:`vislab.detection_scenes`:
localisation scenes hold at most one digit (about 15% are empty), detection scenes 0-3 digits
of the classes 0 and 1. The build is deterministic (fixed seeds) and cached with its hash.

Unlike INF265's MNIST digits, these are low-resolution drawings upscaled, so they look blurry;
the tasks (presence, box, class; several digits on a grid) are the same.
"""

import numpy as np
import torch
from sklearn.datasets import load_digits

from vislab.data import tensor_cache
from vislab.data.digit_boxes import SOURCES, store_splits, verify_cached
from vislab.data.registry import DatasetSpec
from vislab.detection_labels import flatten_objects
from vislab.detection_scenes import detection_scenes, localization_scenes, tight_glyphs

NAME = SOURCES["digits"]
SEED = 265
#: images per split (train, val, test)
LOCALIZATION_SIZES = {"train": 6000, "val": 1000, "test": 1000}
DETECTION_SIZES = {"train": 6000, "val": 1000, "test": 1000}
#: share of the glyphs in each split's pool
POOL_FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}
EMPTY_FRACTION = 0.15
#: probability of 0, 1, 2 and 3 digits in a detection scene
DIGIT_COUNT_PROBABILITIES = [0.05, 0.5, 0.3, 0.15]
DETECTION_DIGITS = (0, 1)


def build_from_glyphs(glyphs: np.ndarray, classes: np.ndarray, pools: dict[str, np.ndarray],
                      localization_sizes: dict[str, int], detection_sizes: dict[str, int],
                      seed: int) -> dict[str, torch.Tensor]:
    """Localisation and detection splits (``digit_boxes.SPLIT_KEYS``) from digit glyphs.

    ``glyphs`` is ``array[G, H, W]`` (any grey range), ``classes`` ``array[G]`` the digits,
    ``pools[split]`` the glyph indices a split may use. Detection uses the digits
    ``DETECTION_DIGITS`` only, relabelled 0, 1, ... in that order. Shared with the MNIST builder.
    """
    rng = np.random.default_rng(seed)
    cropped = tight_glyphs(glyphs)
    tensors = {}
    for split, pool in pools.items():
        pool_glyphs, pool_classes = [cropped[i] for i in pool], classes[pool]
        tensors[f"loc_{split}_X"], tensors[f"loc_{split}_y"] = localization_scenes(
            pool_glyphs, pool_classes, localization_sizes[split], EMPTY_FRACTION, rng)
        keep = np.flatnonzero(np.isin(pool_classes, DETECTION_DIGITS))
        relabel = np.array([DETECTION_DIGITS.index(c) for c in pool_classes[keep]])
        X, objects, grid = detection_scenes([pool_glyphs[i] for i in keep], relabel,
                                            detection_sizes[split], DIGIT_COUNT_PROBABILITIES, rng)
        tensors[f"det_{split}_X"], tensors[f"det_{split}_y"] = X, grid
        tensors[f"det_{split}_objects"] = flatten_objects(objects)
    return tensors


def glyph_pools(num_glyphs: int, seed: int) -> dict[str, np.ndarray]:
    """Disjoint glyph indices per split, in the proportions ``POOL_FRACTIONS``."""
    order = np.random.default_rng(seed).permutation(num_glyphs)
    bounds = np.cumsum([round(num_glyphs * f) for f in POOL_FRACTIONS.values()])[:-1]
    return dict(zip(POOL_FRACTIONS, np.split(order, bounds), strict=True))


def build() -> dict[str, torch.Tensor]:
    """The embedded splits from sklearn's digits (about 10 s on one CPU core)."""
    digits = load_digits()
    return build_from_glyphs(digits.images, digits.target, glyph_pools(len(digits.images), SEED),
                             LOCALIZATION_SIZES, DETECTION_SIZES, SEED)


def prepare(source=None) -> None:
    """Build and cache the embedded splits (``source`` is ignored: nothing to download)."""
    store_splits(NAME, build())


DATASETS = [DatasetSpec(
    name=NAME, kind="embedded",
    description="a4_detection default: sklearn's 8x8 digits composed into 48x60 scenes "
                "(localisation: at most one digit, 10 classes; detection: 0-3 digits 0/1)",
    prepare=prepare, verify=lambda: verify_cached(NAME),
    is_ready=lambda: tensor_cache.is_cached(NAME))]

"""The embedded default of a4_detection: digit boxes from ``sklearn.datasets.load_digits``.

sklearn ships 1,797 handwritten digits of 8 x 8 pixels. They are split by glyph into disjoint
train/val/test pools (no digit drawing is seen in two splits), scaled up to 12-38 pixels and
composed into 48 x 60 scenes with clutter, blur and noise by :mod:`vislab.a4_detection.scenes`:
localisation scenes hold at most one digit (about 15% are empty), detection scenes 0-3 digits
of the classes 0 and 1. The build is deterministic (fixed seeds) and cached with its hash.

Only what students get is built here (:func:`vislab.a4_detection.glyph_splits.draw_splits`):
the detection test scenes are drawn from the test pool by the grading side, from a seed that
only the instructor's key gives, and their images are released without labels.

Unlike INF265's MNIST digits, these are low-resolution drawings upscaled, so they look blurry;
the tasks (presence, box, class; several digits on a grid) are the same.
"""

import numpy as np
import torch
from sklearn.datasets import load_digits

from vislab.a4_detection.glyph_splits import (
    DETECTION_SIZES,
    LOCALIZATION_SIZES,
    SEED,
    GlyphPools,
    draw_splits,
)
from vislab.a4_detection.splits import SOURCES, store_splits, verify_cached
from vislab.data import tensor_cache
from vislab.data.registry import DatasetSpec

NAME = SOURCES["digits"]
#: share of the glyphs in each split's pool
POOL_FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}


def glyph_pools(num_glyphs: int, seed: int) -> dict[str, np.ndarray]:
    """Disjoint glyph indices per split, in the proportions ``POOL_FRACTIONS``."""
    order = np.random.default_rng(seed).permutation(num_glyphs)
    bounds = np.cumsum([round(num_glyphs * f) for f in POOL_FRACTIONS.values()])[:-1]
    return dict(zip(POOL_FRACTIONS, np.split(order, bounds), strict=True))


def digit_glyphs() -> GlyphPools:
    """sklearn's digits, cropped to their ink, in their split pools."""
    digits = load_digits()
    return GlyphPools.from_images(digits.images, digits.target,
                                  glyph_pools(len(digits.images), SEED))


def build() -> dict[str, torch.Tensor]:
    """The splits students get from sklearn's digits (about 15 s on one CPU core)."""
    return draw_splits(digit_glyphs(), LOCALIZATION_SIZES, DETECTION_SIZES,
                       np.random.default_rng(SEED))


def prepare(source=None) -> None:
    """Build and cache the splits students get (``source`` is ignored: nothing to download)."""
    store_splits(NAME, build())


DATASETS = [DatasetSpec(
    name=NAME, kind="embedded",
    description="a4_detection default: sklearn's 8x8 digits composed into 48x60 scenes "
                "(localisation: at most one digit, 10 classes; detection: 0-3 digits 0/1)",
    prepare=prepare, verify=lambda: verify_cached(NAME),
    is_ready=lambda: tensor_cache.is_cached(NAME))]

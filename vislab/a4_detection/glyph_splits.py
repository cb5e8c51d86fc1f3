"""Composing digit glyphs into a4's localisation and detection splits.

Shared by the embedded default (sklearn's 8 x 8 digits, :mod:`vislab.a4_detection.embedded`) and
the MNIST builder (:mod:`vislab.a4_detection.mnist`): both give their glyphs, their classes and the
glyph pool of each split; the scenes come from :mod:`vislab.a4_detection.scenes`.
"""

import numpy as np
import torch

from vislab.a4_detection.scenes import detection_scenes, localization_scenes, tight_glyphs
from vislab.data.inf265_labels import flatten_objects

SEED = 265
#: images per split (train, val, test)
LOCALIZATION_SIZES = {"train": 6000, "val": 1000, "test": 1000}
DETECTION_SIZES = {"train": 6000, "val": 1000, "test": 1000}
EMPTY_FRACTION = 0.15
#: probability of 0, 1, 2 and 3 digits in a detection scene
DIGIT_COUNT_PROBABILITIES = [0.05, 0.5, 0.3, 0.15]
DETECTION_DIGITS = (0, 1)


def build_from_glyphs(glyphs: np.ndarray, classes: np.ndarray, pools: dict[str, np.ndarray],
                      localization_sizes: dict[str, int], detection_sizes: dict[str, int],
                      seed: int) -> dict[str, torch.Tensor]:
    """Localisation and detection splits (``vislab.data.inf265.SPLIT_KEYS``) from digit glyphs.

    ``glyphs`` is ``array[G, H, W]`` (any grey range), ``classes`` ``array[G]`` the digits,
    ``pools[split]`` the glyph indices a split may use. Detection uses the digits
    ``DETECTION_DIGITS`` only, relabelled 0, 1, ... in that order.
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

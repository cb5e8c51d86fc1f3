"""Composing digit glyphs into a4's localisation and detection splits.

Shared by the embedded default (sklearn's 8 x 8 digits, :mod:`vislab.a4_detection.embedded`) and
the MNIST builder (:mod:`vislab.a4_detection.mnist`): both give their glyphs, their classes and the
glyph pool of each split; the scenes come from :mod:`vislab.a4_detection.scenes`.

Students build every split but the detection test split: for train, val and test in turn, the
localisation scenes, then (train and val only) the detection scenes, all from one generator
seeded with ``SEED``. The detection test scenes are drawn on the grading side with
:func:`detection_split`, from the test pool and a generator that only the instructor's key
seeds; their images are released without labels (:mod:`vislab.data.test_inputs`).
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class GlyphPools:
    """Digit drawings cropped to their ink (:func:`vislab.a4_detection.scenes.tight_glyphs`),
    their classes (``array[G]``) and the glyph indices each split may draw from
    (``pools["train"]``, ``pools["val"]``, ``pools["test"]``, disjoint)."""

    glyphs: list[np.ndarray]
    classes: np.ndarray
    pools: dict[str, np.ndarray]

    @classmethod
    def from_images(cls, images: np.ndarray, classes: np.ndarray,
                    pools: dict[str, np.ndarray]) -> "GlyphPools":
        """``images`` is ``array[G, H, W]`` in any grey range; each is cropped to its ink."""
        return cls(tight_glyphs(images), np.asarray(classes), pools)


def detection_split(glyphs: GlyphPools, split: str, num_images: int,
                    rng: np.random.Generator) -> tuple[torch.Tensor, list[torch.Tensor],
                                                       torch.Tensor]:
    """``num_images`` detection scenes from the ``split`` pool's digits ``DETECTION_DIGITS``
    (relabelled 0, 1, ... in that order): images (``Tensor[N, 1, 48, 60]`` uint8), the objects
    of each image (``Tensor[K, 6]``) and the grid labels (``Tensor[N, 2, 3, 6]``)."""
    pool = glyphs.pools[split]
    pool_classes = glyphs.classes[pool]
    keep = np.flatnonzero(np.isin(pool_classes, DETECTION_DIGITS))
    relabel = np.array([DETECTION_DIGITS.index(c) for c in pool_classes[keep]])
    return detection_scenes([glyphs.glyphs[pool[i]] for i in keep], relabel, num_images,
                            DIGIT_COUNT_PROBABILITIES, rng)


def draw_splits(glyphs: GlyphPools, localization_sizes: dict[str, int],
                detection_sizes: dict[str, int], rng: np.random.Generator,
                ) -> dict[str, torch.Tensor]:
    """The splits students get (``vislab.data.inf265.TRAINING_KEYS``), drawn in the order of
    the module docstring with ``rng``; the detection test split is left out."""
    tensors = {}
    for split, pool in glyphs.pools.items():
        pool_glyphs = [glyphs.glyphs[i] for i in pool]
        tensors[f"loc_{split}_X"], tensors[f"loc_{split}_y"] = localization_scenes(
            pool_glyphs, glyphs.classes[pool], localization_sizes[split], EMPTY_FRACTION, rng)
        if split == "test":
            continue
        X, objects, grid = detection_split(glyphs, split, detection_sizes[split], rng)
        tensors[f"det_{split}_X"], tensors[f"det_{split}_y"] = X, grid
        tensors[f"det_{split}_objects"] = flatten_objects(objects)
    return tensors


def build_from_glyphs(glyphs: np.ndarray, classes: np.ndarray, pools: dict[str, np.ndarray],
                      localization_sizes: dict[str, int], detection_sizes: dict[str, int],
                      seed: int = SEED) -> dict[str, torch.Tensor]:
    """The splits students get (``TRAINING_KEYS``) from digit glyphs.

    ``glyphs`` is ``array[G, H, W]`` (any grey range), ``classes`` ``array[G]`` the digits,
    ``pools[split]`` the glyph indices a split may use (train, val and test, in that order).
    Detection uses the digits ``DETECTION_DIGITS`` only, relabelled 0, 1, ... in that order.
    """
    return draw_splits(GlyphPools.from_images(glyphs, classes, pools), localization_sizes,
                       detection_sizes, np.random.default_rng(seed))

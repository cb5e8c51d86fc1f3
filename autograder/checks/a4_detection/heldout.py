"""The held-out detection test boxes of a4_detection, on the grading side, and the scores of
handed-in CSVs.

Students get every split but the detection test split's labels (:mod:`vislab.a4_detection`).
The detection test split of each dataset:

- ``digit-boxes`` (embedded) and ``digit-boxes-mnist``: the test scenes are drawn with the public
  scene code of :mod:`vislab.a4_detection.glyph_splits` from the test pool of glyphs, with a
  generator seeded by the instructor's key (``key.seed("<dataset>:test")``); the images are
  released without labels (:mod:`vislab.data.test_inputs`), the labels go to the sealed store
  (:mod:`autograder.heldout.store`). With the public demo key the split is the one the kit
  published before: the public generator (seed ``SEED``) replayed through the splits students
  build, then continued.
- ``digit-boxes-inf265`` (the course's files): the students' side reads the test images; the
  labels are read here from ``detection_test.pt`` and ``list_y_true_test.pt`` of the same
  folder (``python datasets.py prepare digit-boxes-inf265 --from DIR``).

The store holds, per dataset, ``det_test_y`` (grid labels, ``Tensor[N, 2, 3, 6]``) and
``det_test_objects`` (:func:`vislab.data.inf265_labels.flatten_objects` of each image's
objects).
"""

from pathlib import Path

import numpy as np
import torch

from autograder.checks.a4_detection.scoring import score_detections
from autograder.heldout import store
from autograder.heldout.key import HeldoutKey
from vislab.a4_detection import embedded, mnist
from vislab.a4_detection.data import dataset_name
from vislab.a4_detection.glyph_splits import SEED, GlyphPools, detection_split, draw_splits
from vislab.a4_detection.splits import SOURCES, TEST_INPUTS_KEY
from vislab.data import inf265, tensor_cache
from vislab.data.inf265_labels import flatten_objects, unflatten_objects
from vislab.data.test_inputs import has_test_inputs, save_test_inputs


def split_generator(glyphs: GlyphPools, name: str, key: HeldoutKey,
                   localization_sizes: dict[str, int], detection_sizes: dict[str, int],
                   ) -> np.random.Generator:
    """The generator of a test split: seeded by ``key``; with the demo key, the public one
    after the splits students build (``draw_splits`` with the same glyphs and sizes)."""
    if not key.demo:
        return np.random.default_rng(key.seed(f"{name}:test"))
    generator = np.random.default_rng(SEED)
    draw_splits(glyphs, localization_sizes, detection_sizes, generator)
    return generator


def draw_test_split(glyphs: GlyphPools, name: str, key: HeldoutKey,
                    localization_sizes: dict[str, int], detection_sizes: dict[str, int]) -> None:
    """Draw the detection test split with ``key``: release its images, seal its labels."""
    generator = split_generator(glyphs, name, key, localization_sizes, detection_sizes)
    X, objects, grid = detection_split(glyphs, "test", detection_sizes["test"], generator)
    save_test_inputs(name, {TEST_INPUTS_KEY: X}, key.fingerprint)
    store.save_labels(name, {"det_test_y": grid, "det_test_objects": flatten_objects(objects)},
                      key)


def prepare_digit_boxes(key: HeldoutKey, source: Path | None = None) -> None:
    """The embedded set's test split made with ``key`` (once per key)."""
    name = embedded.NAME
    if has_test_inputs(name, key.fingerprint) and store.has_labels(name, key):
        return
    draw_test_split(embedded.digit_glyphs(), name, key, embedded.LOCALIZATION_SIZES,
                    embedded.DETECTION_SIZES)


def prepare_mnist(key: HeldoutKey, source: Path | None) -> None:
    """The MNIST set's test split made with ``key`` from MNIST's idx files in ``source``."""
    draw_test_split(mnist.mnist_glyphs(source or mnist.download_dir()), mnist.NAME, key,
                    mnist.LOCALIZATION_SIZES, mnist.DETECTION_SIZES)


def prepare_inf265(key: HeldoutKey, source: Path | None) -> None:
    """Seal the INF265 test labels, read from the course's files in ``source``."""
    if source is None:
        raise FileNotFoundError("the INF265 test labels are read from the course's files: run "
                                "`python datasets.py prepare digit-boxes-inf265 --from DIR` on "
                                "the grading machine")
    source = Path(source)
    X, grid = inf265.read_pair(source / "detection_test.pt")
    objects = flatten_objects(inf265.read_object_lists(source / "list_y_true_test.pt"))
    inf265.validate_detection_split(X, grid, objects, f"{source} detection test")
    store.save_labels(SOURCES["inf265"], {"det_test_y": grid, "det_test_objects": objects}, key)


#: dataset -> what makes its held-out labels (``datasets.py prepare`` calls it)
HELDOUT_BUILDERS = {embedded.NAME: prepare_digit_boxes, mnist.NAME: prepare_mnist,
                    SOURCES["inf265"]: prepare_inf265}


def prepare_grading(key: HeldoutKey) -> None:
    """Before any sandbox starts: the chosen dataset's released data and held-out labels."""
    choice = dataset_name()
    name = SOURCES[choice]
    if name == embedded.NAME:
        if not tensor_cache.is_cached(name):
            embedded.prepare()
        prepare_digit_boxes(key)
    elif not store.has_labels(name, key) or not has_test_inputs(name):
        raise FileNotFoundError(f"no held-out labels of {name}: run `python datasets.py prepare "
                                f"{name} --from DIR` on the grading machine")


def heldout_objects(key: HeldoutKey) -> dict[int, torch.Tensor]:
    """The detection test objects by test id (``Tensor[K, 6]`` each), after checking the seal."""
    labels = store.load_labels(SOURCES[dataset_name()], key)
    return dict(enumerate(unflatten_objects(labels["det_test_objects"],
                                            len(labels["det_test_y"]))))


def score_predictions(path: Path, key: HeldoutKey) -> tuple[float, float]:
    """(public, private) mAP@0.5 of a handed-in CSV on the held-out boxes."""
    return score_detections(Path(path), heldout_objects(key))

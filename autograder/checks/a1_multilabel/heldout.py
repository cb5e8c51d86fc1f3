"""The held-out test labels of a1_multilabel, on the grading side, and the mAP of handed-in CSVs.

- ``scenes`` (embedded): the test scenes are drawn with the public renderer of
  :mod:`vislab.a1_multilabel.scenes` from a seed that only the instructor's key gives; the images
  are released without labels (:mod:`vislab.data.test_inputs`), the labels go to the sealed
  store. With the public demo key the split is the one the kit publishes (the generator
  continues after the training and validation scenes).
- ``voc2012`` / ``voc2007`` and ``planet`` (real): the test images are a public, seeded part of
  the files the students have too (half of VOC's val split; a sixth of Planet's train_v2.csv);
  their labels are read here from the same folder (``python datasets.py prepare NAME --from
  DIR``) and sealed. They are public labels anyway: anyone with the dataset can read them.

Labels are stored per key as ``test_y`` (uint8 Tensor[N, C]) and ``test_ids`` (the ids of the
predictions CSV, as UTF-8 text, one per line, in a uint8 Tensor).
"""

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from autograder.checks.a1_multilabel.references import reference_mean_average_precision
from autograder.heldout import store
from autograder.heldout.key import HeldoutKey
from autograder.predictions_csv import read_predictions
from autograder.public_private import public_private_split
from vislab.a1_multilabel import scenes
from vislab.a1_multilabel.data import dataset_name, val_test_positions
from vislab.data import planet, voc
from vislab.data.test_inputs import has_test_inputs, save_test_inputs

CSV_FILE = "predictions.csv"
#: a1's dataset choice -> (the name of its labels in the store, its class names = CSV columns)
TEST_SETS = {"scenes": (scenes.CACHE_NAME, scenes.CLASSES),
             **{f"voc{year}": (f"voc{year}", voc.VOC_CLASSES) for year in voc.YEARS},
             "planet": ("planet", planet.PLANET_CLASSES)}


def save_test_labels(name: str, ids: Sequence, labels: torch.Tensor, key: HeldoutKey) -> None:
    """Seal the test ``labels`` (Tensor[N, C], 0/1) of the test ``ids`` of dataset ``name``."""
    if len(ids) != len(labels):
        raise ValueError(f"{len(ids)} ids but {len(labels)} rows of labels")
    text = "\n".join(str(i) for i in ids).encode()
    store.save_labels(name, {"test_y": labels.to(torch.uint8),
                             "test_ids": torch.tensor(list(text), dtype=torch.uint8)}, key)


def sealed_test_labels(key: HeldoutKey, choice: str | None = None,
                ) -> tuple[list[str], torch.Tensor, tuple[str, ...]]:
    """``(ids, labels, classes)`` of the chosen dataset's test set, after checking the seal:
    ids as strings, ``labels`` a uint8 Tensor[N, C]."""
    name, classes = TEST_SETS[dataset_name(choice)]
    tensors = store.load_labels(name, key)
    ids = bytes(tensors["test_ids"].tolist()).decode().split("\n")
    return ids, tensors["test_y"], classes


# --- the embedded scenes --------------------------------------------------------------------------

def _scenes_test_generator(key: HeldoutKey) -> np.random.Generator:
    if not key.demo:
        return np.random.default_rng(key.seed(f"{scenes.NAME}:test"))
    rng = np.random.default_rng(scenes.SEED)  # the published split: after training and validation
    for count in scenes.SPLIT_SIZES.values():
        scenes.draw_scenes(rng, count)
    return rng


def prepare_scenes(key: HeldoutKey, source: Path | None = None) -> None:
    """Draw the test scenes with ``key``: release their images, seal their labels (once per key)."""
    name = scenes.CACHE_NAME
    if has_test_inputs(name, key.fingerprint) and store.has_labels(name, key):
        return
    X, y = scenes.draw_scenes(_scenes_test_generator(key), scenes.NUM_TEST)
    save_test_inputs(name, {"test_X": X}, key.fingerprint)
    save_test_labels(name, range(len(y)), y, key)


# --- the real datasets ----------------------------------------------------------------------------

def _voc_builder(year: str) -> Callable[[HeldoutKey, Path | None], None]:
    def prepare_voc(key: HeldoutKey, source: Path | None = None) -> None:
        """Seal the labels of VOC's test half (of its val split), read from ``source`` or from
        the copy ``datasets.py prepare`` recorded."""
        root = voc.find_voc_root(source, year) if source is not None else voc.prepared_root(year)
        ids, labels = voc.read_image_set_labels(root, "val")
        _, test = val_test_positions(len(ids))
        save_test_labels(f"voc{year}", [ids[i] for i in test], labels[test], key)

    return prepare_voc


def prepare_planet(key: HeldoutKey, source: Path | None = None) -> None:
    """Seal the labels of Planet's test chips, read from ``train_v2.csv`` in ``source`` or in the
    copy ``datasets.py prepare`` recorded."""
    root = Path(source).expanduser() if source is not None else planet.prepared_root()
    names, labels = planet.read_tags(root / planet.LABELS_FILE)
    test = planet.split_indices(len(names))["test"]
    save_test_labels("planet", [names[i] for i in test], labels[test], key)


#: dataset (as ``datasets.py`` names it) -> what makes its held-out labels
HELDOUT_BUILDERS = {scenes.NAME: prepare_scenes,
                    **{f"voc{year}": _voc_builder(year) for year in voc.YEARS},
                    "planet": prepare_planet}


def prepare_grading(key: HeldoutKey) -> None:
    """Before any sandbox starts: the chosen dataset's released data and held-out labels, whose
    seal is checked here so that grading stops before it starts when they were changed."""
    choice = dataset_name()
    if choice == "scenes":
        scenes.load()  # the training and validation scenes every graded notebook reads
        prepare_scenes(key)
    elif not store.has_labels(TEST_SETS[choice][0], key):
        HELDOUT_BUILDERS[choice](key, None)  # from the copy `datasets.py prepare` recorded
    sealed_test_labels(key)


def score_predictions(path: Path, key: HeldoutKey) -> tuple[float, float]:
    """(public mAP, private mAP) of a handed-in CSV; ``InvalidPredictions`` for a bad file."""
    ids, labels, classes = sealed_test_labels(key)
    frame = read_predictions(path, list(classes), ids, value_range=(0.0, 1.0))
    scores = frame[list(classes)].to_numpy(dtype=np.float64)
    labels = labels.numpy().astype(np.float64)
    public, private = public_private_split(len(ids))
    return (reference_mean_average_precision(scores[public], labels[public])[0],
            reference_mean_average_precision(scores[private], labels[private])[0])

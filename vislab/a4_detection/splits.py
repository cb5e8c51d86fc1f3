"""The cache of a4's digit-box splits, whichever source built them.

Every source (the embedded digits, INF265's files, MNIST) produces the dictionary of tensors
:data:`vislab.data.inf265.TRAINING_KEYS`: every split but the detection test split.
:func:`store_splits` caches it under the source's name. The detection test images are released
test inputs (:mod:`vislab.data.test_inputs`, ``det_test_X``); their labels never reach this
side: the grading side keeps them (``autograder/checks/a4_detection``).
"""

import torch

from vislab.data import tensor_cache
from vislab.data.inf265 import TRAINING_KEYS, validate_splits
from vislab.data.test_inputs import has_test_inputs, load_test_inputs, save_test_inputs

#: value of ``VISLAB_A4_DATASET`` -> cached dataset name
SOURCES = {"digits": "digit-boxes", "inf265": "digit-boxes-inf265", "mnist": "digit-boxes-mnist"}
TEST_INPUTS_KEY = "det_test_X"
#: the key fingerprint of test images read from the course's own files (made with no key)
COURSE_FILES = "course-files"


def store_splits(name: str, tensors: dict[str, torch.Tensor]) -> None:
    """Validate and cache the splits students get.

    Test images in ``tensors`` (``det_test_X``, read from a course's files) are released as
    test inputs; detection test labels are refused: they belong to the grading side.
    """
    labels = [key for key in tensors if key.startswith("det_test_") and key != TEST_INPUTS_KEY]
    if labels:
        raise ValueError(f"{name}: the detection test labels ({', '.join(labels)}) are never "
                         "cached on the students' side")
    validate_splits(tensors, name)
    tensor_cache.save_tensors(name, {key: tensors[key] for key in TRAINING_KEYS})
    if TEST_INPUTS_KEY in tensors:
        save_test_inputs(name, {TEST_INPUTS_KEY: tensors[TEST_INPUTS_KEY]}, COURSE_FILES)


def verify_cached(name: str) -> str:
    """A one-line summary of a cached digit-box dataset, or an error saying how to fix it."""
    tensors = tensor_cache.load_tensors(name)
    test = load_test_inputs(name) if has_test_inputs(name) else {}
    validate_splits({**tensors, **test}, name)
    tests = (f"{len(test[TEST_INPUTS_KEY])} (test images without labels)" if test
             else "no test images yet (the grading side makes them)")
    return (f"localisation {len(tensors['loc_train_X'])}/{len(tensors['loc_val_X'])}/"
            f"{len(tensors['loc_test_X'])}, detection {len(tensors['det_train_X'])}/"
            f"{len(tensors['det_val_X'])}/{tests} (train/val/test)")

"""Hidden checks of a2_bn_folding (IN5400 mandatory 1, part 2).

``evidence.py`` runs in the student's kernel; ``judges.py`` and ``references.py`` only in the
grading process. a2 has no predictions CSV and no held-out labels (its comparison photos are
inputs, released to students), so no leaderboard; ``runs/converted_b.json`` is handed in.
"""

from autograder.heldout.key import HeldoutKey
from vislab.a2_bn_folding import photos
from vislab.data.choice import chosen_dataset
from vislab.data.tensor_cache import is_cached, save_tensors

HANDED_IN = ["runs/converted_b.json"]


def prepare_grading(key: HeldoutKey) -> None:
    """Before any sandbox starts: the comparison photos in the cache, which a sandbox sees
    read-only (parallel sandboxes could not build it). ``key`` is unused: a2 has no held-out
    labels. A folder of one's own images (``VISLAB_A2_DATASET``) is only checked for images."""
    choice = chosen_dataset(photos.ASSIGNMENT, [photos.NAME], photos.NAME, folder_allowed=True)
    if choice != photos.NAME:
        photos.read_image_folder(choice)
    elif not is_cached(photos.NAME):
        save_tensors(photos.NAME, photos.build())


__all__ = ["HANDED_IN", "prepare_grading"]

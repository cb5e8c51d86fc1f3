"""The predictions CSV of a4_detection, read and scored on the grading side.

The file's format is :mod:`vislab.a4_detection.detections_csv`'s (``Id,PredictionString``; six
numbers per detection: ``class score x1 y1 x2 y2``). :func:`read_detections_csv` validates it
with one message per fault, in the file's terms; :func:`score_detections` gives its mAP@0.5 on
the public and the private part of the held-out boxes (:mod:`autograder.public_private`).
"""

from pathlib import Path

import torch

from autograder.checks.a4_detection.references import (
    objects_to_targets,
    reference_mean_average_precision,
)
from autograder.judging.points import partial_points
from autograder.predictions_csv import InvalidPredictions, read_predictions
from autograder.public_private import public_private_split
from vislab.a4_detection.detections_csv import CSV_COLUMNS, FIELDS_PER_DETECTION, PREDICTION_COLUMN
from vislab.data.inf265_labels import DETECTION_CLASSES, IMAGE_HEIGHT, IMAGE_WIDTH

CSV_NAME = "a4_detections.csv"
#: mAP@0.5 on the held-out test boxes for 0 points and for full points
MAP_BASELINE, MAP_TARGET = 0.30, 0.70
CSV_POINTS = 5


def parse_prediction_string(text: str, where: str) -> dict:
    """One image's ``PredictionString`` -> ``{"boxes", "scores", "labels"}``, validated.

    Raises :class:`InvalidPredictions` saying what to fix (grammar, class, score, box outside
    the image, negative width or height).
    """
    tokens = str(text).split()
    if not tokens or len(tokens) % FIELDS_PER_DETECTION:
        raise InvalidPredictions(
            f"{where}: a prediction string is groups of 6 numbers 'class score x1 y1 x2 y2' "
            f"separated by spaces, found {len(tokens)} values; write at least one detection")
    try:
        values = torch.tensor([float(token) for token in tokens]).view(-1, FIELDS_PER_DETECTION)
    except ValueError:
        raise InvalidPredictions(f"{where}: the prediction string holds something that is not "
                                 "a number; write 'class score x1 y1 x2 y2' with numbers only"
                                 ) from None
    if not torch.isfinite(values).all():
        raise InvalidPredictions(f"{where}: the prediction string holds NaN or infinity")
    labels, scores, boxes = values[:, 0], values[:, 1], values[:, 2:]
    if ((labels != labels.round()) | (labels < 0) | (labels >= DETECTION_CLASSES)).any():
        raise InvalidPredictions(f"{where}: a class must be a whole number in 0.."
                                 f"{DETECTION_CLASSES - 1} (the first of every 6 values)")
    if ((scores < 0) | (scores > 1)).any():
        raise InvalidPredictions(f"{where}: a score must lie in [0, 1]: apply the sigmoid to the "
                                 "presence output")
    if ((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])).any():
        raise InvalidPredictions(f"{where}: a box has a negative width or height (x2 < x1 or "
                                 "y2 < y1): write the corners x1 y1 x2 y2 (left, top, right, "
                                 "bottom), not x y w h")
    outside = (boxes < 0).any(dim=1) | (boxes[:, [0, 2]] > IMAGE_WIDTH).any(dim=1) \
        | (boxes[:, [1, 3]] > IMAGE_HEIGHT).any(dim=1)
    if outside.any():
        raise InvalidPredictions(f"{where}: a box lies outside the 60 x 48 image (x in [0, 60], "
                                 "y in [0, 48]); clip the boxes with "
                                 "torchvision.ops.clip_boxes_to_image, and check that x and y "
                                 "are not swapped")
    return {"boxes": boxes, "scores": scores, "labels": labels.long()}


def read_detections_csv(path: Path, ids) -> list[dict]:
    """The validated detections of a predictions CSV, in the order of ``ids``."""
    frame = read_predictions(path, CSV_COLUMNS, ids)
    return [parse_prediction_string(text, f"{CSV_NAME} row with Id {image_id}")
            for image_id, text in zip(frame["Id"], frame[PREDICTION_COLUMN], strict=True)]


def score_detections(path: Path, heldout: dict[int, torch.Tensor]) -> tuple[float, float]:
    """(public, private) mAP@0.5 of a predictions CSV on the held-out boxes.

    ``heldout`` maps test ids to their objects (``Tensor[K, 6]``, relative). Raises
    ``InvalidPredictions`` for a file that cannot be scored.
    """
    ids = sorted(heldout)
    predictions = dict(zip(ids, read_detections_csv(path, ids), strict=True))
    targets = dict(zip(ids, objects_to_targets([heldout[i] for i in ids]), strict=True))
    return tuple(reference_mean_average_precision([predictions[i] for i in part],
                                                  [targets[i] for i in part], 0.5)
                 for part in ([ids[i] for i in positions]
                              for positions in public_private_split(len(ids))))


def csv_points(private_map: float) -> float:
    """Points of a private mAP@0.5: 0 at ``MAP_BASELINE``, all at ``MAP_TARGET``, linear between."""
    return partial_points(private_map, MAP_BASELINE, MAP_TARGET, CSV_POINTS)

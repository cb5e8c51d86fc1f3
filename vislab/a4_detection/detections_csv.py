"""The Kaggle-style CSV of a4_detection: one row per test image, its detections in one string.

The file has the header ``Id,PredictionString``. ``Id`` is the test image's id (the test loader
gives them); ``PredictionString`` lists the image's detections one after the other, six numbers
each, separated by spaces::

    class score x1 y1 x2 y2 class score x1 y1 x2 y2 ...

``class`` is the digit's class (0 or 1), ``score`` the detection's confidence in [0, 1], and
``(x1, y1, x2, y2)`` the box's corners in pixels, ``0 <= x1 <= x2 <= 60`` and
``0 <= y1 <= y2 <= 48`` ((0, 0) is the top-left corner). Every image needs at least one
detection: a low-scored extra box never lowers the average precision, so write your best guess
even where you are unsure. :func:`format_prediction_string` writes one string.
"""

import torch

PREDICTION_COLUMN = "PredictionString"
CSV_COLUMNS = [PREDICTION_COLUMN]
FIELDS_PER_DETECTION = 6


def format_prediction_string(boxes: torch.Tensor, scores: torch.Tensor,
                             labels: torch.Tensor) -> str:
    """One image's detections as ``class score x1 y1 x2 y2 ...``, highest score first.

    ``boxes`` (``Tensor[K, 4]``, pixel xyxy), ``scores`` (``Tensor[K]``), ``labels``
    (``Tensor[K]``). Scores keep 4 decimals, coordinates 2.

    >>> format_prediction_string(torch.tensor([[1.0, 2.0, 11.5, 20.0], [30.0, 4.0, 40.0, 18.25]]),
    ...                          torch.tensor([0.25, 0.9]), torch.tensor([0, 1]))
    '1 0.9000 30.00 4.00 40.00 18.25 0 0.2500 1.00 2.00 11.50 20.00'
    """
    if not (len(boxes) == len(scores) == len(labels)):
        raise ValueError(f"got {len(boxes)} boxes, {len(scores)} scores and {len(labels)} labels: "
                         "give one score and one label per box")
    order = torch.argsort(scores, descending=True, stable=True)
    parts = [f"{int(labels[i])} {float(scores[i]):.4f} "
             + " ".join(f"{float(v):.2f}" for v in boxes[i]) for i in order.tolist()]
    return " ".join(parts)

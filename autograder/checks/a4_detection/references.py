"""The right answers of a4_detection, computed here (grading side only).

The references use torchvision where it has the operation. Conventions: localisation outputs
``y_hat`` are ``Tensor[N, 5 + C]`` (presence logit, x, y, w, h, C class logits), labels
``Tensor[N, 6]``; detection outputs ``Tensor[N, 2, 3, 5 + C]``; pixel boxes xyxy in a 48 x 60
image (:mod:`vislab.data.inf265_labels`).
"""

import math

import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms, box_convert, box_iou

from vislab.data.inf265_labels import GRID_COLS, GRID_ROWS, IMAGE_HEIGHT, IMAGE_WIDTH

PIXEL_SCALE = torch.tensor([IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_HEIGHT],
                           dtype=torch.float)


def reference_to_pixel_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """Relative (x, y, w, h) (``Tensor[N, 4]``) -> pixel corners (x1, y1, x2, y2)."""
    return box_convert(boxes * PIXEL_SCALE, "cxcywh", "xyxy")


def reference_to_relative_cxcywh(boxes: torch.Tensor) -> torch.Tensor:
    """Pixel corners (``Tensor[N, 4]``) -> relative (x, y, w, h)."""
    return box_convert(boxes, "xyxy", "cxcywh") / PIXEL_SCALE


def reference_localization_loss(y_hat: torch.Tensor, y: torch.Tensor,
                                box_weight: float = 1.0) -> torch.Tensor:
    """The kit's definition: BCE-with-logits on presence for all images; MSE (box) and
    cross-entropy (class) averaged over the images with a digit (0 when there is none)."""
    present = y[:, 0] == 1
    loss = F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
    if present.any():
        loss = loss + box_weight * F.mse_loss(y_hat[present, 1:5], y[present, 1:5])
        loss = loss + F.cross_entropy(y_hat[present, 5:], y[present, 5].long())
    return loss


def inf265_localization_loss(y_hat: torch.Tensor, y: torch.Tensor,
                             box_weight: float = 1.0) -> torch.Tensor:
    """INF265's definition: each image's loss (BCE-with-logits on presence, plus, where p = 1,
    the MSE of its (x, y, w, h) and the cross-entropy of its class) averaged over all N images.
    It equals the kit's when every image or no image holds a digit."""
    present = (y[:, 0] == 1).float()
    box = ((y_hat[:, 1:5] - y[:, 1:5]) ** 2).mean(dim=1)
    ce = F.cross_entropy(y_hat[:, 5:], y[:, 5].long(), reduction="none")
    return (F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
            + (present * (box_weight * box + ce)).mean())


#: the localisation losses a student may implement (the notebook states both)
LOCALIZATION_LOSSES = (reference_localization_loss, inf265_localization_loss)


def reference_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """``box_iou`` with 0 where the union is empty (two zero-area boxes)."""
    return box_iou(boxes1, boxes2).nan_to_num(0.0)


def reference_localization_metrics(y_hat: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Accuracy (presence right, and the class right where there is a digit), mean IoU over the
    images with a digit (NaN when none has), score = their mean."""
    present = y[:, 0] == 1
    says_present = y_hat[:, 0] > 0
    right_class = y_hat[:, 5:].argmax(dim=1) == y[:, 5].long()
    correct = (says_present == present) & (~present | right_class)
    if present.any():
        ious = reference_iou(reference_to_pixel_xyxy(y_hat[present, 1:5]),
                             reference_to_pixel_xyxy(y[present, 1:5])).diagonal()
        mean_iou = ious.mean().item()
    else:
        mean_iou = math.nan
    accuracy = correct.float().mean().item()
    return {"accuracy": accuracy, "mean_iou": mean_iou, "score": (accuracy + mean_iou) / 2}


def reference_select_best(histories: dict) -> str:
    """The run whose best epoch has the highest validation score."""
    def best_score(name):
        return histories[name].best[f"val_{histories[name].metric_name}"]
    return max(histories, key=best_score)


def reference_encode_grid(objects: torch.Tensor) -> torch.Tensor:
    """One image's objects (``Tensor[K, 6]``) -> its grid label (``Tensor[2, 3, 6]``)."""
    grid = torch.zeros(GRID_ROWS, GRID_COLS, 6)
    for p, x, y, w, h, c in objects.tolist():
        row = min(int(y * GRID_ROWS), GRID_ROWS - 1)
        col = min(int(x * GRID_COLS), GRID_COLS - 1)
        grid[row, col] = torch.tensor([p, x * GRID_COLS - col, y * GRID_ROWS - row,
                                       w * GRID_COLS, h * GRID_ROWS, c])
    return grid


def reference_decode_grid(y_hat: torch.Tensor, min_score: float = 0.0) -> list[dict]:
    """Grid outputs (``Tensor[N, 2, 3, 5 + C]``) -> per image ``boxes`` (pixel xyxy), ``scores``,
    ``labels`` of the cells scoring at least ``min_score``, in row-major cell order."""
    rows = torch.arange(GRID_ROWS, dtype=torch.float).view(GRID_ROWS, 1)
    cols = torch.arange(GRID_COLS, dtype=torch.float).view(1, GRID_COLS)
    detections = []
    for cells in y_hat:
        x = (cols + cells[..., 1]) / GRID_COLS
        y = (rows + cells[..., 2]) / GRID_ROWS
        relative = torch.stack([x, y, cells[..., 3] / GRID_COLS, cells[..., 4] / GRID_ROWS], -1)
        boxes = reference_to_pixel_xyxy(relative.reshape(-1, 4))
        scores = torch.sigmoid(cells[..., 0]).reshape(-1)
        labels = cells[..., 5:].argmax(dim=-1).reshape(-1)
        keep = scores >= min_score
        detections.append({"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]})
    return detections


def reference_detection_loss(y_hat: torch.Tensor, y: torch.Tensor, box_weight: float = 1.0,
                             localization_loss=reference_localization_loss) -> torch.Tensor:
    """``localization_loss`` of every cell, summed over the 2 x 3 cells."""
    return sum(localization_loss(y_hat[:, row, col], y[:, row, col], box_weight)
               for row in range(GRID_ROWS) for col in range(GRID_COLS))


def reference_remove_duplicates(detection: dict, iou_threshold: float = 0.5) -> dict:
    """Per-class NMS, the kept detections by decreasing score."""
    keep = batched_nms(detection["boxes"].float(), detection["scores"].float(),
                       detection["labels"], iou_threshold)
    return {key: value[keep] for key, value in detection.items()}


def reference_average_precision(scores: torch.Tensor, is_tp: torch.Tensor,
                                num_true: int) -> float:
    """All-point interpolated AP of detections of one class (ties keep the given order)."""
    if num_true <= 0:
        raise ValueError("average precision needs at least one true box")
    order = torch.argsort(scores, descending=True, stable=True)
    hits = is_tp[order].float()
    true_positives = hits.cumsum(0)
    precision = true_positives / torch.arange(1, len(hits) + 1)
    recall = true_positives / num_true
    envelope = precision.flip(0).cummax(0).values.flip(0)
    previous_recall = torch.cat([torch.zeros(1), recall[:-1]])
    return float(((recall - previous_recall) * envelope).sum())


def reference_match(predictions: list[dict], targets: list[dict], label: int,
                    iou_threshold: float, voc_style: bool = False,
                    ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Scores and true-positive flags of class ``label``'s detections, and its true-box count.

    Detections are visited by decreasing score; each takes the unmatched true box of its image
    and class with the highest IoU (``voc_style``: the best box, even if matched already) and is
    a true positive when that IoU is at least ``iou_threshold``.
    """
    entries = [(float(score), image, index)
               for image, prediction in enumerate(predictions)
               for index, (score, pred_label) in enumerate(zip(prediction["scores"].tolist(),
                                                               prediction["labels"].tolist(),
                                                               strict=True))
               if pred_label == label]
    entries.sort(key=lambda entry: -entry[0])
    true_boxes = [target["boxes"][target["labels"] == label] for target in targets]
    matched = [torch.zeros(len(boxes), dtype=torch.bool) for boxes in true_boxes]
    flags = []
    for _, image, index in entries:
        candidates = true_boxes[image]
        if len(candidates) == 0:
            flags.append(False)
            continue
        ious = reference_iou(predictions[image]["boxes"][index:index + 1].float(), candidates)[0]
        if not voc_style:
            ious = ious.masked_fill(matched[image], -1.0)
        best = int(ious.argmax())
        hit = bool(ious[best] >= iou_threshold) and not matched[image][best]
        matched[image][best] |= hit
        flags.append(hit)
    scores = torch.tensor([entry[0] for entry in entries])
    return scores, torch.tensor(flags, dtype=torch.bool), sum(len(b) for b in true_boxes)


def reference_mean_average_precision(predictions: list[dict], targets: list[dict],
                                     iou_threshold: float = 0.5, voc_style: bool = False) -> float:
    """Mean over the classes with true boxes of the all-point AP at ``iou_threshold``."""
    labels = sorted({int(label) for target in targets for label in target["labels"].tolist()})
    if not labels:
        raise ValueError("mAP needs at least one true box")
    aps = []
    for label in labels:
        scores, flags, num_true = reference_match(predictions, targets, label, iou_threshold,
                                                  voc_style)
        aps.append(reference_average_precision(scores, flags, num_true) if len(scores) else 0.0)
    return sum(aps) / len(aps)


def objects_to_targets(objects: list[torch.Tensor]) -> list[dict]:
    """Objects of each image (``Tensor[K, 6]``, relative) -> ``{"boxes", "labels"}`` in pixels."""
    return [{"boxes": reference_to_pixel_xyxy(rows[:, 1:5]), "labels": rows[:, 5].long()}
            for rows in objects]

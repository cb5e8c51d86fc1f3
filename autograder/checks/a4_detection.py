"""Hidden checks of a4_detection: localisation loss, IoU, metrics, grid encoding and decoding,
detection loss, NMS, average precision, mAP, and the predictions CSV.

Each check receives the student's function and compares it with a reference on inputs the
student never sees. Where a known mistake is recognisable (the box loss applied to empty images,
x and y swapped, a missing sigmoid...), the message names it. The references (``reference_*``)
use torchvision where it has the operation.

Conventions shared with the notebook (see :mod:`vislab.data.inf265_labels`): localisation outputs
``y_hat`` are ``Tensor[N, 5 + C]`` (presence logit, x, y, w, h, C class logits); detection outputs
``Tensor[N, 2, 3, 5 + C]``; pixel boxes are xyxy in a 48 x 60 image.
"""

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms, box_convert, box_iou

from autograder.checks.core import CheckFailed, expect, hidden_check, partial_points
from autograder.checks.registry import LeaderboardSpec
from autograder.predictions_csv import InvalidPredictions, read_predictions
from autograder.public_private import public_private_split
from vislab.a4_detection.detections_csv import CSV_COLUMNS, FIELDS_PER_DETECTION, PREDICTION_COLUMN
from vislab.data.inf265_labels import (
    DETECTION_CLASSES,
    GRID_COLS,
    GRID_ROWS,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
)
from vislab.seeds import seeded_generator

PIXEL_SCALE = torch.tensor([IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_HEIGHT],
                           dtype=torch.float)
TOLERANCE = 1e-4
CSV_NAME = "a4_detections.csv"
#: mAP@0.5 on the held-out test boxes for 0 points and for full points
MAP_BASELINE, MAP_TARGET = 0.30, 0.70
CSV_POINTS = 5
#: share of the test ids on the public leaderboard (the rest is private)
SWAP_HINT = ("x and y look swapped: x is horizontal (the image is 60 pixels wide), y vertical "
             "(48 pixels high); a box's corners are (x1, y1, x2, y2) = (left, top, right, bottom)")


# ---------------------------------------------------------------- references

def reference_to_pixel_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """Relative (x, y, w, h) (``Tensor[N, 4]``) -> pixel corners (x1, y1, x2, y2)."""
    return box_convert(boxes * PIXEL_SCALE, "cxcywh", "xyxy")


def reference_to_relative_cxcywh(boxes: torch.Tensor) -> torch.Tensor:
    """Pixel corners (``Tensor[N, 4]``) -> relative (x, y, w, h)."""
    return box_convert(boxes, "xyxy", "cxcywh") / PIXEL_SCALE


def reference_localization_loss(y_hat: torch.Tensor, y: torch.Tensor,
                                box_weight: float = 1.0) -> torch.Tensor:
    """BCE-with-logits on presence for all images; MSE (box) and cross-entropy (class) averaged
    over the images with a digit (0 when there is none)."""
    present = y[:, 0] == 1
    loss = F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
    if present.any():
        loss = loss + box_weight * F.mse_loss(y_hat[present, 1:5], y[present, 1:5])
        loss = loss + F.cross_entropy(y_hat[present, 5:], y[present, 5].long())
    return loss


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


def reference_detection_loss(y_hat: torch.Tensor, y: torch.Tensor,
                             box_weight: float = 1.0) -> torch.Tensor:
    """The localisation loss of every cell, summed over the 2 x 3 cells."""
    return sum(reference_localization_loss(y_hat[:, row, col], y[:, row, col], box_weight)
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


# ---------------------------------------------------------------- helpers of the checks

def _random_relative_boxes(num: int, generator: torch.Generator) -> torch.Tensor:
    """Relative (x, y, w, h) boxes inside the image."""
    w = 0.1 + 0.5 * torch.rand(num, generator=generator)
    h = 0.1 + 0.5 * torch.rand(num, generator=generator)
    x = w / 2 + (1 - w) * torch.rand(num, generator=generator)
    y = h / 2 + (1 - h) * torch.rand(num, generator=generator)
    return torch.stack([x, y, w, h], dim=1)


def _as_tensor(value, check: str, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(check, f"{what} must return a torch tensor, got {type(value).__name__}")
    return value.detach().float()


def _close(a: torch.Tensor, b: torch.Tensor, tolerance: float = TOLERANCE) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, atol=tolerance, rtol=tolerance,
                                                      equal_nan=True))


def _swapped_xy(boxes: torch.Tensor) -> torch.Tensor:
    """Relative or pixel boxes with their x and y entries exchanged (last dimension of 4)."""
    return boxes[..., [1, 0, 3, 2]]


def _swap_variants(relative: torch.Tensor) -> list[torch.Tensor]:
    """Pixel corners of relative boxes computed with x and y mixed up in every way: the input
    read as (y, x, h, w), the width and height scales exchanged, the output as (y1, x1, y2, x2)."""
    variants = []
    for read_swapped in (False, True):
        for scale_swapped in (False, True):
            for write_swapped in (False, True):
                if read_swapped or scale_swapped or write_swapped:
                    boxes = _swapped_xy(relative) if read_swapped else relative
                    scale = PIXEL_SCALE[[1, 0, 3, 2]] if scale_swapped else PIXEL_SCALE
                    pixels = box_convert(boxes * scale, "cxcywh", "xyxy")
                    variants.append(_swapped_xy(pixels) if write_swapped else pixels)
    return variants


# ---------------------------------------------------------------- the checks

@hidden_check
def box_conversions(to_pixel_xyxy, to_relative_cxcywh):
    """Both directions on hidden boxes, and their round trip."""
    check = "box_conversions"
    relative = _random_relative_boxes(20, seeded_generator(41))
    expected = reference_to_pixel_xyxy(relative)
    pixels = _as_tensor(to_pixel_xyxy(relative.clone()), check, "to_pixel_xyxy")
    if not _close(pixels, expected, 1e-3):
        expect(not any(_close(pixels, s, 1e-3) for s in _swap_variants(relative)), check,
               f"to_pixel_xyxy: {SWAP_HINT}")
        expect(not _close(pixels, box_convert(relative, "cxcywh", "xyxy"), 1e-3), check,
               "to_pixel_xyxy returns relative corners: multiply x and w by the width (60) and "
               "y and h by the height (48)")
        raise CheckFailed(check, "to_pixel_xyxy gives wrong corners: (x1, y1) = (x - w/2, "
                                 "y - h/2) and (x2, y2) = (x + w/2, y + h/2), in pixels")
    back = _as_tensor(to_relative_cxcywh(expected.clone()), check, "to_relative_cxcywh")
    if not _close(back, relative, 1e-4):
        expect(not _close(back, _swapped_xy(relative), 1e-4), check,
               f"to_relative_cxcywh: {SWAP_HINT}")
        raise CheckFailed(check, "to_relative_cxcywh does not undo to_pixel_xyxy: give the centre "
                                 "and size divided by the image's width (x, w) and height (y, h)")


def _loss_cases() -> list[tuple[torch.Tensor, torch.Tensor, str]]:
    generator = seeded_generator(7)
    cases = []
    for num, present_share, what in ((12, 0.5, "a batch with and without digits"),
                                     (6, 0.0, "a batch without any digit"),
                                     (5, 1.0, "a batch where every image holds a digit")):
        y = torch.zeros(num, 6)
        present = torch.arange(num) < round(num * present_share)
        y[present, 0] = 1
        y[present, 1:5] = _random_relative_boxes(int(present.sum()), generator)
        y[present, 5] = torch.randint(0, 10, (int(present.sum()),), generator=generator).float()
        y = y[torch.randperm(num, generator=generator)]
        y_hat = torch.randn(num, 15, generator=generator)
        y_hat[:, 1:5] = 0.5 + 0.3 * y_hat[:, 1:5]
        cases.append((y_hat, y, what))
    return cases


def _loss_box_on_all(y_hat, y):
    return (F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
            + F.mse_loss(y_hat[:, 1:5], y[:, 1:5]) + _masked_ce(y_hat, y))


def _loss_class_on_all(y_hat, y):
    present = y[:, 0] == 1
    box = F.mse_loss(y_hat[present, 1:5], y[present, 1:5]) if present.any() else 0.0
    return (F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0]) + box
            + F.cross_entropy(y_hat[:, 5:], y[:, 5].long()))


def _loss_averaged_over_all(y_hat, y):
    present = (y[:, 0] == 1).float()
    box = ((y_hat[:, 1:5] - y[:, 1:5]) ** 2).mean(dim=1)
    ce = F.cross_entropy(y_hat[:, 5:], y[:, 5].long(), reduction="none")
    return (F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
            + (present * (box + ce)).mean())


def _loss_probabilities(y_hat, y):
    present = y[:, 0] == 1
    loss = F.binary_cross_entropy_with_logits(torch.sigmoid(y_hat[:, 0]), y[:, 0])
    if present.any():
        loss = loss + F.mse_loss(y_hat[present, 1:5], y[present, 1:5]) + _masked_ce(y_hat, y)
    return loss


def _masked_ce(y_hat, y):
    present = y[:, 0] == 1
    return F.cross_entropy(y_hat[present, 5:], y[present, 5].long()) if present.any() else 0.0


LOSS_MISTAKES = [
    (_loss_box_on_all, "the box term (MSE) is applied to images without a digit: their x, y, "
                       "w, h mean nothing, so compute the MSE only where p = 1"),
    (_loss_class_on_all, "the class term (cross-entropy) is applied to images without a digit: "
                         "compute it only where p = 1"),
    (_loss_averaged_over_all, "the box and class terms are averaged over all images; average "
                              "them over the images with a digit only"),
    (_loss_probabilities, "the presence term gets probabilities: BCE-with-logits takes the raw "
                          "output (it applies the sigmoid itself)"),
]


@hidden_check
def localization_loss(loss_fn):
    """The masked loss on hidden batches (mixed, without any digit, all digits)."""
    check = "localization_loss"
    for y_hat, y, what in _loss_cases():
        value = loss_fn(y_hat.clone(), y.clone())
        value = _as_tensor(value, check, "localization_loss")
        expect(value.dim() == 0, check, f"the loss must be a single number (a 0-d tensor), got "
                                        f"shape {tuple(value.shape)}")
        expect(torch.isfinite(value), check,
               f"the loss is not finite on {what}: when no image holds a digit, the box and "
               "class terms are 0 (there is nothing to average)")
        expected = reference_localization_loss(y_hat, y)
        if not _close(value, expected):
            for mistake, message in LOSS_MISTAKES:
                expect(not _close(value, torch.as_tensor(mistake(y_hat, y)).float()), check,
                       message)
            raise CheckFailed(check, f"wrong value on {what}: BCE-with-logits on p over all "
                                     "images, plus MSE on (x, y, w, h) and cross-entropy on the "
                                     "class over the images with a digit")
    y_hat, y, _ = _loss_cases()[0]
    weighted = _as_tensor(loss_fn(y_hat.clone(), y.clone(), box_weight=5.0), check,
                          "localization_loss")
    expect(_close(weighted, reference_localization_loss(y_hat, y, box_weight=5.0)), check,
           "box_weight must multiply the box (MSE) term only")
    y_hat.requires_grad_(True)
    loss_fn(y_hat, y).backward()
    empty = y[:, 0] == 0
    expect(y_hat.grad is not None and torch.all(y_hat.grad[empty, 1:] == 0), check,
           "images without a digit must not push the box or class outputs (their gradient must "
           "be zero): apply those terms only where p = 1")


@hidden_check
def iou(iou_fn):
    """Pairwise IoU: random boxes, disjoint, touching, contained, identical, zero-area, empty."""
    check = "iou"
    generator = seeded_generator(3)
    random1 = reference_to_pixel_xyxy(_random_relative_boxes(7, generator))
    random2 = reference_to_pixel_xyxy(_random_relative_boxes(5, generator))
    cases = [
        (random1, random2, "random boxes"),
        (torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[20.0, 20, 30, 30]]), "disjoint boxes"),
        (torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[10.0, 0, 20, 10]]),
         "boxes that touch along an edge"),
        (torch.tensor([[0.0, 0, 20, 20]]), torch.tensor([[5.0, 5, 15, 15]]),
         "a box inside another"),
        (torch.tensor([[3.0, 4, 13, 24]]), torch.tensor([[3.0, 4, 13, 24]]), "identical boxes"),
        (torch.tensor([[5.0, 5, 5, 5], [0, 0, 10, 10]]), torch.tensor([[5.0, 5, 5, 5]]),
         "zero-area boxes (IoU 0 when the union is empty)"),
        (torch.zeros(0, 4), random2, "no boxes on one side (an empty 0 x M result)"),
    ]
    for boxes1, boxes2, what in cases:
        result = _as_tensor(iou_fn(boxes1.clone(), boxes2.clone()), check, "iou")
        expected = reference_iou(boxes1, boxes2)
        expect(result.shape == expected.shape, check,
               f"on {what} the result has shape {tuple(result.shape)}, expected "
               f"{tuple(expected.shape)} (one row per box of the first set)")
        expect(not torch.isnan(result).any(), check, f"NaN on {what}: return 0 where the union "
                                                     "is empty")
        expect(_close(result, expected), check, f"wrong IoU for {what}")


@hidden_check
def localization_metrics(metrics_fn):
    """Accuracy, mean IoU and score on hidden outputs."""
    check = "localization_metrics"
    y_hat, y, _ = _loss_cases()[0]
    y_hat = y_hat.clone()
    y_hat[:4, 0] = torch.where(y[:4, 0] == 1, 3.0, -3.0)  # some right presences
    result = metrics_fn(y_hat, y)
    expect(isinstance(result, dict) and {"accuracy", "mean_iou", "score"} <= set(result), check,
           "return a dictionary with the keys 'accuracy', 'mean_iou' and 'score'")
    expected = reference_localization_metrics(y_hat, y)
    for key, value in expected.items():
        got = float(result[key])
        if key == "accuracy" and not math.isclose(got, value, abs_tol=1e-4):
            raise CheckFailed(check, "wrong accuracy: an image counts as right when the predicted "
                                     "presence (logit > 0) is right and, if it holds a digit, the "
                                     "class is right too")
        if key == "mean_iou" and not math.isclose(got, value, abs_tol=1e-4):
            raise CheckFailed(check, "wrong mean IoU: average the IoU of the predicted and true "
                                     "boxes over the images that hold a digit")
        expect(math.isclose(got, value, abs_tol=1e-4), check,
               "wrong score: the mean of accuracy and mean IoU")


@hidden_check
def architectures(builders):
    """At least three different architectures, each mapping images to (N, 15) outputs."""
    check = "architectures"
    expect(isinstance(builders, dict) and len(builders) >= 3, check,
           "`architectures` must be a dictionary of at least three name: builder pairs")
    sizes = set()
    for name, build in builders.items():
        model = build()
        expect(isinstance(model, torch.nn.Module), check,
               f"architectures[{name!r}]() must return a torch.nn.Module")
        model.eval()
        with torch.no_grad():
            out = model(torch.rand(3, 1, IMAGE_HEIGHT, IMAGE_WIDTH, generator=seeded_generator(5)))
        expect(tuple(out.shape) == (3, 15) and bool(torch.isfinite(out).all()), check,
               f"{name}: a batch of 3 images must give finite outputs of shape (3, 15) (presence, "
               "box, 10 class scores)")
        sizes.add(sum(p.numel() for p in model.parameters()))
    expect(len(sizes) >= 3, check, "the three architectures must differ (they have the same "
                                   "number of parameters)")


@hidden_check
def select_best(select_fn):
    """The selection looks at each run's best validation epoch, not at its last one."""
    from vislab.training import History
    check = "select_best"

    def run(name, scores):
        history = History(name=name, metric_name="score",
                          epochs=[{"epoch": i + 1, "train_loss": 1.0, "val_loss": 1.0,
                                   "val_score": s} for i, s in enumerate(scores)])
        history.best_epoch = max(range(len(scores)), key=scores.__getitem__) + 1
        return history

    histories = {"first": run("first", [0.5, 0.8, 0.6]), "second": run("second", [0.6, 0.7, 0.75]),
                 "third": run("third", [0.2, 0.3, 0.4])}
    chosen = select_fn(histories)
    expect(chosen == reference_select_best(histories), check,
           "choose the run whose best validation score (over its epochs) is the highest; "
           "return its name")


def _random_objects(generator: torch.Generator, num_classes: int = DETECTION_CLASSES,
                    ) -> torch.Tensor:
    """Objects of one image, at most one centre per cell, none on a cell border."""
    cells = torch.randperm(GRID_ROWS * GRID_COLS, generator=generator)[
        :int(torch.randint(1, 5, (1,), generator=generator))]
    rows = []
    for cell in cells.tolist():
        row, col = divmod(cell, GRID_COLS)
        x_cell, y_cell = (0.05 + 0.9 * torch.rand(2, generator=generator)).tolist()
        w, h = (0.1 + 0.3 * torch.rand(2, generator=generator)).tolist()
        label = float(torch.randint(0, num_classes, (1,), generator=generator))
        rows.append([1.0, (col + x_cell) / GRID_COLS, (row + y_cell) / GRID_ROWS, w, h, label])
    return torch.tensor(rows)


@hidden_check
def encode_grid(encode_fn):
    """Grid labels of hidden images, and an image without objects."""
    check = "encode_grid"
    generator = seeded_generator(11)
    for _ in range(6):
        objects = _random_objects(generator)
        grid = _as_tensor(encode_fn(objects.clone()), check, "encode_grid")
        expected = reference_encode_grid(objects)
        expect(grid.shape == (GRID_ROWS, GRID_COLS, 6), check,
               f"the grid label must have shape (2, 3, 6), got {tuple(grid.shape)}")
        if _close(grid, expected):
            continue
        swapped = objects[:, [0, 2, 1, 4, 3, 5]]
        expect(not (grid[..., 0] == reference_encode_grid(swapped)[..., 0]).all()
               or (expected[..., 0] == reference_encode_grid(swapped)[..., 0]).all(), check,
               f"the digits land in the wrong cells: {SWAP_HINT}; the row comes from y "
               "(2 rows), the column from x (3 columns)")
        expect((grid[..., 0] == expected[..., 0]).all(), check,
               "the digits land in the wrong cells: row = floor(2 y), column = floor(3 x)")
        expect(_close(grid[..., 1:3], expected[..., 1:3]), check,
               "wrong centre in the cell: x_cell = 3 x - column, y_cell = 2 y - row")
        expect(_close(grid[..., 3:5], expected[..., 3:5]), check,
               "wrong box size in cell units: w_cell = 3 w, h_cell = 2 h")
        raise CheckFailed(check, "wrong class or presence: copy p and c into the cell")
    grid = _as_tensor(encode_fn(torch.zeros(0, 6)), check, "encode_grid")
    expect(grid.shape == (GRID_ROWS, GRID_COLS, 6) and not grid.any(), check,
           "an image without digits must give an all-zero grid (2, 3, 6)")


def _perfect_outputs(grid: torch.Tensor, num_classes: int = DETECTION_CLASSES) -> torch.Tensor:
    """Outputs ``Tensor[N, 2, 3, 5 + C]`` that say exactly the grid labels ``[N, 2, 3, 6]``."""
    outputs = torch.zeros(*grid.shape[:3], 5 + num_classes)
    outputs[..., 0] = torch.where(grid[..., 0] == 1, 8.0, -8.0)
    outputs[..., 1:5] = grid[..., 1:5]
    outputs[..., 5:] = 4 * F.one_hot(grid[..., 5].long(), num_classes).float()
    return outputs


@hidden_check
def decode_grid(decode_fn):
    """Round trip encode -> decode, and random outputs against the reference."""
    check = "decode_grid"
    generator = seeded_generator(13)
    objects = [_random_objects(generator) for _ in range(4)]
    grid = torch.stack([reference_encode_grid(o) for o in objects])
    decoded = decode_fn(_perfect_outputs(grid), min_score=0.5)
    expect(isinstance(decoded, list) and len(decoded) == len(objects), check,
           "return a list with one dictionary per image")
    for rows, detection, target in zip(objects, decoded, objects_to_targets(objects), strict=True):
        expect(isinstance(detection, dict) and {"boxes", "scores", "labels"} <= set(detection),
               check, "each image's entry is a dictionary with 'boxes', 'scores' and 'labels'")
        boxes = _as_tensor(detection["boxes"], check, "the 'boxes'")
        order = torch.argsort(rows[:, 2] * 10 + rows[:, 1])  # row-major cells
        expected = target["boxes"][order]
        if not _close(boxes, expected, 1e-3):
            relative = reference_to_relative_cxcywh(expected)
            expect(not any(_close(boxes, s, 1e-3) for s in _swap_variants(relative)),
                   check, f"decoded boxes: {SWAP_HINT}")
            raise CheckFailed(check, "a perfect prediction does not decode to the true boxes: "
                                     "x = (column + x_cell) / 3, y = (row + y_cell) / 2, "
                                     "w = w_cell / 3, h = h_cell / 2, then pixel corners; keep "
                                     "cells in row-major order and drop those scoring below "
                                     "min_score")
        expect(torch.equal(detection["labels"].long(), target["labels"][order]), check,
               "wrong labels: take the argmax of each cell's class outputs")
    outputs = torch.randn(3, GRID_ROWS, GRID_COLS, 5 + DETECTION_CLASSES, generator=generator)
    decoded = decode_fn(outputs.clone())
    for detection, expected in zip(decoded, reference_decode_grid(outputs), strict=True):
        expect(_close(_as_tensor(detection["scores"], check, "the 'scores'"), expected["scores"]),
               check, "with the default min_score=0 every cell is kept, scored by the sigmoid of "
                      "its presence output, in row-major order")
        expect(_close(_as_tensor(detection["boxes"], check, "the 'boxes'"), expected["boxes"],
                      1e-3), check, "wrong boxes for random outputs (with negative widths too)")


@hidden_check
def detection_loss(loss_fn):
    """The summed per-cell loss on hidden grids, and on a batch without any digit."""
    check = "detection_loss"
    generator = seeded_generator(17)
    grid = torch.stack([reference_encode_grid(_random_objects(generator)) for _ in range(5)])
    outputs = torch.randn(5, GRID_ROWS, GRID_COLS, 5 + DETECTION_CLASSES, generator=generator)
    for y_hat, y, what in ((outputs, grid, "a batch with digits"),
                           (outputs, torch.zeros_like(grid), "a batch without any digit")):
        value = _as_tensor(loss_fn(y_hat.clone(), y.clone()), check, "detection_loss")
        expected = reference_detection_loss(y_hat, y)
        if _close(value, expected):
            continue
        expect(not _close(value, expected / (GRID_ROWS * GRID_COLS)), check,
               "the cells' losses must be summed, not averaged")
        box_on_empty = sum(_loss_box_on_all(y_hat[:, row, col], y[:, row, col])
                           for row in range(GRID_ROWS) for col in range(GRID_COLS))
        expect(not _close(value, torch.as_tensor(box_on_empty).float()), check,
               "the box term (MSE) is applied to cells without a digit: in every cell, compute "
               "the MSE only where p = 1 (does your localization_loss mask it?)")
        flat = reference_localization_loss(y_hat.reshape(-1, y_hat.shape[-1]), y.reshape(-1, 6))
        expect(not _close(value, flat), check,
               "treat each cell separately (its own localisation loss over the batch) and sum "
               "the six cells' losses; flattening all cells into one batch averages them")
        raise CheckFailed(check, f"wrong value on {what}: the sum over the 2 x 3 cells of the "
                                 "localisation loss of that cell")


@hidden_check
def remove_duplicates(nms_fn):
    """Per-class NMS: overlapping boxes of one class collapse, other classes survive."""
    check = "remove_duplicates"
    detection = {
        "boxes": torch.tensor([[0.0, 0, 10, 20], [1, 1, 11, 21], [0, 0, 10, 20], [30, 5, 40, 25],
                               [31, 5, 41, 25], [2, 0, 12, 20]]),
        "scores": torch.tensor([0.9, 0.8, 0.7, 0.6, 0.95, 0.3]),
        "labels": torch.tensor([0, 0, 1, 1, 1, 0]),
    }
    kept = nms_fn({k: v.clone() for k, v in detection.items()}, iou_threshold=0.5)
    expected = reference_remove_duplicates(detection, 0.5)
    expect(isinstance(kept, dict) and {"boxes", "scores", "labels"} <= set(kept), check,
           "return a dictionary with 'boxes', 'scores' and 'labels'")
    scores = _as_tensor(kept["scores"], check, "the 'scores'")
    if not _close(scores, expected["scores"]):
        agnostic = torch.tensor([0.95, 0.9])
        expect(not _close(scores, agnostic), check,
               "boxes of different classes must not suppress each other: run NMS per class")
        expect(not _close(scores.sort(descending=True).values, expected["scores"]), check,
               "return the kept detections by decreasing score")
        raise CheckFailed(check, "wrong detections kept: within a class, drop a box whose IoU "
                                 "with a higher-scored box exceeds iou_threshold")
    expect(_close(_as_tensor(kept["boxes"], check, "the 'boxes'"), expected["boxes"]) and
           torch.equal(kept["labels"].long(), expected["labels"]), check,
           "keep each detection's box and label together with its score")


@hidden_check
def average_precision(ap_fn):
    """All-point interpolated AP: hand cases, a missed true box, random detections."""
    check = "average_precision"
    generator = seeded_generator(19)
    cases = [
        (torch.tensor([0.9, 0.8, 0.7]), torch.tensor([True, True, True]), 3, "all right"),
        (torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([True, False, True, False]), 2,
         "a false positive between two true positives"),
        (torch.tensor([0.3, 0.9, 0.6]), torch.tensor([True, False, True]), 4,
         "unsorted scores and true boxes never detected"),
        (torch.tensor([0.5]), torch.tensor([False]), 1, "only a false positive"),
    ]
    for _ in range(3):
        num = int(torch.randint(5, 30, (1,), generator=generator))
        flags = torch.rand(num, generator=generator) < 0.6
        cases.append((torch.rand(num, generator=generator), flags,
                      int(flags.sum()) + int(torch.randint(0, 4, (1,), generator=generator)),
                      "random detections"))
    for scores, flags, num_true, what in cases:
        value = float(ap_fn(scores.clone(), flags.clone(), num_true))
        expected = reference_average_precision(scores, flags, num_true)
        expect(math.isclose(value, expected, abs_tol=1e-4), check,
               f"wrong AP for {what}: sort by decreasing score, take precision and recall after "
               "each detection (recall divides by the number of true boxes), make precision "
               "non-increasing from the right, and sum precision times the recall steps")


def _noisy_detections(targets: list[dict], generator: torch.Generator) -> list[dict]:
    """Hidden predictions: jittered true boxes, duplicates, wrong labels and false alarms."""
    predictions = []
    for target in targets:
        boxes, labels = target["boxes"], target["labels"]
        jitter = 3 * torch.randn(len(boxes), 4, generator=generator)
        extra = reference_to_pixel_xyxy(_random_relative_boxes(2, generator))
        flipped = labels.clone()
        flipped[torch.rand(len(labels), generator=generator) < 0.15] ^= 1
        all_boxes = torch.cat([boxes + jitter, boxes[:1] + 1.0, extra])
        all_labels = torch.cat([flipped, labels[:1],
                                torch.randint(0, DETECTION_CLASSES, (2,), generator=generator)])
        predictions.append({"boxes": all_boxes, "labels": all_labels,
                            "scores": torch.rand(len(all_boxes), generator=generator)})
    return predictions


@hidden_check
def mean_average_precision(map_fn):
    """mAP@0.5 of hidden noisy detections against hidden true boxes."""
    check = "mean_average_precision"
    generator = seeded_generator(23)
    targets = objects_to_targets([_random_objects(generator) for _ in range(25)])
    predictions = _noisy_detections(targets, generator)
    value = float(map_fn([{k: v.clone() for k, v in p.items()} for p in predictions],
                         [{k: v.clone() for k, v in t.items()} for t in targets],
                         iou_threshold=0.5))
    accepted = {reference_mean_average_precision(predictions, targets, 0.5, voc_style)
                for voc_style in (False, True)}
    if any(math.isclose(value, v, abs_tol=1e-4) for v in accepted):
        return
    at_other = reference_mean_average_precision(predictions, targets, 0.75)
    expect(not math.isclose(value, at_other, abs_tol=1e-4), check,
           "use the iou_threshold argument (0.5 here)")
    raise CheckFailed(check, "wrong mAP: per class, visit detections by decreasing score, match "
                             "each to the best unmatched true box of its image and class (a true "
                             "positive when IoU >= iou_threshold), compute that class's AP, and "
                             "average over the classes that have true boxes")


# ---------------------------------------------------------------- the predictions CSV

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


def read_detections_csv(path, ids) -> list[dict]:
    """The validated detections of a predictions CSV, in the order of ``ids``."""
    frame = read_predictions(path, CSV_COLUMNS, ids)
    return [parse_prediction_string(text, f"{CSV_NAME} row with Id {image_id}")
            for image_id, text in zip(frame["Id"], frame[PREDICTION_COLUMN], strict=True)]


def score_predictions(path, heldout: dict | None = None) -> tuple[float, float]:
    """(public, private) mAP@0.5 of a predictions CSV on the held-out boxes.

    ``heldout`` maps test ids to their objects (``Tensor[K, 6]``); by default the selected
    dataset's held-out test labels. Raises ``InvalidPredictions`` for a file that cannot be scored.
    """
    if heldout is None:
        from vislab.a4_detection.data import heldout_detection_objects
        heldout = heldout_detection_objects()
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


@hidden_check
def detections_csv(path=CSV_NAME, heldout: dict | None = None) -> float:
    """Points for the CSV's private mAP@0.5 on the held-out boxes (partial credit)."""
    check = "detections_csv"
    try:
        public, private = score_predictions(path, heldout)
    except InvalidPredictions as error:
        raise CheckFailed(check, str(error)) from None
    points = csv_points(private)
    print(f"mAP@0.5 on the hidden test boxes: public {public:.3f}, private {private:.3f} -> "
          f"{points:g} of {CSV_POINTS} points (0 at {MAP_BASELINE}, all at {MAP_TARGET})")
    expect(points > 0, check, f"mAP@0.5 {private:.3f} is not above {MAP_BASELINE}: train the "
                              "detector longer or improve it, and look at its boxes drawn over "
                              "the validation images")
    return points


def _outside_kernel_points(folder: Path) -> float:
    try:
        return csv_points(score_predictions(Path(folder) / CSV_NAME)[1])
    except InvalidPredictions:
        return 0.0


OUTSIDE_KERNEL = {"test_detections_csv": _outside_kernel_points}
LEADERBOARD = LeaderboardSpec(file_name=CSV_NAME, metric="mAP@0.5", score=score_predictions)


def prepare_grading() -> None:
    """Build the embedded set (and its held-out boxes) before graders run in parallel."""
    from vislab.a4_detection.data import heldout_detection_objects

    heldout_detection_objects()

"""Judges of a4_detection: pytest checks over the evidence of one submission (grading side only).

Each judge makes the hidden inputs again (the input functions of ``evidence.py``), compares what
the student's function returned on them with the references (``references.py``), and where a
known mistake explains the difference (``mistakes.py``: x and y swapped, the box loss on empty
images, a missing sigmoid...) names it. The predictions CSV is judged from the handed-in file on
the held-out boxes, with partial credit. See :mod:`autograder.judging.plugin` for the fixtures
and how to run this file by hand on one submission.
"""

import math

import numpy as np
import pytest
import torch

from autograder.checks.a4_detection.evidence import (
    DETECTION_KEYS,
    METRIC_KEYS,
    ap_cases,
    conversion_inputs,
    decode_inputs,
    detection_loss_cases,
    encode_inputs,
    hidden_histories,
    iou_cases,
    loss_cases,
    map_inputs,
    metrics_inputs,
    nms_input,
)
from autograder.checks.a4_detection.heldout import score_predictions
from autograder.checks.a4_detection.mistakes import (
    LOSS_MISTAKES,
    SWAP_HINT,
    corners_without_scaling,
    loss_box_on_all,
    swap_variants,
    swapped_xy,
)
from autograder.checks.a4_detection.references import (
    LOCALIZATION_LOSSES,
    objects_to_targets,
    reference_average_precision,
    reference_decode_grid,
    reference_detection_loss,
    reference_encode_grid,
    reference_iou,
    reference_localization_metrics,
    reference_mean_average_precision,
    reference_remove_duplicates,
    reference_select_best,
    reference_to_pixel_xyxy,
    reference_to_relative_cxcywh,
)
from autograder.checks.a4_detection.scoring import CSV_NAME, MAP_BASELINE, csv_points
from autograder.predictions_csv import InvalidPredictions
from vislab.data.inf265_labels import GRID_COLS, GRID_ROWS

TOLERANCE = 1e-4


# ---------------------------------------------------------------- reading what came back

def returned_tensor(result: dict, what: str, where: str = "") -> torch.Tensor:
    """The tensor a student's function returned (as float), or a failed judge saying why not."""
    assert "error" not in result, f"{what} raised {result.get('error')}{where}"
    assert result.get("is_tensor"), f"{what} must return a torch tensor, got {result.get('type')}"
    value = result.get("value")
    assert isinstance(value, np.ndarray), \
        f"{what} returned a tensor that could not be checked{where} ({value})"
    return torch.from_numpy(np.array(value)).float()


def returned_float(result: dict, what: str, where: str = "") -> float:
    """The number a student's function returned, or a failed judge saying why not."""
    assert "not_a_number" not in result, \
        f"{what} must return a number, got {result.get('not_a_number')}"
    assert "error" not in result, f"{what} raised {result.get('error')}{where}"
    value = result.get("value")
    assert isinstance(value, float), f"{what} must return a number{where}"
    return value


def close(a: torch.Tensor, b: torch.Tensor, tolerance: float = TOLERANCE) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b.float(), atol=tolerance,
                                                      rtol=tolerance, equal_nan=True))


def failed(message: str):
    pytest.fail(message, pytrace=False)


# ---------------------------------------------------------------- part 1: localisation

@pytest.mark.cell("test_box_conversions")
def test_box_conversions(evidence):
    """Both directions on hidden boxes."""
    facts = evidence("box_conversions")
    relative, pixels_given = conversion_inputs()
    expected = reference_to_pixel_xyxy(relative)
    pixels = returned_tensor(facts["to_pixel"], "to_pixel_xyxy")
    if not close(pixels, expected, 1e-3):
        assert not any(close(pixels, variant, 1e-3) for variant in swap_variants(relative)), \
            f"to_pixel_xyxy: {SWAP_HINT}"
        assert not close(pixels, corners_without_scaling(relative), 1e-3), \
            ("to_pixel_xyxy returns relative corners: multiply x and w by the width (60) and y "
             "and h by the height (48)")
        failed("to_pixel_xyxy gives wrong corners: (x1, y1) = (x - w/2, y - h/2) and (x2, y2) = "
               "(x + w/2, y + h/2), in pixels")
    back = returned_tensor(facts["to_relative"], "to_relative_cxcywh")
    expected_back = reference_to_relative_cxcywh(pixels_given)
    if not close(back, expected_back, 1e-4):
        assert not close(back, swapped_xy(expected_back), 1e-4), f"to_relative_cxcywh: {SWAP_HINT}"
        failed("to_relative_cxcywh does not undo to_pixel_xyxy: give the centre and size divided "
               "by the image's width (x, w) and height (y, h)")


@pytest.mark.cell("test_localization_loss")
def test_localization_loss(evidence):
    """The masked loss on hidden batches (mixed, without any digit, all digits), box_weight,
    and no gradient from images without a digit to their box or class outputs."""
    facts = evidence("localization_loss")
    cases = loss_cases()
    for result, (y_hat, y, what) in zip(facts["cases"], cases, strict=True):
        value = returned_tensor(result, "localization_loss", f" on {what}")
        assert value.dim() == 0, \
            f"the loss must be a single number (a 0-d tensor), got shape {tuple(value.shape)}"
        assert bool(torch.isfinite(value)), \
            (f"the loss is not finite on {what}: when no image holds a digit, the box and class "
             "terms are 0 (there is nothing to average)")
        if any(close(value, loss(y_hat, y)) for loss in LOCALIZATION_LOSSES):
            continue
        for mistake, message in LOSS_MISTAKES:
            assert not close(value, torch.as_tensor(mistake(y_hat, y)).float()), message
        failed(f"wrong value on {what}: BCE-with-logits on p over all images, plus MSE on (x, y, "
               "w, h) and cross-entropy on the class where p = 1, either averaged over the "
               "images with a digit or (INF265's definition) as each image's loss averaged over "
               "all images")
    y_hat, y, _ = cases[0]
    weighted = returned_tensor(facts["weighted"], "localization_loss", " with box_weight=5.0")
    assert any(close(weighted, loss(y_hat, y, box_weight=5.0)) for loss in LOCALIZATION_LOSSES), \
        "box_weight must multiply the box (MSE) term only"
    gradient = facts["gradient"]
    assert "error" not in gradient, \
        f"the loss could not be differentiated: loss.backward() raised {gradient.get('error')}"
    grad, empty = gradient.get("value"), (y[:, 0] == 0).numpy()
    assert isinstance(grad, np.ndarray) and grad.shape == tuple(y_hat.shape) \
        and bool((grad[empty, 1:] == 0).all()), \
        ("images without a digit must not push the box or class outputs (their gradient must be "
         "zero): apply those terms only where p = 1")


@pytest.mark.cell("test_iou")
def test_iou(evidence):
    """Pairwise IoU: random boxes, disjoint, touching, contained, identical, zero-area, empty."""
    results = evidence("iou")["results"]
    for result, (boxes1, boxes2, what) in zip(results, iou_cases(), strict=True):
        got = returned_tensor(result, "iou", f" on {what}")
        expected = reference_iou(boxes1, boxes2)
        assert got.shape == expected.shape, \
            (f"on {what} the result has shape {tuple(got.shape)}, expected "
             f"{tuple(expected.shape)} (one row per box of the first set)")
        assert not torch.isnan(got).any(), f"NaN on {what}: return 0 where the union is empty"
        assert close(got, expected), f"wrong IoU for {what}"


@pytest.mark.cell("test_localization_metrics")
def test_localization_metrics(evidence):
    """Accuracy, mean IoU and score on hidden outputs."""
    facts = evidence("localization_metrics")
    assert "error" not in facts, f"localization_metrics raised {facts.get('error')}"
    assert set(METRIC_KEYS) <= set(facts.get("keys", [])), \
        "return a dictionary with the keys 'accuracy', 'mean_iou' and 'score'"
    for key, value in reference_localization_metrics(*metrics_inputs()).items():
        got = returned_float(facts["values"][key], f"the value of {key!r}")
        if key == "accuracy" and not math.isclose(got, value, abs_tol=1e-4):
            failed("wrong accuracy: an image counts as right when the predicted presence (logit "
                   "> 0) is right and, if it holds a digit, the class is right too")
        if key == "mean_iou" and not math.isclose(got, value, abs_tol=1e-4):
            failed("wrong mean IoU: average the IoU of the predicted and true boxes over the "
                   "images that hold a digit")
        assert math.isclose(got, value, abs_tol=1e-4), \
            "wrong score: the mean of accuracy and mean IoU"


@pytest.mark.cell("test_architectures")
def test_architectures(evidence):
    """At least three different architectures, each mapping images to (N, 15) outputs."""
    models = evidence("architectures").get("models")
    assert isinstance(models, list) and len(models) >= 3, \
        "`architectures` must be a dictionary of at least three name: builder pairs"
    sizes = set()
    for model in models:
        assert "build_error" not in model, \
            f"architectures[{model['repr']}]() raised {model.get('build_error')}"
        assert model.get("is_module"), \
            f"architectures[{model['repr']}]() must return a torch.nn.Module"
        assert "forward_error" not in model, \
            f"{model['name']}: a batch of 3 images raised {model.get('forward_error')}"
        assert model.get("output_shape") == [3, 15] and model.get("finite"), \
            (f"{model['name']}: a batch of 3 images must give finite outputs of shape (3, 15) "
             "(presence, box, 10 class scores)")
        sizes.add(model["num_parameters"])
    assert len(sizes) >= 3, \
        "the three architectures must differ (they have the same number of parameters)"


@pytest.mark.cell("test_select_best")
def test_select_best(evidence):
    """The selection looks at each run's best validation epoch, not at its last one."""
    chosen = evidence("select_best")
    assert "error" not in chosen, f"select_best raised {chosen.get('error')}"
    assert chosen.get("value") == reference_select_best(hidden_histories()), \
        ("choose the run whose best validation score (over its epochs) is the highest; return "
         "its name")


# ---------------------------------------------------------------- part 2: detection on a grid

@pytest.mark.cell("test_encode_grid")
def test_encode_grid(evidence):
    """Grid labels of hidden images, and an image without objects."""
    facts = evidence("encode_grid")
    for result, objects in zip(facts["grids"], encode_inputs(), strict=True):
        grid = returned_tensor(result, "encode_grid")
        expected = reference_encode_grid(objects)
        assert grid.shape == (GRID_ROWS, GRID_COLS, 6), \
            f"the grid label must have shape (2, 3, 6), got {tuple(grid.shape)}"
        if close(grid, expected):
            continue
        swapped_cells = reference_encode_grid(objects[:, [0, 2, 1, 4, 3, 5]])[..., 0]
        assert not (grid[..., 0] == swapped_cells).all() \
            or (expected[..., 0] == swapped_cells).all(), \
            (f"the digits land in the wrong cells: {SWAP_HINT}; the row comes from y (2 rows), "
             "the column from x (3 columns)")
        assert (grid[..., 0] == expected[..., 0]).all(), \
            "the digits land in the wrong cells: row = floor(2 y), column = floor(3 x)"
        assert close(grid[..., 1:3], expected[..., 1:3]), \
            "wrong centre in the cell: x_cell = 3 x - column, y_cell = 2 y - row"
        assert close(grid[..., 3:5], expected[..., 3:5]), \
            "wrong box size in cell units: w_cell = 3 w, h_cell = 2 h"
        failed("wrong class or presence: copy p and c into the cell")
    grid = returned_tensor(facts["empty"], "encode_grid", " on an image without digits")
    assert grid.shape == (GRID_ROWS, GRID_COLS, 6) and not grid.any(), \
        "an image without digits must give an all-zero grid (2, 3, 6)"


def _decoded_images(result: dict, count: int) -> list[dict]:
    assert "error" not in result, f"decode_grid raised {result.get('error')}"
    images = result.get("images")
    assert isinstance(images, list) and len(images) == count, \
        "return a list with one dictionary per image"
    for detection in images:
        assert detection.get("is_dict") and set(DETECTION_KEYS) <= set(detection["keys"]), \
            "each image's entry is a dictionary with 'boxes', 'scores' and 'labels'"
    return images


@pytest.mark.cell("test_decode_grid")
def test_decode_grid(evidence):
    """Perfect outputs decode to the true boxes; random outputs as the reference decodes them."""
    facts = evidence("decode_grid")
    objects, _, outputs = decode_inputs()
    decoded = _decoded_images(facts["perfect"], len(objects))
    for rows, detection, target in zip(objects, decoded, objects_to_targets(objects),
                                       strict=True):
        boxes = returned_tensor(detection["boxes"], "the 'boxes'")
        order = torch.argsort(rows[:, 2] * 10 + rows[:, 1])  # row-major cells
        expected = target["boxes"][order]
        if not close(boxes, expected, 1e-3):
            relative = reference_to_relative_cxcywh(expected)
            assert not any(close(boxes, variant, 1e-3) for variant in swap_variants(relative)), \
                f"decoded boxes: {SWAP_HINT}"
            failed("a perfect prediction does not decode to the true boxes: x = (column + "
                   "x_cell) / 3, y = (row + y_cell) / 2, w = w_cell / 3, h = h_cell / 2, then "
                   "pixel corners; keep cells in row-major order and drop those scoring below "
                   "min_score")
        labels = returned_tensor(detection["labels"], "the 'labels'").long()
        assert torch.equal(labels, target["labels"][order]), \
            "wrong labels: take the argmax of each cell's class outputs"
    decoded = _decoded_images(facts["random"], len(outputs))
    for detection, expected in zip(decoded, reference_decode_grid(outputs), strict=True):
        assert close(returned_tensor(detection["scores"], "the 'scores'"), expected["scores"]), \
            ("with the default min_score=0 every cell is kept, scored by the sigmoid of its "
             "presence output, in row-major order")
        assert close(returned_tensor(detection["boxes"], "the 'boxes'"), expected["boxes"], 1e-3), \
            "wrong boxes for random outputs (with negative widths too)"


@pytest.mark.cell("test_detection_loss")
def test_detection_loss(evidence):
    """The summed per-cell loss on hidden grids, and on a batch without any digit."""
    results = evidence("detection_loss")["results"]
    for result, (y_hat, y, what) in zip(results, detection_loss_cases(), strict=True):
        value = returned_tensor(result, "detection_loss", f" on {what}")
        expected = reference_detection_loss(y_hat, y)
        if any(close(value, reference_detection_loss(y_hat, y, localization_loss=loss))
               for loss in LOCALIZATION_LOSSES):
            continue
        assert not close(value, expected / (GRID_ROWS * GRID_COLS)), \
            "the cells' losses must be summed, not averaged"
        box_on_empty = sum(loss_box_on_all(y_hat[:, row, col], y[:, row, col])
                           for row in range(GRID_ROWS) for col in range(GRID_COLS))
        assert not close(value, torch.as_tensor(box_on_empty).float()), \
            ("the box term (MSE) is applied to cells without a digit: in every cell, compute the "
             "MSE only where p = 1 (does your localization_loss mask it?)")
        flat_y_hat, flat_y = y_hat.reshape(-1, y_hat.shape[-1]), y.reshape(-1, 6)
        assert not any(close(value, loss(flat_y_hat, flat_y)) for loss in LOCALIZATION_LOSSES), \
            ("treat each cell separately (its own localisation loss over the batch) and sum the "
             "six cells' losses; flattening all cells into one batch averages them")
        failed(f"wrong value on {what}: the sum over the 2 x 3 cells of the localisation loss of "
               "that cell")


@pytest.mark.cell("test_remove_duplicates")
def test_remove_duplicates(evidence):
    """Per-class NMS: overlapping boxes of one class collapse, other classes survive."""
    kept = evidence("remove_duplicates")["kept"]
    assert "error" not in kept, f"remove_duplicates raised {kept.get('error')}"
    assert kept.get("is_dict") and set(DETECTION_KEYS) <= set(kept["keys"]), \
        "return a dictionary with 'boxes', 'scores' and 'labels'"
    expected = reference_remove_duplicates(nms_input(), 0.5)
    scores = returned_tensor(kept["scores"], "the 'scores'")
    if not close(scores, expected["scores"]):
        assert not close(scores, torch.tensor([0.95, 0.9])), \
            "boxes of different classes must not suppress each other: run NMS per class"
        assert not close(scores.sort(descending=True).values, expected["scores"]), \
            "return the kept detections by decreasing score"
        failed("wrong detections kept: within a class, drop a box whose IoU with a higher-scored "
               "box exceeds iou_threshold")
    boxes = returned_tensor(kept["boxes"], "the 'boxes'")
    labels = returned_tensor(kept["labels"], "the 'labels'").long()
    assert close(boxes, expected["boxes"]) and torch.equal(labels, expected["labels"]), \
        "keep each detection's box and label together with its score"


@pytest.mark.cell("test_average_precision")
def test_average_precision(evidence):
    """All-point interpolated AP: hand cases, a missed true box, random detections."""
    values = evidence("average_precision")["values"]
    for result, (scores, flags, num_true, what) in zip(values, ap_cases(), strict=True):
        value = returned_float(result, "average_precision", f" for {what}")
        assert math.isclose(value, reference_average_precision(scores, flags, num_true),
                            abs_tol=1e-4), \
            (f"wrong AP for {what}: sort by decreasing score, take precision and recall after "
             "each detection (recall divides by the number of true boxes), make precision "
             "non-increasing from the right, and sum precision times the recall steps")


@pytest.mark.cell("test_mean_average_precision")
def test_mean_average_precision(evidence):
    """mAP@0.5 of hidden noisy detections against hidden true boxes (greedy matching, or VOC's)."""
    value = returned_float(evidence("mean_average_precision"), "mean_average_precision")
    predictions, targets = map_inputs()
    accepted = [reference_mean_average_precision(predictions, targets, 0.5, voc_style)
                for voc_style in (False, True)]
    if any(math.isclose(value, right, abs_tol=1e-4) for right in accepted):
        return
    assert not math.isclose(value, reference_mean_average_precision(predictions, targets, 0.75),
                            abs_tol=1e-4), "use the iou_threshold argument (0.5 here)"
    failed("wrong mAP: per class, visit detections by decreasing score, match each to the best "
           "unmatched true box of its image and class (a true positive when IoU >= "
           "iou_threshold), compute that class's AP, and average over the classes that have "
           "true boxes")


# ---------------------------------------------------------------- the predictions CSV

@pytest.mark.cell("test_detections_csv")
def test_detections_csv(submission, heldout_key, credit):
    """Points for the handed-in CSV's private mAP@0.5 on the held-out boxes (partial credit)."""
    try:
        _, private = score_predictions(submission / CSV_NAME, heldout_key)
    except InvalidPredictions as error:
        failed(str(error))
    points = csv_points(private)
    assert points > 0, (f"mAP@0.5 {private:.3f} is not above {MAP_BASELINE}: train the detector "
                        "longer or improve it, and look at its boxes drawn over the validation "
                        "images")
    credit(points)

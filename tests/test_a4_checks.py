"""a4_detection hidden checks: the references pass, each known mistake fails with its message."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import box_iou, clip_boxes_to_image, nms

from autograder.checks import a4_detection as hidden
from autograder.checks.core import CheckFailed
from autograder.known_wrong.a4_detection import KNOWN_WRONG
from autograder.predictions_csv import InvalidPredictions
from vislab.a4_detection.detections_csv import format_prediction_string
from vislab.kaggle import write_predictions
from vislab.seeds import seeded_generator
from vislab.training import History


def _fails(check, *args, match: str):
    with pytest.raises(CheckFailed, match=match):
        check(*args)


@pytest.mark.parametrize(("check", "reference"), [
    (hidden.localization_loss, hidden.reference_localization_loss),
    (hidden.iou, hidden.reference_iou),
    (hidden.localization_metrics, hidden.reference_localization_metrics),
    (hidden.select_best, hidden.reference_select_best),
    (hidden.encode_grid, hidden.reference_encode_grid),
    (hidden.decode_grid, hidden.reference_decode_grid),
    (hidden.detection_loss, hidden.reference_detection_loss),
    (hidden.remove_duplicates, hidden.reference_remove_duplicates),
    (hidden.average_precision, hidden.reference_average_precision),
    (hidden.mean_average_precision, hidden.reference_mean_average_precision),
])
def test_the_reference_passes(check, reference):
    assert check(reference) is None


def test_the_conversions_pass_and_a_swap_of_x_and_y_is_named():
    hidden.box_conversions(hidden.reference_to_pixel_xyxy, hidden.reference_to_relative_cxcywh)

    def swapped_scales(boxes):
        return hidden.box_convert(boxes * torch.tensor([48.0, 60, 48, 60]), "cxcywh", "xyxy")

    def read_as_yx(boxes):
        return hidden.reference_to_pixel_xyxy(boxes[:, [1, 0, 3, 2]])

    for wrong in (swapped_scales, read_as_yx):
        _fails(hidden.box_conversions, wrong, hidden.reference_to_relative_cxcywh,
               match="x and y look swapped")
    _fails(hidden.box_conversions, lambda b: hidden.box_convert(b, "cxcywh", "xyxy"),
           hidden.reference_to_relative_cxcywh, match="relative corners")


def _known_wrong(name: str):
    """The function a known-wrong cell defines."""
    wrong = KNOWN_WRONG[name]
    namespace = {"torch": torch, "F": F, "box_convert": hidden.box_convert}
    exec(wrong.source, namespace)
    return namespace[wrong.cell]


_box_loss_on_empty_images = _known_wrong("box_loss_on_empty_images")


def _weight_on_everything(y_hat, y, box_weight=1.0):
    return box_weight * hidden.reference_localization_loss(y_hat, y)


@pytest.mark.parametrize(("loss", "message"), [
    (_box_loss_on_empty_images, "box term .* applied to images without a digit"),
    (_known_wrong("nan_without_digits"), "not finite on a batch without any digit"),
    (_weight_on_everything, "box_weight must multiply the box"),
    (lambda y_hat, y, box_weight=1.0: hidden._loss_probabilities(y_hat, y), "probabilities"),
])
def test_known_wrong_losses_get_their_message(loss, message):
    _fails(hidden.localization_loss, loss, match=message)


def _loop_iou(boxes1, boxes2):
    """An independent IoU (a double loop) that the check must accept."""
    result = torch.zeros(len(boxes1), len(boxes2))
    for i, (a1, b1, a2, b2) in enumerate(boxes1.tolist()):
        for j, (c1, d1, c2, d2) in enumerate(boxes2.tolist()):
            inter = max(0.0, min(a2, c2) - max(a1, c1)) * max(0.0, min(b2, d2) - max(b1, d1))
            union = (a2 - a1) * (b2 - b1) + (c2 - c1) * (d2 - d1) - inter
            result[i, j] = inter / union if union > 0 else 0.0
    return result


def test_iou_accepts_another_correct_implementation_and_rejects_nan_or_no_clamping():
    hidden.iou(_loop_iou)
    _fails(hidden.iou, box_iou, match="NaN on zero-area")

    def unclamped(boxes1, boxes2):
        area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
        area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
        sides = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:]) \
            - torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
        inter = sides[..., 0] * sides[..., 1]
        union = area1[:, None] + area2[None] - inter
        return (inter / union).nan_to_num(0.0)

    _fails(hidden.iou, unclamped, match="wrong IoU for (random|disjoint)")


def test_metrics_that_count_iou_over_all_images_fail():
    def over_all_images(y_hat, y):
        result = hidden.reference_localization_metrics(y_hat, y)
        ious = hidden.reference_iou(hidden.reference_to_pixel_xyxy(y_hat[:, 1:5]),
                                    hidden.reference_to_pixel_xyxy(y[:, 1:5])).diagonal()
        return {**result, "mean_iou": ious.mean().item()}

    _fails(hidden.localization_metrics, over_all_images, match="wrong mean IoU")


def test_choosing_by_the_last_epoch_fails():
    def by_last_epoch(histories):
        return max(histories, key=lambda name: histories[name].epochs[-1]["val_score"])

    _fails(hidden.select_best, by_last_epoch, match="best validation score")


def test_architectures_must_be_three_different_models():
    def build():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 60, 15))

    def deeper():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 60, 8),
                                   torch.nn.ReLU(), torch.nn.Linear(8, 15))

    def wider():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 60, 16),
                                   torch.nn.ReLU(), torch.nn.Linear(16, 15))

    hidden.architectures({"a": build, "b": deeper, "c": wider})
    _fails(hidden.architectures, {"a": build, "b": build, "c": deeper}, match="must differ")
    _fails(hidden.architectures, {"a": build, "b": deeper}, match="at least three")


def test_encoding_with_x_and_y_swapped_names_the_swap():
    def swapped(objects):
        return hidden.reference_encode_grid(objects[:, [0, 2, 1, 4, 3, 5]])

    _fails(hidden.encode_grid, swapped, match="wrong cells: x and y look swapped")

    def image_units(objects):
        grid = hidden.reference_encode_grid(objects)
        grid[..., 3:5] = grid[..., 3:5] / torch.tensor([3.0, 2.0])
        return grid

    _fails(hidden.encode_grid, image_units, match="box size in cell units")


def test_decoding_with_x_and_y_swapped_names_the_swap():
    def swapped(y_hat, min_score=0.0):
        detections = hidden.reference_decode_grid(y_hat, min_score)
        return [dict(d, boxes=d["boxes"][:, [1, 0, 3, 2]]) for d in detections]

    _fails(hidden.decode_grid, swapped, match="decoded boxes: x and y look swapped")

    def ignores_min_score(y_hat, min_score=0.0):
        return hidden.reference_decode_grid(y_hat)

    _fails(hidden.decode_grid, ignores_min_score, match="perfect prediction does not decode")


def test_averaged_or_flattened_detection_losses_fail():
    def averaged(y_hat, y):
        return hidden.reference_detection_loss(y_hat, y) / 6

    def flattened(y_hat, y):
        return hidden.reference_localization_loss(y_hat.reshape(-1, y_hat.shape[-1]),
                                                  y.reshape(-1, 6))

    _fails(hidden.detection_loss, averaged, match="summed, not averaged")
    _fails(hidden.detection_loss, flattened, match="treat each cell separately")


def test_class_agnostic_nms_fails():
    def agnostic(detection, iou_threshold=0.5):
        keep = nms(detection["boxes"], detection["scores"], iou_threshold)
        return {key: value[keep] for key, value in detection.items()}

    _fails(hidden.remove_duplicates, agnostic, match="run NMS per class")


def _ap_by_integration(scores, is_tp, num_true, steps=2000):
    """All-point AP as the area under the interpolated precision-recall curve, numerically:
    the mean over recall levels r in (0, 1) of the best precision at a recall of at least r."""
    order = np.argsort(-scores.numpy(), kind="stable")
    hits = is_tp.numpy()[order].astype(float)
    recall = np.cumsum(hits) / num_true
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    levels = (np.arange(steps) + 0.5) / steps
    return float(np.mean([precision[recall >= r].max() if (recall >= r).any() else 0.0
                          for r in levels]))


def test_reference_ap_matches_the_area_under_the_interpolated_curve():
    generator = seeded_generator(0)
    for _ in range(5):
        num = int(torch.randint(3, 40, (1,), generator=generator))
        scores = torch.rand(num, generator=generator)
        flags = torch.rand(num, generator=generator) < 0.5
        num_true = int(flags.sum()) + 2
        assert math.isclose(hidden.reference_average_precision(scores, flags, num_true),
                            _ap_by_integration(scores, flags, num_true), abs_tol=2e-3)
    assert math.isclose(hidden.reference_average_precision(
        torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([True, False, True, False]), 3), 5 / 9,
        abs_tol=1e-6)


def test_ap_without_interpolation_fails():
    def raw_precision(scores, is_tp, num_true):
        order = torch.argsort(scores, descending=True)
        hits = is_tp[order].float().cumsum(0)
        precision = hits / torch.arange(1, len(order) + 1)
        recall = hits / num_true
        return float(((recall - torch.cat([torch.zeros(1), recall[:-1]])) * precision).sum())

    _fails(hidden.average_precision, raw_precision, match="wrong AP")


def test_map_accepts_voc_matching_and_rejects_a_fixed_threshold():
    def voc(predictions, targets, iou_threshold=0.5):
        return hidden.reference_mean_average_precision(predictions, targets, iou_threshold, True)

    def fixed(predictions, targets, iou_threshold=0.5):
        return hidden.reference_mean_average_precision(predictions, targets, 0.75)

    hidden.mean_average_precision(voc)
    _fails(hidden.mean_average_precision, fixed, match="use the iou_threshold argument")


def test_reference_map_of_a_hand_example():
    targets = [{"boxes": torch.tensor([[0.0, 0, 10, 20], [30, 0, 40, 20]]),
                "labels": torch.tensor([0, 1])},
               {"boxes": torch.tensor([[5.0, 5, 15, 25]]), "labels": torch.tensor([0])}]
    predictions = [{"boxes": torch.tensor([[0.0, 0, 10, 20], [1, 1, 11, 21], [30, 25, 40, 45]]),
                    "scores": torch.tensor([0.9, 0.8, 0.7]), "labels": torch.tensor([0, 0, 1])},
                   {"boxes": torch.tensor([[5.0, 5, 15, 25]]), "scores": torch.tensor([0.6]),
                    "labels": torch.tensor([0])}]
    assert math.isclose(hidden.reference_mean_average_precision(predictions, targets), 5 / 12,
                        abs_tol=1e-6)


# ---------------------------------------------------------------- the predictions CSV

def _heldout(num: int = 40) -> dict[int, torch.Tensor]:
    """Test objects whose boxes lie inside the image (as the data's do)."""
    generator = seeded_generator(4)
    heldout = {}
    for i in range(num):
        rows = hidden._random_objects(generator)
        rows[:, 3] = torch.minimum(rows[:, 3], 2 * torch.minimum(rows[:, 1], 1 - rows[:, 1]))
        rows[:, 4] = torch.minimum(rows[:, 4], 2 * torch.minimum(rows[:, 2], 1 - rows[:, 2]))
        heldout[i] = rows
    return heldout


def _write_csv(path, heldout, shift: float = 0.0, strings: dict | None = None):
    rows = []
    for i in sorted(heldout):
        target = hidden.objects_to_targets([heldout[i]])[0]
        boxes = clip_boxes_to_image(target["boxes"] + shift, (48, 60))
        rows.append(format_prediction_string(boxes, torch.full((len(boxes),), 0.9),
                                             target["labels"]))
    for i, text in (strings or {}).items():
        rows[i] = text
    return write_predictions(path, sorted(heldout), {"PredictionString": rows})


def test_perfect_detections_score_one_and_full_points(tmp_path):
    heldout = _heldout()
    path = _write_csv(tmp_path / "a4_detections.csv", heldout)
    assert hidden.score_predictions(path, heldout) == pytest.approx((1.0, 1.0), abs=1e-6)
    assert hidden.detections_csv(path, heldout) == hidden.CSV_POINTS


def test_loose_boxes_earn_fewer_points(tmp_path):
    heldout = _heldout()
    path = _write_csv(tmp_path / "a4_detections.csv", heldout, shift=3.0)
    public, private = hidden.score_predictions(path, heldout)
    assert 0 < private < 1
    assert hidden.csv_points(private) < hidden.CSV_POINTS


@pytest.mark.parametrize(("text", "message"), [
    ("0 0.9 1 2 3", "groups of 6 numbers"),
    ("0 0.9 1 2 three 4", "not a number"),
    ("0 0.9 10 5 70 20", "outside the 60 x 48 image"),
    ("0 0.9 30 5 20 20", "negative width"),
    ("2 0.9 1 2 10 20", "whole number in 0..1"),
    ("0 1.5 1 2 10 20", "score must lie in"),
])
def test_malformed_prediction_strings_are_rejected_with_what_to_fix(tmp_path, text, message):
    heldout = _heldout(6)
    path = _write_csv(tmp_path / "a4_detections.csv", heldout, strings={3: text})
    with pytest.raises(InvalidPredictions, match=message):
        hidden.score_predictions(path, heldout)
    with pytest.raises(CheckFailed, match=message):
        hidden.detections_csv(path, heldout)


def test_an_unknown_id_or_an_empty_row_is_rejected(tmp_path):
    heldout = _heldout(6)
    path = _write_csv(tmp_path / "a4_detections.csv", heldout)
    path.write_text(path.read_text().replace("\n5,", "\n99,"))
    with pytest.raises(InvalidPredictions, match="no row for 1 test ids"):
        hidden.score_predictions(path, heldout)
    _write_csv(path, heldout, strings={2: ""})
    with pytest.raises(InvalidPredictions, match="empty or NaN"):
        hidden.score_predictions(path, heldout)


def test_the_outside_kernel_score_reads_the_submission_folder(tmp_path, monkeypatch):
    heldout = _heldout()
    monkeypatch.setattr(hidden, "score_predictions",
                        lambda path, held=None: (0.5, 0.5) if path.exists() else
                        (_ for _ in ()).throw(InvalidPredictions("missing")))
    assert hidden.OUTSIDE_KERNEL["test_detections_csv"](tmp_path) == 0.0
    _write_csv(tmp_path / hidden.CSV_NAME, heldout)
    assert hidden.OUTSIDE_KERNEL["test_detections_csv"](tmp_path) == hidden.csv_points(0.5)


def test_history_rows_used_by_the_selection_check_match_fit():
    history = History(name="run", metric_name="score", epochs=[{"val_score": 0.3}], best_epoch=1)
    assert hidden.reference_select_best({"run": history}) == "run"


def test_a_detection_loss_built_on_the_unmasked_loss_names_the_mask():
    def unmasked(y_hat, y):
        return sum(_box_loss_on_empty_images(y_hat[:, r, c], y[:, r, c])
                   for r in range(2) for c in range(3))

    _fails(hidden.detection_loss, unmasked, match="applied to cells without a digit")

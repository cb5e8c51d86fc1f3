"""a4_detection's evidence and judges: the references pass, each known mistake fails its cell with
its words. Each test records evidence in this process (``judge_collected``) and judges it as
grading does, so the evidence functions and the judges are tested together."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import box_convert, box_iou, clip_boxes_to_image, nms

from autograder.checks.a4_detection import evidence, mistakes, references, scoring
from autograder.heldout import store
from autograder.heldout.key import DEMO_KEY
from autograder.judging.in_process import judge_collected
from autograder.known_wrong.a4_detection import KNOWN_WRONG
from autograder.predictions_csv import InvalidPredictions
from vislab.a4_detection.detections_csv import format_prediction_string
from vislab.data.inf265_labels import flatten_objects, objects_to_grid
from vislab.kaggle import write_predictions
from vislab.seeds import seeded_generator
from vislab.training import History

R = references


def verdict(tmp_path, cell: str, collect, submission=None):
    """(points, failure messages) of ``cell`` after ``collect()`` recorded its evidence."""
    result = judge_collected("a4_detection", collect, tmp_path / "out", submission)[cell]
    return result.points, " ".join(outcome.message for outcome in result.failures)


def _models(*widths):
    def builder(width):
        return lambda: torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 60, width),
                                           torch.nn.ReLU(), torch.nn.Linear(width, 15))
    return {f"m{width}": builder(width) for width in widths}


def _reference_answers():
    evidence.box_conversions(R.reference_to_pixel_xyxy, R.reference_to_relative_cxcywh)
    evidence.localization_loss(R.reference_localization_loss)
    evidence.iou(R.reference_iou)
    evidence.localization_metrics(R.reference_localization_metrics)
    evidence.architectures(_models(4, 8, 16))
    evidence.select_best(R.reference_select_best)
    evidence.encode_grid(R.reference_encode_grid)
    evidence.decode_grid(R.reference_decode_grid)
    evidence.detection_loss(R.reference_detection_loss)
    evidence.remove_duplicates(R.reference_remove_duplicates)
    evidence.average_precision(R.reference_average_precision)
    evidence.mean_average_precision(R.reference_mean_average_precision)


def test_the_references_get_every_point_of_their_cells(tmp_path):
    verdicts = judge_collected("a4_detection", _reference_answers, tmp_path / "out")
    graded = {cell: v.points for cell, v in verdicts.items() if cell != "test_detections_csv"}
    assert graded == {cell: v.max_points for cell, v in verdicts.items()
                      if cell != "test_detections_csv"}
    assert len(graded) == 12


def test_a_cell_whose_hidden_part_never_ran_scores_zero_and_says_so(tmp_path):
    points, message = verdict(tmp_path, "test_iou", lambda: None)
    assert points == 0 and "this check never ran" in message


def test_the_conversions_name_a_swap_of_x_and_y_and_forgotten_pixels(tmp_path):
    def swapped_scales(boxes):
        return box_convert(boxes * torch.tensor([48.0, 60, 48, 60]), "cxcywh", "xyxy")

    def read_as_yx(boxes):
        return R.reference_to_pixel_xyxy(boxes[:, [1, 0, 3, 2]])

    for wrong in (swapped_scales, read_as_yx):
        points, message = verdict(tmp_path, "test_box_conversions", lambda w=wrong: (
            evidence.box_conversions(w, R.reference_to_relative_cxcywh)))
        assert points == 0 and "to_pixel_xyxy: x and y look swapped" in message
    points, message = verdict(tmp_path, "test_box_conversions", lambda: evidence.box_conversions(
        lambda b: box_convert(b, "cxcywh", "xyxy"), R.reference_to_relative_cxcywh))
    assert points == 0 and "relative corners" in message
    points, message = verdict(tmp_path, "test_box_conversions", lambda: evidence.box_conversions(
        R.reference_to_pixel_xyxy, lambda b: R.reference_to_relative_cxcywh(b)[:, [1, 0, 3, 2]]))
    assert points == 0 and "to_relative_cxcywh: x and y look swapped" in message


def test_a_crash_or_a_wrong_type_in_student_code_is_named_without_a_traceback(tmp_path):
    def crashes(boxes1, boxes2):
        raise ZeroDivisionError("division by zero")

    points, message = verdict(tmp_path, "test_iou", lambda: evidence.iou(crashes))
    assert points == 0 and "iou raised ZeroDivisionError: division by zero on random boxes" \
        in message and "Traceback" not in message
    points, message = verdict(tmp_path, "test_iou", lambda: evidence.iou(
        lambda b1, b2: R.reference_iou(b1, b2).numpy()))
    assert points == 0 and "iou must return a torch tensor, got ndarray" in message


def _inf265_detection_loss(y_hat, y):
    return R.reference_detection_loss(y_hat, y, localization_loss=R.inf265_localization_loss)


def test_inf265s_definition_of_the_loss_earns_every_point(tmp_path):
    """INF265 averages each image's loss over all N images; the notebook accepts it too."""
    points, message = verdict(tmp_path / "loc", "test_localization_loss",
                              lambda: evidence.localization_loss(R.inf265_localization_loss))
    assert points == 3 and message == ""
    points, message = verdict(tmp_path / "det", "test_detection_loss",
                              lambda: evidence.detection_loss(_inf265_detection_loss))
    assert points == 2 and message == ""


def _kit_box_term_inf265_class_term(y_hat, y, box_weight=1.0):
    present = y[:, 0] == 1
    ce = F.cross_entropy(y_hat[:, 5:], y[:, 5].long(), reduction="none")
    return (R.reference_localization_loss(y_hat, y, box_weight)
            - (F.cross_entropy(y_hat[present, 5:], y[present, 5].long()) if present.any() else 0)
            + (present.float() * ce).mean())


def test_a_loss_mixing_the_two_definitions_fails(tmp_path):
    points, message = verdict(tmp_path, "test_localization_loss",
                              lambda: evidence.localization_loss(_kit_box_term_inf265_class_term))
    assert points == 0 and "INF265's definition" in message


def _known_wrong(name: str):
    """The namespace of a known-wrong cell: the functions it defines."""
    namespace = {"torch": torch, "F": F, "box_convert": box_convert}
    exec(KNOWN_WRONG[name].source, namespace)
    return namespace


def _weight_on_everything(y_hat, y, box_weight=1.0):
    return box_weight * R.reference_localization_loss(y_hat, y)


def _loss_probabilities(y_hat, y, box_weight=1.0):
    return mistakes.loss_probabilities(y_hat, y)


def _no_gradient_mask(y_hat, y, box_weight=1.0):
    """The right value, but the box outputs of empty images still get a gradient."""
    leak = (y_hat[:, 1:5] - y_hat[:, 1:5].detach()).sum()  # 0, with a gradient of 1 everywhere
    return R.reference_localization_loss(y_hat, y, box_weight) + leak


@pytest.mark.parametrize(("loss", "words"), [
    (_known_wrong("box_loss_on_empty_images")["localization_loss"],
     "box term (MSE) is applied to images without a digit"),
    (_known_wrong("nan_without_digits")["localization_loss"],
     "not finite on a batch without any digit"),
    (_weight_on_everything, "box_weight must multiply the box"),
    (_loss_probabilities, "the presence term gets probabilities"),
    (_no_gradient_mask, "must not push the box or class outputs"),
    (lambda y_hat, y, box_weight=1.0: R.reference_localization_loss(y_hat, y).item(),
     "must return a torch tensor, got float"),
])
def test_wrong_localisation_losses_get_their_words(tmp_path, loss, words):
    points, message = verdict(tmp_path, "test_localization_loss",
                              lambda: evidence.localization_loss(loss))
    assert points == 0 and words in message


def _loop_iou(boxes1, boxes2):
    """An independent IoU (a double loop) that the judge must accept."""
    result = torch.zeros(len(boxes1), len(boxes2))
    for i, (a1, b1, a2, b2) in enumerate(boxes1.tolist()):
        for j, (c1, d1, c2, d2) in enumerate(boxes2.tolist()):
            inter = max(0.0, min(a2, c2) - max(a1, c1)) * max(0.0, min(b2, d2) - max(b1, d1))
            union = (a2 - a1) * (b2 - b1) + (c2 - c1) * (d2 - d1) - inter
            result[i, j] = inter / union if union > 0 else 0.0
    return result


def _unclamped_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    sides = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:]) \
        - torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    inter = sides[..., 0] * sides[..., 1]
    union = area1[:, None] + area2[None] - inter
    return (inter / union).nan_to_num(0.0)


def test_iou_accepts_another_correct_implementation_and_rejects_nan_or_no_clamping(tmp_path):
    assert verdict(tmp_path, "test_iou", lambda: evidence.iou(_loop_iou)) == (3, "")
    points, message = verdict(tmp_path, "test_iou", lambda: evidence.iou(box_iou))
    assert points == 0 and "NaN on zero-area" in message
    points, message = verdict(tmp_path, "test_iou", lambda: evidence.iou(_unclamped_iou))
    assert points == 0 and ("wrong IoU for random" in message or "wrong IoU for disjoint" in message)


def test_metrics_that_count_iou_over_all_images_fail(tmp_path):
    def over_all_images(y_hat, y):
        result = R.reference_localization_metrics(y_hat, y)
        ious = R.reference_iou(R.reference_to_pixel_xyxy(y_hat[:, 1:5]),
                               R.reference_to_pixel_xyxy(y[:, 1:5])).diagonal()
        return {**result, "mean_iou": ious.mean().item()}

    points, message = verdict(tmp_path, "test_localization_metrics",
                              lambda: evidence.localization_metrics(over_all_images))
    assert points == 0 and "wrong mean IoU" in message
    points, message = verdict(tmp_path, "test_localization_metrics",
                              lambda: evidence.localization_metrics(lambda y_hat, y: [0.5]))
    assert points == 0 and "keys 'accuracy', 'mean_iou' and 'score'" in message


def test_choosing_by_the_last_epoch_fails(tmp_path):
    def by_last_epoch(histories):
        return max(histories, key=lambda name: histories[name].epochs[-1]["val_score"])

    points, message = verdict(tmp_path, "test_select_best",
                              lambda: evidence.select_best(by_last_epoch))
    assert points == 0 and "best validation score" in message


def test_history_rows_used_by_the_selection_match_fit():
    history = History(name="run", metric_name="score", epochs=[{"val_score": 0.3}], best_epoch=1)
    assert R.reference_select_best({"run": history}) == "run"


def test_architectures_must_be_three_different_models(tmp_path):
    same = _models(4, 8)
    same["again"] = same["m4"]
    points, message = verdict(tmp_path, "test_architectures",
                              lambda: evidence.architectures(same))
    assert points == 0 and "must differ" in message
    points, message = verdict(tmp_path, "test_architectures",
                              lambda: evidence.architectures(_models(4, 8)))
    assert points == 0 and "at least three" in message
    wrong_output = {**_models(4, 8), "flat": lambda: torch.nn.Flatten()}
    points, message = verdict(tmp_path, "test_architectures",
                              lambda: evidence.architectures(wrong_output))
    assert points == 0 and "flat: a batch of 3 images must give finite outputs of shape (3, 15)" \
        in message


def test_encoding_with_x_and_y_swapped_or_in_image_units_is_named(tmp_path):
    def swapped(objects):
        return R.reference_encode_grid(objects[:, [0, 2, 1, 4, 3, 5]])

    def image_units(objects):
        grid = R.reference_encode_grid(objects)
        grid[..., 3:5] = grid[..., 3:5] / torch.tensor([3.0, 2.0])
        return grid

    points, message = verdict(tmp_path, "test_encode_grid", lambda: evidence.encode_grid(swapped))
    assert points == 0 and "wrong cells: x and y look swapped" in message
    points, message = verdict(tmp_path, "test_encode_grid",
                              lambda: evidence.encode_grid(image_units))
    assert points == 0 and "box size in cell units" in message


def test_decoding_with_x_and_y_swapped_or_without_min_score_is_named(tmp_path):
    def swapped(y_hat, min_score=0.0):
        detections = R.reference_decode_grid(y_hat, min_score)
        return [dict(d, boxes=d["boxes"][:, [1, 0, 3, 2]]) for d in detections]

    def ignores_min_score(y_hat, min_score=0.0):
        return R.reference_decode_grid(y_hat)

    points, message = verdict(tmp_path, "test_decode_grid", lambda: evidence.decode_grid(swapped))
    assert points == 0 and "decoded boxes: x and y look swapped" in message
    points, message = verdict(tmp_path, "test_decode_grid",
                              lambda: evidence.decode_grid(ignores_min_score))
    assert points == 0 and "perfect prediction does not decode" in message


def test_a_decoder_built_on_swapped_conversions_names_the_swap(tmp_path):
    to_pixel = _known_wrong("x_and_y_swapped")["to_pixel_xyxy"]

    def decode(y_hat, min_score=0.0):
        detections = R.reference_decode_grid(y_hat, min_score)
        relative = [R.reference_to_relative_cxcywh(d["boxes"]) for d in detections]
        return [dict(d, boxes=to_pixel(r)) for d, r in zip(detections, relative, strict=True)]

    points, message = verdict(tmp_path, "test_decode_grid", lambda: evidence.decode_grid(decode))
    assert points == 0 and KNOWN_WRONG["x_and_y_swapped"].zeroes["test_decode_grid"] in message


@pytest.mark.parametrize(("loss", "words"), [
    (lambda y_hat, y: R.reference_detection_loss(y_hat, y) / 6, "summed, not averaged"),
    (lambda y_hat, y: R.reference_localization_loss(y_hat.reshape(-1, y_hat.shape[-1]),
                                                    y.reshape(-1, 6)),
     "treat each cell separately"),
])
def test_averaged_or_flattened_detection_losses_fail(tmp_path, loss, words):
    points, message = verdict(tmp_path, "test_detection_loss",
                              lambda: evidence.detection_loss(loss))
    assert points == 0 and words in message


def test_a_detection_loss_built_on_the_unmasked_loss_names_the_mask(tmp_path):
    unmasked = _known_wrong("box_loss_on_empty_images")["localization_loss"]

    def detection_loss(y_hat, y):
        return sum(unmasked(y_hat[:, r, c], y[:, r, c]) for r in range(2) for c in range(3))

    points, message = verdict(tmp_path, "test_detection_loss",
                              lambda: evidence.detection_loss(detection_loss))
    words = KNOWN_WRONG["box_loss_on_empty_images"].zeroes["test_detection_loss"]
    assert points == 0 and words in message


def test_class_agnostic_or_unsorted_nms_fails(tmp_path):
    def agnostic(detection, iou_threshold=0.5):
        keep = nms(detection["boxes"], detection["scores"], iou_threshold)
        return {key: value[keep] for key, value in detection.items()}

    def unsorted(detection, iou_threshold=0.5):
        kept = R.reference_remove_duplicates(detection, iou_threshold)
        return {key: value.flip(0) for key, value in kept.items()}

    points, message = verdict(tmp_path, "test_remove_duplicates",
                              lambda: evidence.remove_duplicates(agnostic))
    assert points == 0 and "run NMS per class" in message
    points, message = verdict(tmp_path, "test_remove_duplicates",
                              lambda: evidence.remove_duplicates(unsorted))
    assert points == 0 and "by decreasing score" in message


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
        assert math.isclose(R.reference_average_precision(scores, flags, num_true),
                            _ap_by_integration(scores, flags, num_true), abs_tol=2e-3)
    assert math.isclose(R.reference_average_precision(
        torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([True, False, True, False]), 3), 5 / 9,
        abs_tol=1e-6)


def test_ap_without_interpolation_fails(tmp_path):
    def raw_precision(scores, is_tp, num_true):
        order = torch.argsort(scores, descending=True)
        hits = is_tp[order].float().cumsum(0)
        precision = hits / torch.arange(1, len(order) + 1)
        recall = hits / num_true
        return float(((recall - torch.cat([torch.zeros(1), recall[:-1]])) * precision).sum())

    points, message = verdict(tmp_path, "test_average_precision",
                              lambda: evidence.average_precision(raw_precision))
    assert points == 0 and "wrong AP" in message
    points, message = verdict(tmp_path, "test_average_precision",
                              lambda: evidence.average_precision(lambda s, t, n: "high"))
    assert points == 0 and "must return a number, got str" in message


def test_map_accepts_voc_matching_and_rejects_a_fixed_threshold(tmp_path):
    def voc(predictions, targets, iou_threshold=0.5):
        return R.reference_mean_average_precision(predictions, targets, iou_threshold, True)

    def fixed(predictions, targets, iou_threshold=0.5):
        return R.reference_mean_average_precision(predictions, targets, 0.75)

    assert verdict(tmp_path, "test_mean_average_precision",
                   lambda: evidence.mean_average_precision(voc)) == (3, "")
    points, message = verdict(tmp_path, "test_mean_average_precision",
                              lambda: evidence.mean_average_precision(fixed))
    assert points == 0 and "use the iou_threshold argument" in message


def test_reference_map_of_a_hand_example():
    targets = [{"boxes": torch.tensor([[0.0, 0, 10, 20], [30, 0, 40, 20]]),
                "labels": torch.tensor([0, 1])},
               {"boxes": torch.tensor([[5.0, 5, 15, 25]]), "labels": torch.tensor([0])}]
    predictions = [{"boxes": torch.tensor([[0.0, 0, 10, 20], [1, 1, 11, 21], [30, 25, 40, 45]]),
                    "scores": torch.tensor([0.9, 0.8, 0.7]), "labels": torch.tensor([0, 0, 1])},
                   {"boxes": torch.tensor([[5.0, 5, 15, 25]]), "scores": torch.tensor([0.6]),
                    "labels": torch.tensor([0])}]
    assert math.isclose(R.reference_mean_average_precision(predictions, targets), 5 / 12,
                        abs_tol=1e-6)


def test_the_evidence_grids_are_the_reference_encoding():
    objects = evidence.encode_inputs()
    assert torch.equal(objects_to_grid(objects), torch.stack([R.reference_encode_grid(o)
                                                              for o in objects]))


@pytest.mark.parametrize("name", sorted(KNOWN_WRONG))
def test_a_known_wrong_answer_fails_its_check_with_its_words(tmp_path, name):
    wrong = KNOWN_WRONG[name]
    namespace = _known_wrong(name)
    calls = {"localization_loss": lambda: evidence.localization_loss(
                 namespace["localization_loss"]),
             "box_conversions": lambda: evidence.box_conversions(
                 namespace["to_pixel_xyxy"], namespace["to_relative_cxcywh"])}
    points, message = verdict(tmp_path, f"test_{wrong.cell}", calls[wrong.check])
    assert points == 0 and wrong.words in message


# ---------------------------------------------------------------- the predictions CSV

def _heldout(num: int = 40) -> dict[int, torch.Tensor]:
    """Test objects whose boxes lie inside the image (as the data's do)."""
    generator = seeded_generator(4)
    heldout = {}
    for i in range(num):
        rows = evidence.random_objects(generator)
        rows[:, 3] = torch.minimum(rows[:, 3], 2 * torch.minimum(rows[:, 1], 1 - rows[:, 1]))
        rows[:, 4] = torch.minimum(rows[:, 4], 2 * torch.minimum(rows[:, 2], 1 - rows[:, 2]))
        heldout[i] = rows
    return heldout


def _write_csv(path, heldout, shift: float = 0.0, strings: dict | None = None):
    rows = []
    for i in sorted(heldout):
        target = R.objects_to_targets([heldout[i]])[0]
        boxes = clip_boxes_to_image(target["boxes"] + shift, (48, 60))
        rows.append(format_prediction_string(boxes, torch.full((len(boxes),), 0.9),
                                             target["labels"]))
    for i, text in (strings or {}).items():
        rows[i] = text
    return write_predictions(path, sorted(heldout), {"PredictionString": rows})


@pytest.fixture
def sealed_heldout(tmp_path, monkeypatch):
    """The held-out boxes of 40 test images, sealed with the demo key in a folder of the test."""
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    monkeypatch.delenv("VISLAB_A4_DATASET", raising=False)
    heldout = _heldout()
    objects = [heldout[i] for i in sorted(heldout)]
    store.save_labels("digit-boxes", {"det_test_y": objects_to_grid(objects),
                                      "det_test_objects": flatten_objects(objects)}, DEMO_KEY)
    return heldout


def test_perfect_detections_score_one_and_full_points(tmp_path, sealed_heldout):
    path = _write_csv(tmp_path / "a4_detections.csv", sealed_heldout)
    assert scoring.score_detections(path, sealed_heldout) == pytest.approx((1.0, 1.0), abs=1e-6)
    points, message = verdict(tmp_path, "test_detections_csv", lambda: None, submission=tmp_path)
    assert (points, message) == (scoring.CSV_POINTS, "")


def test_loose_boxes_earn_partial_points(tmp_path, sealed_heldout):
    path = _write_csv(tmp_path / "a4_detections.csv", sealed_heldout, shift=3.0)
    _, private = scoring.score_detections(path, sealed_heldout)
    assert 0 < private < 1
    points, _ = verdict(tmp_path, "test_detections_csv", lambda: None, submission=tmp_path)
    assert points == scoring.csv_points(private) < scoring.CSV_POINTS


def test_a_csv_below_the_baseline_or_missing_scores_zero_with_a_reason(tmp_path, sealed_heldout):
    points, message = verdict(tmp_path, "test_detections_csv", lambda: None, submission=tmp_path)
    assert points == 0 and "a4_detections.csv was not handed in" in message
    _write_csv(tmp_path / "a4_detections.csv", sealed_heldout, shift=12.0)
    points, message = verdict(tmp_path, "test_detections_csv", lambda: None, submission=tmp_path)
    assert points == 0 and "is not above 0.3" in message


@pytest.mark.parametrize(("text", "message"), [
    ("0 0.9 1 2 3", "groups of 6 numbers"),
    ("0 0.9 1 2 three 4", "not a number"),
    ("0 0.9 10 5 70 20", "outside the 60 x 48 image"),
    ("0 0.9 30 5 20 20", "negative width"),
    ("2 0.9 1 2 10 20", "whole number in 0..1"),
    ("0 1.5 1 2 10 20", "score must lie in"),
])
def test_malformed_prediction_strings_are_rejected_with_what_to_fix(tmp_path, sealed_heldout,
                                                                     text, message):
    path = _write_csv(tmp_path / "a4_detections.csv", sealed_heldout, strings={3: text})
    with pytest.raises(InvalidPredictions, match=message):
        scoring.score_detections(path, sealed_heldout)
    points, words = verdict(tmp_path, "test_detections_csv", lambda: None, submission=tmp_path)
    assert points == 0 and message in words and "row with Id 3" in words


def test_an_unknown_id_or_an_empty_row_is_rejected(tmp_path):
    heldout = _heldout(6)
    path = _write_csv(tmp_path / "a4_detections.csv", heldout)
    path.write_text(path.read_text().replace("\n5,", "\n99,"))
    with pytest.raises(InvalidPredictions, match="no row for 1 test ids"):
        scoring.score_detections(path, heldout)
    _write_csv(path, heldout, strings={2: ""})
    with pytest.raises(InvalidPredictions, match="empty or NaN"):
        scoring.score_detections(path, heldout)

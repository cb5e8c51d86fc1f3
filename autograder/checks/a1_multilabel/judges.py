"""Judges of a1_multilabel: pytest checks over the evidence of one submission (grading side only).

Each judge redraws the hidden inputs from the seeds of ``evidence.py``, compares what the
student's code returned with references computed here (``references.py``: scikit-learn, torch),
and says in its ``assert`` message what was expected. The predictions CSV is judged from the
handed-in file on the held-out labels (``heldout.py``), with partial credit between a baseline
mAP and a target. See :mod:`autograder.judging.plugin` for the fixtures and how to run this
file by hand on one submission.
"""

import math

import numpy as np
import pytest

from autograder.checks.a1_multilabel import references
from autograder.checks.a1_multilabel.evidence import (
    FOUR_CHANNEL_CLASSES,
    FOUR_CHANNEL_SEED,
    REGIMES,
    REGIMES_CLASSES,
    REGIMES_SEED,
    RGB_NET_SEED,
    TWO_NETWORKS_CLASSES,
    ap_cases,
    cooccurrence_labels,
    loss_cases,
    map_case,
    tail_calls,
    top_k_calls,
)
from autograder.checks.a1_multilabel.heldout import CSV_FILE, score_predictions
from autograder.judging.points import partial_points
from autograder.predictions_csv import InvalidPredictions
from vislab.a1_multilabel.data import dataset_name

#: (baseline, target) private-set mAP per dataset: 0 points at the baseline, full at the target
MAP_THRESHOLDS = {"scenes": (0.4, 0.72), "voc2012": (0.3, 0.75), "voc2007": (0.3, 0.7),
                  "planet": (0.3, 0.6)}
CSV_POINTS = 5


def crashed(error: str, where: str) -> str:
    """The words for student code that raised ``error`` (``"Type: message"``) on a hidden input."""
    return (f"your code raised {error} when the check ran it on hidden inputs ({where}). Run "
            "your cell again and read the visible tests above it; make sure it handles inputs "
            "of other sizes and values too.")


def _type_name(value, recorded: str | None = None) -> str:
    if recorded:
        return recorded
    if isinstance(value, dict) and "$object" in value:
        return value["$object"]
    return type(value).__name__


def as_number(value, what: str, recorded_type: str | None = None) -> float:
    """A returned number as a float; fails with words when it is not one number."""
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, np.ndarray):
        assert value.size == 1, f"{what} must be one number, got a tensor of shape {value.shape}"
        return float(value.reshape(()))
    pytest.fail(f"{what} must be a number, got {_type_name(value, recorded_type)}", pytrace=False)


def as_array(value, what: str, recorded_type: str | None = None) -> np.ndarray:
    """A returned tensor (or nested list of numbers) as a float64 array."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        pytest.fail(f"{what} must return a tensor, got {_type_name(value, recorded_type)}",
                    pytrace=False)


def parameter_counts(parameters: list) -> tuple[int, int]:
    """(all, trainable) parameters from :func:`autograder.evidence.parameter_facts`."""
    sizes = [(math.prod(shape), trainable) for _, shape, trainable in parameters]
    return sum(size for size, _ in sizes), sum(size for size, trainable in sizes if trainable)


@pytest.mark.cell("test_cooccurrence")
def test_cooccurrence(evidence):
    result = evidence("cooccurrence")
    assert "error" not in result, crashed(result.get("error"), "a 90 x 6 label matrix")
    value = as_array(result["value"], "cooccurrence", result.get("type"))
    expected = references.reference_cooccurrence(cooccurrence_labels()).numpy()
    assert value.shape == (6, 6), \
        f"return a C x C matrix (6 x 6 here), got {tuple(value.shape)}"
    assert np.isfinite(value).all() and np.allclose(value[4], expected[4]), \
        "the row of a class that no image holds must be all 0"
    assert np.allclose(value, expected, atol=1e-6), \
        ("wrong values: row i holds the fraction of the images with label i that also have "
         "label j (divide by the count of i, not of j)")


@pytest.mark.cell("test_loss")
def test_bce_loss(evidence):
    result = evidence("bce_loss")
    assert "error" not in result, crashed(result.get("error"), "MultiLabelBCELoss()")
    assert result["is_module"], "your loss class must subclass nn.Module"
    cases = loss_cases()
    assert len(result["cases"]) == len(cases), "the check did not get a result per case"
    for (case, logits, targets), got in zip(cases, result["cases"], strict=True):
        assert "error" not in got, crashed(got.get("error"), case)
        assert got["is_tensor"] and got["dim"] == 0, \
            f"on {case} the loss must be a 0-dimensional tensor (the mean over all entries)"
        value, expected, grad = got["value"], *references.reference_loss(logits, targets)
        assert math.isfinite(value), \
            (f"on {case} the loss is not finite: rewrite it so that exp() never overflows "
             "(use log(1 + exp(-|x|)) or softplus)")
        assert abs(value - expected) <= 1e-6 + 1e-5 * abs(expected), \
            (f"wrong value on {case}: it must equal the mean of BCE-with-logits over every "
             "(image, class) pair")
        assert got["requires_grad"], \
            ("the loss carries no gradient: compute it with torch operations on the logits "
             "(no .item(), .numpy() or .detach())")
        assert "grad_error" not in got, crashed(got.get("grad_error"), f"the gradient on {case}")
        assert np.allclose(got["grad"], grad.numpy(), atol=1e-6), \
            f"the gradient of your loss is wrong on {case}"


@pytest.mark.cell("test_average_precision")
def test_average_precision(evidence):
    results = evidence("average_precision")["results"]
    cases = ap_cases()
    assert len(results) == len(cases), "the check did not get a result per case"
    for (case, scores, labels), got in zip(cases, results, strict=True):
        assert "error" not in got, crashed(got.get("error"), case)
        value = as_number(got["value"], "AP", got.get("type"))
        hint = ""
        if case == "a class with no positive image":
            hint = " (the convention here, as in scikit-learn: AP is 0.0 without positives)"
        elif "ties" in case or case == "all scores equal":
            hint = (" (tied scores are one threshold: move down the ranking one distinct score "
                    "at a time, as scikit-learn does)")
        assert abs(value - references.reference_average_precision(scores, labels)) < 1e-6, \
            f"wrong AP on {case}{hint}"


@pytest.mark.cell("test_mean_average_precision")
def test_mean_average_precision(evidence):
    result = evidence("mean_average_precision")
    assert "error" not in result, crashed(result.get("error"), "scores and labels of 6 classes")
    value = result["value"]
    assert result["type"] == "tuple" and len(value) == 2, "return a tuple (mAP, per_class_ap)"
    mean_ap = as_number(value[0], "mAP")
    per_class = as_array(value[1], "per_class_ap").flatten()
    scores, labels = map_case()
    expected_map, expected = references.reference_mean_average_precision(scores.numpy(),
                                                                          labels.numpy())
    assert len(per_class) == len(expected), \
        (f"per_class_ap must hold one AP per class ({len(expected)} here), got "
         f"{len(per_class)}")
    assert np.allclose(per_class, expected, atol=1e-6), \
        "the per-class APs are wrong: class c is column c"
    assert abs(mean_ap - expected_map) < 1e-6, "mAP must be the mean of the per-class APs"


@pytest.mark.cell("test_tail_accuracy")
def test_tail_accuracy(evidence):
    results = evidence("tail_accuracy")["results"]
    calls = tail_calls()
    assert len(results) == len(calls), "the check did not get a result per case"
    for (case, scores, labels, t), got in zip(calls, results, strict=True):
        assert "error" not in got, crashed(got.get("error"), f"{case}, t = {t}")
        value = as_array(got["value"], "tail_accuracy", got.get("type"))
        expected = references.reference_tail_accuracy(scores, labels, t).numpy()
        _assert_per_class(value, expected, f"{case}",
                          "a class with no image scoring above t must give NaN",
                          "count only scores strictly above t")


def _assert_per_class(value: np.ndarray, expected: np.ndarray, case: str, nan_rule: str,
                      hint: str) -> None:
    """``value`` (one number per class, NaN allowed) equals ``expected``; the messages name
    ``case`` and say the rule for NaN and what most likely went wrong."""
    assert value.shape == expected.shape, \
        f"return one value per class: shape {expected.shape}, got {value.shape}"
    assert (np.isnan(value) == np.isnan(expected)).all(), \
        f"on {case}: {nan_rule}, and only such a class"
    assert np.allclose(np.nan_to_num(value, nan=-1), np.nan_to_num(expected, nan=-1),
                       atol=1e-6), f"wrong values on {case}: {hint}"


#: what a wrong value on a top-k case most likely means, by the case's first words
TOP_K_HINTS = {
    "scores tied": ("every image tied with the k-th highest score belongs to the top k: keep the "
                    "images scoring at least that score, not the first k of a sorted order"),
    "the default k": "k must default to 50",
    "fewer images": "with fewer than k images every image is kept, and the answer is Tailacc(t)",
}
TOP_K_HINT = ("rank the images of each class by that class's scores (its column), keep its k "
              "highest, and count among them only those scoring strictly above t")


@pytest.mark.cell("test_top_k_tail_accuracy")
def test_top_k_tail_accuracy(evidence):
    results = evidence("top_k_tail_accuracy")["results"]
    calls = top_k_calls()
    assert len(results) == len(calls), "the check did not get a result per case"
    for (case, scores, labels, t, k), got in zip(calls, results, strict=True):
        hint = next((words for start, words in TOP_K_HINTS.items() if case.startswith(start)),
                    TOP_K_HINT)
        assert "error" not in got, \
            crashed(got.get("error"), f"{case}, t = {t}") + \
            (f" ({hint}: torch.topk needs k <= N)" if case.startswith("fewer images") else "")
        value = as_array(got["value"], "top_k_tail_accuracy", got.get("type"))
        expected = references.reference_top_k_tail_accuracy(scores, labels, t,
                                                            50 if k is None else k)
        _assert_per_class(value, expected, f"{case}, t = {t}",
                          "a class none of whose top-k images scores above t must give NaN", hint)


@pytest.mark.cell("test_build_model")
def test_model_regimes(evidence):
    regimes = evidence("model_regimes")["regimes"]
    assert [facts["regime"] for facts in regimes] == list(REGIMES), \
        "the check did not get a model per regime"
    num_classes = REGIMES_CLASSES
    head = 512 * num_classes + num_classes
    pretrained_conv1 = references.hidden_state(REGIMES_SEED)["conv1.weight"]
    for facts in regimes:
        regime = facts["regime"]
        assert "error" not in facts, \
            crashed(facts.get("error"), f"build_model({regime!r}, pretrained, {num_classes})")
        assert facts["is_module"], f"{regime}: return an nn.Module"
        assert facts["fc_is_linear"] and facts["fc_out_features"] == num_classes, \
            f"{regime}: model.fc must be a new nn.Linear(512, num_classes)"
        total, trainable = parameter_counts(facts["parameters"])
        expected_total = references.resnet18_parameters(num_classes)
        assert total == expected_total, \
            (f"{regime}: the model has {total:,} parameters, expected a resnet18 with a "
             f"{num_classes}-class fc ({expected_total:,})")
        same_conv1 = facts["conv1_weight"] is not None and \
            np.array_equal(facts["conv1_weight"], pretrained_conv1)
        if regime == "scratch":
            assert not same_conv1, \
                "scratch: the model starts from the pretrained weights; build a new resnet18"
        else:
            assert same_conv1, f"{regime}: conv1 does not hold the pretrained weights"
        expected_trainable = head if regime == "last_layer" else total
        assert trainable == expected_trainable, \
            (f"{regime}: {trainable:,} trainable parameters, expected {expected_trainable:,} "
             + ("(only fc trains)" if regime == "last_layer" else "(every layer trains)"))
        assert "output_error" not in facts, \
            crashed(facts.get("output_error"), f"the {regime} model on two 3x32x32 images")
        assert facts["output_shape"] == [2, num_classes], \
            f"{regime}: the model must map (N, 3, H, W) images to (N, num_classes) logits"


#: how far the NIR filters' standard deviation may be from Kaiming's (3,136 weights: its own
#: estimate is within 1.3%)
STD_TOLERANCE = 0.1


@pytest.mark.cell("test_four_channel")
def test_four_channel(evidence):
    made = evidence("four_channel")
    assert "error" not in made, \
        crashed(made.get("error"), "four_channel_resnet of a resnet18 with 7 classes")
    config = made.get("conv1_config")
    assert config is not None, "the returned model needs an nn.Conv2d conv1"
    assert config == {"in_channels": 4, "out_channels": 64, "kernel_size": [7, 7],
                      "stride": [2, 2], "padding": [3, 3], "bias": False}, \
        ("conv1 must be Conv2d(4, 64, kernel_size=7, stride=2, padding=3, bias=False): only the "
         "number of input channels changes")
    weight = made["conv1_weight"]
    rgb = references.hidden_state(FOUR_CHANNEL_SEED, FOUR_CHANNEL_CLASSES)["conv1.weight"]
    assert np.array_equal(weight[:, :3], rgb), \
        ("the RGB filters of conv1 changed: copy the pretrained weights into input channels 0-2 "
         "(only channel 3 is new)")
    nir = weight[:, 3].astype(np.float64)
    std = nir.std(ddof=1)
    default = abs(std / references.DEFAULT_CONV1_STD - 1) < STD_TOLERANCE
    assert any(abs(std / references.kaiming_std(fan) - 1) < STD_TOLERANCE
               for fan in references.KAIMING_FANS), \
        (f"the NIR filters have a standard deviation of {std:.3f}"
         + (", PyTorch's default initialisation of a new Conv2d" if default else "")
         + f": Kaiming's (He's) is sqrt(2 / fan-in), {references.kaiming_std(49):.3f} for the "
         "7 x 7 weights of one NIR filter; draw them with nn.init.kaiming_normal_(..., "
         "nonlinearity='relu')")
    for copied in (rgb[:, 0], rgb[:, 1], rgb[:, 2], rgb.mean(axis=1)):
        correlation = np.corrcoef(nir.flatten(), copied.flatten().astype(np.float64))[0, 1]
        assert abs(correlation) < 0.95, \
            "the NIR filters copy the RGB ones: initialise them with nn.init.kaiming_normal_"
    total, _ = parameter_counts(made["parameters"])
    expected = references.resnet18_parameters(FOUR_CHANNEL_CLASSES) + references.CONV1_FILTER_SIZE
    assert total == expected, \
        (f"expected {expected:,} parameters (one more input channel in conv1), got {total:,}")
    before = references.hidden_digests(FOUR_CHANNEL_SEED, FOUR_CHANNEL_CLASSES)
    for name, digest in made["state_digests"].items():
        if name != "conv1.weight" and name in before:
            assert digest == before[name], f"{name} changed: only conv1 should be replaced"
    assert "output_error" not in made, \
        crashed(made.get("output_error"), "the 4-channel model on two 4x32x32 images")
    assert made["output_shape"] == [2, FOUR_CHANNEL_CLASSES], \
        "the model must map (N, 4, H, W) images to (N, num_classes) logits"


@pytest.mark.cell("test_two_networks")
def test_two_networks(evidence):
    made = evidence("two_networks")
    assert "error" not in made, crashed(made.get("error"),
                                        "TwoNetworks(rgb resnet18, nir resnet18, 5)")
    assert made["is_module"], "TwoNetworks must be an nn.Module"
    total, _ = parameter_counts(made["parameters"])
    expected = references.two_networks_parameters(TWO_NETWORKS_CLASSES)
    assert total == expected, \
        (f"TwoNetworks has {total:,} parameters, expected {expected:,}: two resnet18 without "
         "their fc, the NIR one with a 1-channel conv1, one Linear(1024, num_classes)")
    assert references.hidden_digests(RGB_NET_SEED)["conv1.weight"] in made["rgb_conv_digests"], \
        "the RGB network's conv1 lost its pretrained weights"
    assert "output_error" not in made, \
        crashed(made.get("output_error"), "TwoNetworks on three 4x32x32 images")
    outputs = {name: as_array(value, "TwoNetworks") for name, value in made["outputs"].items()}
    y_hat = outputs["y_hat"]
    assert y_hat.shape == (3, TWO_NETWORKS_CLASSES), \
        "the model must map (N, 4, H, W) images to (N, num_classes) logits"
    assert not np.allclose(outputs["brighter_nir"], y_hat), \
        "the output does not change with the NIR band: feed X[:, 3:] to the NIR network"
    assert not np.allclose(outputs["brighter_rgb"], y_hat), \
        "the output does not change with the RGB bands: feed X[:, :3] to the RGB network"


@pytest.mark.cell("test_predictions_csv")
def test_predictions_csv(submission, heldout_key, credit):
    try:
        _, private = score_predictions(submission / CSV_FILE, heldout_key)
    except InvalidPredictions as error:
        pytest.fail(str(error), pytrace=False)
    baseline, target = MAP_THRESHOLDS[dataset_name()]
    points = partial_points(private, baseline, target, CSV_POINTS)
    assert points > 0, (f"{CSV_FILE}: mAP {private:.3f} on the private test labels is not above "
                        f"{baseline}; full points from {target}")
    credit(points)

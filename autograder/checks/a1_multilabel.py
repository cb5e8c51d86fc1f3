"""Hidden checks of a1_multilabel: the loss, AP/mAP, tail accuracy, the models, the predictions CSV.

Conventions the checks hold students to (the notebook states them):

- the loss is the mean over every (image, class) pair of BCE-with-logits, finite for any logit;
- AP of one class is scikit-learn's ``average_precision_score``: tied scores form one threshold
  (one step of the precision-recall curve), and a class without positive images has AP 0.0;
  mAP is the mean of the per-class APs over all classes;
- Tailacc(t) of a class is the fraction of positives among the images scoring strictly above
  ``t``, and NaN when no image scores above ``t``.

Reference answers are computed here (scikit-learn, torch) on hidden inputs drawn with fixed seeds.
"""

import copy
import math
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision
from sklearn.metrics import average_precision_score
from torch import nn
from torch.nn import functional as F

from autograder.checks.core import CheckFailed, expect, hidden_check, partial_points
from autograder.checks.registry import LeaderboardSpec
from autograder.predictions_csv import InvalidPredictions, read_predictions
from autograder.public_private import public_private_split
from vislab.a1_multilabel import scenes as multilabel_scenes
from vislab.a1_multilabel.data import dataset_name, heldout_labels
from vislab.seeds import seeded_generator

CSV_FILE = "predictions.csv"
#: (baseline, target) private-set mAP per dataset: 0 points at the baseline, full at the target
MAP_THRESHOLDS = {"scenes": (0.4, 0.72), "voc2012": (0.3, 0.75), "voc2007": (0.3, 0.7),
                  "planet": (0.3, 0.6)}
CSV_POINTS = 5
RESNET18_WITHOUT_FC = 11_176_512
CONV1_FILTER_SIZE = 64 * 7 * 7  # weights of conv1 per input channel


# --- references ---------------------------------------------------------------------------------

def reference_average_precision(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """scikit-learn's AP of one class (0.0 when ``labels`` has no positive)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No positive class found in y_true"
        return float(average_precision_score(labels.numpy(), scores.numpy()))


def reference_tail_accuracy(scores: torch.Tensor, labels: torch.Tensor, t: float) -> torch.Tensor:
    """Tailacc(t) per class (Tensor[C]): positives among images scoring above ``t``; NaN if none."""
    above = scores > t
    count = above.sum(dim=0)
    correct = (above & (labels == 1)).sum(dim=0)
    return torch.where(count > 0, correct / count.clamp(min=1), torch.tensor(math.nan))


def _as_float(value, check: str, what: str) -> float:
    if isinstance(value, torch.Tensor):
        expect(value.numel() == 1, check, f"{what} must be one number, got a tensor of shape "
                                          f"{tuple(value.shape)}")
        value = value.item()
    expect(isinstance(value, int | float | np.floating), check,
           f"{what} must be a number, got {type(value).__name__}")
    return float(value)


# --- hidden inputs (fixed seeds) ----------------------------------------------------------------

def _loss_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    g = seeded_generator(5400)
    logits = torch.randn(37, 5, generator=g) * 3
    targets = (torch.rand(37, 5, generator=g) < 0.3).float()
    extreme = torch.tensor([[80.0, -80.0, 0.25, 500.0], [-500.0, 30.0, -30.0, 1e-3]])
    return [
        ("random logits", logits, targets),
        ("a single image", logits[:1], targets[:1]),
        ("very large logits (|x| up to 500)", extreme,
         torch.tensor([[0.0, 1, 1, 0], [1, 0, 0, 1]])),
    ]


def _ap_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    g = seeded_generator(5401)
    scores = torch.rand(60, generator=g)
    labels = (torch.rand(60, generator=g) < 0.35).float()
    coarse = (scores * 4).round() / 4  # five distinct values: many ties
    return [
        ("scores without ties", scores, labels),
        ("scores with ties", coarse, labels),
        ("scores with ties, positives first in the input order", *_positives_first(coarse, labels)),
        ("all scores equal", torch.full((9,), 0.5), torch.tensor([1.0, 0, 0, 1, 0, 0, 0, 1, 0])),
        ("a class with no positive image", scores[:20], torch.zeros(20)),
        ("a class where every image is positive", scores[:15], torch.ones(15)),
    ]


def _positives_first(scores: torch.Tensor, labels: torch.Tensor):
    order = torch.argsort(-labels, stable=True)
    return scores[order], labels[order]


def _map_case() -> tuple[torch.Tensor, torch.Tensor]:
    g = seeded_generator(5402)
    labels = (torch.rand(120, 6, generator=g) < 0.3).float()
    labels[0] = 1  # every class has a positive
    scores = torch.sigmoid(torch.randn(120, 6, generator=g) + 1.5 * labels)
    return scores, labels


def _tail_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, list[float]]]:
    g = seeded_generator(5403)
    labels = (torch.rand(80, 5, generator=g) < 0.4).float()
    scores = torch.sigmoid(torch.randn(80, 5, generator=g) * 2 + 2 * labels)
    rounded = (scores * 20).round() / 20  # scores equal to a threshold must not count
    thresholds = [0.5, 0.6, 0.75, 0.9, 0.95]
    return [("random scores", scores, labels, thresholds),
            ("scores equal to the thresholds", rounded, labels, thresholds),
            ("a threshold above every score", scores, labels, [1.0])]


def _hidden_resnet(seed: int, num_classes: int = 1000) -> torchvision.models.ResNet:
    torch.manual_seed(seed)
    return torchvision.models.resnet18(num_classes=num_classes)


def _count(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --- checks -------------------------------------------------------------------------------------

@hidden_check
def cooccurrence(cooccurrence_fn):
    """``cooccurrence_fn(labels Tensor[N, C]) -> P``, P[i, j] = #(i and j) / #i (0 if #i = 0)."""
    labels = (torch.rand(90, 6, generator=seeded_generator(5409)) < 0.35).float()
    labels[:, 4] = 0  # a class that no image holds
    value = torch.as_tensor(cooccurrence_fn(labels.clone()), dtype=torch.float32)
    expect(value.shape == (6, 6), "cooccurrence", f"return a C x C matrix (6 x 6 here), got "
                                                  f"{tuple(value.shape)}")
    counts = labels.T @ labels
    expected = counts / counts.diag().clamp(min=1)[:, None]
    expect(bool(torch.isfinite(value).all()) and torch.allclose(value[4], expected[4]),
           "cooccurrence", "the row of a class that no image holds must be all 0")
    expect(torch.allclose(value, expected, atol=1e-6), "cooccurrence",
           "wrong values: row i holds the fraction of the images with label i that also have "
           "label j (divide by the count of i, not of j)")


@hidden_check
def bce_loss(loss_class):
    """``loss_class()`` is an ``nn.Module`` computing mean BCE-with-logits, with its gradient."""
    loss_fn = loss_class()
    expect(isinstance(loss_fn, nn.Module), "bce_loss", "your loss class must subclass nn.Module")
    for case, logits, targets in _loss_cases():
        logits = logits.clone().requires_grad_(True)
        value = loss_fn(logits, targets)
        expect(isinstance(value, torch.Tensor) and value.dim() == 0, "bce_loss",
               f"on {case} the loss must be a 0-dimensional tensor (the mean over all entries)")
        expect(bool(torch.isfinite(value)), "bce_loss",
               f"on {case} the loss is not finite: rewrite it so that exp() never overflows "
               "(use log(1 + exp(-|x|)) or softplus)")
        expected = F.binary_cross_entropy_with_logits(logits.detach(), targets)
        expect(torch.allclose(value.detach(), expected, rtol=1e-5, atol=1e-6), "bce_loss",
               f"wrong value on {case}: it must equal the mean of BCE-with-logits over every "
               "(image, class) pair")
        expect(value.requires_grad, "bce_loss",
               "the loss carries no gradient: compute it with torch operations on the logits "
               "(no .item(), .numpy() or .detach())")
        (grad,) = torch.autograd.grad(value, logits)
        reference = torch.sigmoid(logits.detach()) - targets
        expect(torch.allclose(grad, reference / logits.numel(), atol=1e-6), "bce_loss",
               f"the gradient of your loss is wrong on {case}")


@hidden_check
def average_precision(ap_fn):
    """``ap_fn(scores Tensor[N], labels Tensor[N]) -> float`` equals scikit-learn's AP."""
    for case, scores, labels in _ap_cases():
        value = _as_float(ap_fn(scores.clone(), labels.clone()), "average_precision", "AP")
        expected = reference_average_precision(scores, labels)
        hint = {"a class with no positive image":
                " (the convention here, as in scikit-learn: AP is 0.0 without positives)"}
        if "ties" in case or case == "all scores equal":
            hint[case] = (" (tied scores are one threshold: move down the ranking one distinct "
                          "score at a time, as scikit-learn does)")
        expect(abs(value - expected) < 1e-6, "average_precision",
               f"wrong AP on {case}{hint.get(case, '')}")


@hidden_check
def mean_average_precision(map_fn):
    """``map_fn(scores Tensor[N, C], labels Tensor[N, C]) -> (mAP, per-class AP Tensor[C])``."""
    scores, labels = _map_case()
    result = map_fn(scores.clone(), labels.clone())
    expect(isinstance(result, tuple) and len(result) == 2, "mean_average_precision",
           "return a tuple (mAP, per_class_ap)")
    value = _as_float(result[0], "mean_average_precision", "mAP")
    per_class = torch.as_tensor(result[1], dtype=torch.float64).flatten()
    expected = [reference_average_precision(scores[:, c], labels[:, c])
                for c in range(labels.shape[1])]
    expect(len(per_class) == labels.shape[1], "mean_average_precision",
           f"per_class_ap must hold one AP per class ({labels.shape[1]} here), got "
           f"{len(per_class)}")
    expect(torch.allclose(per_class, torch.tensor(expected, dtype=torch.float64), atol=1e-6),
           "mean_average_precision", "the per-class APs are wrong: class c is column c")
    expect(abs(value - float(np.mean(expected))) < 1e-6, "mean_average_precision",
           "mAP must be the mean of the per-class APs")


@hidden_check
def tail_accuracy(tail_fn):
    """``tail_fn(scores Tensor[N, C], labels Tensor[N, C], t) -> Tensor[C]`` (NaN: none above)."""
    for case, scores, labels, thresholds in _tail_cases():
        for t in thresholds:
            value = torch.as_tensor(tail_fn(scores.clone(), labels.clone(), t), dtype=torch.float32)
            expected = reference_tail_accuracy(scores, labels, t)
            expect(value.shape == expected.shape, "tail_accuracy",
                   f"return one value per class: shape {tuple(expected.shape)}, got "
                   f"{tuple(value.shape)}")
            expect(bool((value.isnan() == expected.isnan()).all()), "tail_accuracy",
                   f"on {case}: a class with no image scoring above t must give NaN, and only "
                   "such a class")
            same = torch.allclose(value.nan_to_num(-1), expected.nan_to_num(-1), atol=1e-6)
            expect(same, "tail_accuracy", f"wrong values on {case} (count only scores strictly "
                                          "above t)")


@hidden_check
def model_regimes(build_model):
    """``build_model(regime, pretrained, num_classes)`` for scratch / last_layer / all_layers."""
    num_classes = 7
    head = 512 * num_classes + num_classes
    for regime in ("scratch", "last_layer", "all_layers"):
        pretrained = _hidden_resnet(5404)
        conv1_before = pretrained.conv1.weight.detach().clone()
        model = build_model(regime, pretrained, num_classes)
        expect(isinstance(model, nn.Module), "model_regimes", f"{regime}: return an nn.Module")
        fc = getattr(model, "fc", None)
        expect(isinstance(fc, nn.Linear) and fc.out_features == num_classes, "model_regimes",
               f"{regime}: model.fc must be a new nn.Linear(512, num_classes)")
        total, trainable = _count(model), _count(model, trainable_only=True)
        expect(total == RESNET18_WITHOUT_FC + head, "model_regimes",
               f"{regime}: the model has {total:,} parameters, expected a resnet18 with a "
               f"{num_classes}-class fc ({RESNET18_WITHOUT_FC + head:,})")
        same_conv1 = torch.equal(model.conv1.weight.detach(), conv1_before)
        if regime == "scratch":
            expect(not same_conv1, "model_regimes",
                   "scratch: the model starts from the pretrained weights; build a new resnet18")
        else:
            expect(same_conv1, "model_regimes",
                   f"{regime}: conv1 does not hold the pretrained weights")
        expected_trainable = head if regime == "last_layer" else total
        expect(trainable == expected_trainable, "model_regimes",
               f"{regime}: {trainable:,} trainable parameters, expected {expected_trainable:,} "
               + ("(only fc trains)" if regime == "last_layer" else "(every layer trains)"))
        expect(model(torch.randn(2, 3, 64, 64)).shape == (2, num_classes), "model_regimes",
               f"{regime}: the model must map (N, 3, H, W) images to (N, num_classes) logits")


@hidden_check
def four_channel(make_four_channel):
    """``make_four_channel(resnet18)``: 4-band conv1, RGB filters kept, NIR Kaiming-initialised."""
    model = _hidden_resnet(5405, num_classes=7)
    before = copy.deepcopy(model.state_dict())
    count_before = _count(model)
    new = make_four_channel(model)
    conv = getattr(new, "conv1", None)
    expect(isinstance(conv, nn.Conv2d), "four_channel",
           "the returned model needs an nn.Conv2d conv1")
    expect(conv.in_channels == 4 and conv.out_channels == 64 and conv.kernel_size == (7, 7)
           and conv.stride == (2, 2) and conv.padding == (3, 3) and conv.bias is None,
           "four_channel", "conv1 must be Conv2d(4, 64, kernel_size=7, stride=2, padding=3, "
                           "bias=False): only the number of input channels changes")
    weight = conv.weight.detach()
    expect(torch.equal(weight[:, :3], before["conv1.weight"]), "four_channel",
           "the RGB filters of conv1 changed: copy the pretrained weights into input channels "
           "0-2 (only channel 3 is new)")
    nir = weight[:, 3]
    expect(0.015 < nir.std().item() < 0.35, "four_channel",
           "the NIR filters do not look Kaiming-initialised (nn.init.kaiming_normal_)")
    rgb = before["conv1.weight"]
    for copied in (rgb[:, 0], rgb[:, 1], rgb[:, 2], rgb.mean(dim=1)):
        correlation = torch.corrcoef(torch.stack([nir.flatten(), copied.flatten()]))[0, 1]
        expect(correlation.abs().item() < 0.95, "four_channel",
               "the NIR filters copy the RGB ones: initialise them with nn.init.kaiming_normal_")
    expect(_count(new) == count_before + CONV1_FILTER_SIZE, "four_channel",
           f"expected {count_before + CONV1_FILTER_SIZE:,} parameters (one more input channel "
           f"in conv1), got {_count(new):,}")
    for key, value in new.state_dict().items():
        if key != "conv1.weight" and key in before:
            expect(torch.equal(value, before[key]), "four_channel",
                   f"{key} changed: only conv1 should be replaced")
    new.eval()
    expect(new(torch.randn(2, 4, 64, 64)).shape == (2, 7), "four_channel",
           "the model must map (N, 4, H, W) images to (N, num_classes) logits")


@hidden_check
def two_networks(two_networks_class):
    """``TwoNetworks(rgb_resnet, nir_resnet, num_classes)``: features concatenated, one Linear."""
    num_classes = 5
    rgb, nir = _hidden_resnet(5406), _hidden_resnet(5407)
    rgb_conv1 = rgb.conv1.weight.detach().clone()
    model = two_networks_class(rgb, nir, num_classes)
    expected = 2 * RESNET18_WITHOUT_FC - 2 * CONV1_FILTER_SIZE + 1024 * num_classes + num_classes
    expect(_count(model) == expected, "two_networks",
           f"TwoNetworks has {_count(model):,} parameters, expected {expected:,}: two resnet18 "
           "without their fc, the NIR one with a 1-channel conv1, one Linear(1024, num_classes)")
    expect(any(isinstance(m, nn.Conv2d) and m.weight.shape == rgb_conv1.shape
               and torch.equal(m.weight.detach(), rgb_conv1) for m in model.modules()),
           "two_networks", "the RGB network's conv1 lost its pretrained weights")
    model.eval()
    X = torch.randn(3, 4, 64, 64, generator=seeded_generator(5408))
    with torch.no_grad():
        y_hat = model(X)
        expect(y_hat.shape == (3, num_classes), "two_networks",
               "the model must map (N, 4, H, W) images to (N, num_classes) logits")
        brighter_nir, brighter_rgb = X.clone(), X.clone()
        brighter_nir[:, 3] += 1
        brighter_rgb[:, :3] += 1
        expect(not torch.allclose(model(brighter_nir), y_hat), "two_networks",
               "the output does not change with the NIR band: feed X[:, 3:] to the NIR network")
        expect(not torch.allclose(model(brighter_rgb), y_hat), "two_networks",
               "the output does not change with the RGB bands: feed X[:, :3] to the RGB network")


# --- the predictions CSV ------------------------------------------------------------------------

def _map(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(np.mean([reference_average_precision(torch.from_numpy(scores[:, c]),
                                                      torch.from_numpy(labels[:, c]))
                          for c in range(labels.shape[1])]))


def score_predictions(path: str | Path) -> tuple[float, float]:
    """(public mAP, private mAP) of a predictions CSV; ``InvalidPredictions`` for a bad file."""
    ids, labels, classes = heldout_labels()
    frame = read_predictions(path, list(classes), ids, value_range=(0.0, 1.0))
    scores = frame[list(classes)].to_numpy(dtype=np.float64)
    labels = labels.numpy().astype(np.float64)
    public, private = public_private_split(len(ids))
    return _map(labels[public], scores[public]), _map(labels[private], scores[private])


def _points(private_map: float) -> float:
    baseline, target = MAP_THRESHOLDS[dataset_name()]
    return partial_points(private_map, baseline, target, CSV_POINTS)


@hidden_check
def predictions_csv(path: str | Path = CSV_FILE) -> float:
    """The handed-in CSV: valid, and its private mAP turned into points (linear between the
    dataset's baseline and target, see ``MAP_THRESHOLDS``)."""
    try:
        _, private = score_predictions(path)
    except InvalidPredictions as error:
        raise CheckFailed("predictions_csv", str(error)) from None
    baseline, target = MAP_THRESHOLDS[dataset_name()]
    points = _points(private)
    print(f"mAP on the private test labels: {private:.3f} -> {points:g} of {CSV_POINTS} points "
          f"(0 at {baseline}, full at {target})")
    return points


def prepare_grading() -> None:
    """Build the embedded scenes and their held-out labels once, before graders run in parallel."""
    if dataset_name() == "scenes":
        multilabel_scenes.load()
    heldout_labels()


def _outside_kernel_points(folder: Path) -> float:
    try:
        return _points(score_predictions(Path(folder) / CSV_FILE)[1])
    except InvalidPredictions:
        return 0.0


OUTSIDE_KERNEL = {"test_predictions_csv": _outside_kernel_points}
LEADERBOARD = LeaderboardSpec(file_name=CSV_FILE, metric="mAP", score=score_predictions)

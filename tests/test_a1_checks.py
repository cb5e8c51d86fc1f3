"""The hidden checks of a1 against the notebook's reference solution and known-wrong answers.

The solution code is read from the source notebook (cells by ``grade_id``), so these tests check
what students will be graded against, and each wrong answer must fail its own check only.
"""


import nbformat
import pytest
import torch

from autograder.checks import a1_multilabel as hidden
from autograder.checks.core import CheckFailed
from vislab.paths import REPO_ROOT
from vislab.seeds import seeded_generator

NOTEBOOK = REPO_ROOT / "assignments" / "a1_multilabel" / "a1_multilabel.ipynb"
PREAMBLE = """
import copy
import torch
import torchvision
from torch import nn
from torch.nn import functional as F
from vislab.seeds import seeded_generator
"""
SOLUTION_CELLS = ("cooccurrence", "loss", "average_precision", "mean_average_precision",
                  "tail_accuracy", "build_model", "four_channel", "two_networks")

#: known-wrong answers, by the grade_id of the cell they replace
AP_IGNORING_TIES = '''
def average_precision(scores, labels):
    order = torch.argsort(scores, descending=True)
    hits = labels[order].double()
    if hits.sum() == 0:
        return 0.0
    precision = torch.cumsum(hits, 0) / torch.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())
'''
FOUR_CHANNEL_REINITIALISED = '''
def four_channel_resnet(model):
    model = copy.deepcopy(model)
    model.conv1 = nn.Conv2d(4, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model
'''
FOUR_CHANNEL_ZERO_NIR = '''
def four_channel_resnet(model):
    model = copy.deepcopy(model)
    conv = nn.Conv2d(4, 64, kernel_size=7, stride=2, padding=3, bias=False)
    with torch.no_grad():
        conv.weight[:, :3] = model.conv1.weight
        conv.weight[:, 3] = 0
    model.conv1 = conv
    return model
'''
FOUR_CHANNEL_COPIES_RED = FOUR_CHANNEL_ZERO_NIR.replace(
    "conv.weight[:, 3] = 0", "conv.weight[:, 3] = model.conv1.weight[:, 0]")
LOSS_NAIVE = '''
class MultiLabelBCELoss(nn.Module):
    def forward(self, y_hat, y):
        p = torch.sigmoid(y_hat)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
'''
LOSS_SUMMED = '''
class MultiLabelBCELoss(nn.Module):
    def forward(self, y_hat, y):
        return (y_hat.clamp(min=0) - y_hat * y + torch.log1p(torch.exp(-y_hat.abs()))).sum()
'''
LOSS_DETACHED = '''
class MultiLabelBCELoss(nn.Module):
    def forward(self, y_hat, y):
        x = y_hat.detach()
        return (x.clamp(min=0) - x * y + torch.log1p(torch.exp(-x.abs()))).mean()
'''
TAIL_AT_OR_ABOVE = '''
def tail_accuracy(scores, labels, t):
    above = scores >= t
    count = above.sum(0).float()
    return torch.where(count > 0, (above & (labels == 1)).sum(0) / count.clamp(min=1),
                       torch.tensor(float("nan")))
'''
TAIL_ZERO_FOR_EMPTY = '''
def tail_accuracy(scores, labels, t):
    above = scores > t
    return (above & (labels == 1)).sum(0) / above.sum(0).clamp(min=1)
'''
LAST_LAYER_NOT_FROZEN = '''
def build_model(regime, pretrained, num_classes):
    if regime == "scratch":
        return torchvision.models.resnet18(num_classes=num_classes)
    model = copy.deepcopy(pretrained)
    model.fc = nn.Linear(512, num_classes)
    return model
'''
TWO_NETWORKS_RGB_ONLY = '''
class TwoNetworks(nn.Module):
    def __init__(self, rgb_net, nir_net, num_classes):
        super().__init__()
        rgb_net.fc = nn.Linear(512, num_classes)
        self.rgb_net = rgb_net

    def forward(self, X):
        return self.rgb_net(X[:, :3])
'''
COOCCURRENCE_BY_COLUMN = '''
def cooccurrence(labels):
    counts = labels.float().T @ labels.float()
    return counts / counts.diag().clamp(min=1)[None, :]
'''


def solution(replacements: dict[str, str] | None = None) -> dict:
    """The namespace after running the notebook's solution cells (some replaced)."""
    replacements = replacements or {}
    cells = {cell.metadata["nbgrader"]["grade_id"]: cell.source
             for cell in nbformat.read(NOTEBOOK, as_version=4).cells
             if cell.metadata.get("nbgrader", {}).get("grade_id") in SOLUTION_CELLS}
    assert set(cells) == set(SOLUTION_CELLS), "the notebook lost a solution cell"
    namespace = {}
    exec(PREAMBLE, namespace)
    for grade_id in SOLUTION_CELLS:
        exec(replacements.get(grade_id, cells[grade_id]), namespace)
    return namespace


#: check -> the name in the notebook it is called with
CHECKED = {"cooccurrence": "cooccurrence", "bce_loss": "MultiLabelBCELoss",
           "average_precision": "average_precision",
           "mean_average_precision": "mean_average_precision", "tail_accuracy": "tail_accuracy",
           "model_regimes": "build_model", "four_channel": "four_channel_resnet",
           "two_networks": "TwoNetworks"}


#: solution cell -> the checks that call it (directly or through another function)
CHECKS_OF_CELL = {"cooccurrence": ["cooccurrence"], "loss": ["bce_loss"],
                  "average_precision": ["average_precision", "mean_average_precision"],
                  "mean_average_precision": ["mean_average_precision"],
                  "tail_accuracy": ["tail_accuracy"], "build_model": ["model_regimes"],
                  "four_channel": ["four_channel"], "two_networks": ["two_networks"]}


def failing_checks(namespace: dict, checks=CHECKED) -> dict[str, str]:
    """check name -> failure message, for every one of ``checks`` that fails on ``namespace``."""
    failures = {}
    for check in checks:
        try:
            getattr(hidden, check)(namespace[CHECKED[check]])
        except CheckFailed as failure:
            failures[check] = failure.message
    return failures


def test_reference_solution_passes_every_check():
    assert failing_checks(solution()) == {}


@pytest.mark.parametrize("grade_id, source, failing, words", [
    ("average_precision", AP_IGNORING_TIES, "average_precision", "with ties"),
    ("four_channel", FOUR_CHANNEL_REINITIALISED, "four_channel", "RGB filters of conv1 changed"),
    ("four_channel", FOUR_CHANNEL_ZERO_NIR, "four_channel", "Kaiming"),
    ("four_channel", FOUR_CHANNEL_COPIES_RED, "four_channel", "copy the RGB ones"),
    ("loss", LOSS_NAIVE, "bce_loss", "not finite"),
    ("loss", LOSS_SUMMED, "bce_loss", "mean of BCE-with-logits"),
    ("loss", LOSS_DETACHED, "bce_loss", "carries no gradient"),
    ("tail_accuracy", TAIL_AT_OR_ABOVE, "tail_accuracy", "strictly above"),
    ("tail_accuracy", TAIL_ZERO_FOR_EMPTY, "tail_accuracy", "must give NaN"),
    ("build_model", LAST_LAYER_NOT_FROZEN, "model_regimes", "only fc trains"),
    ("two_networks", TWO_NETWORKS_RGB_ONLY, "two_networks", "expected"),
    ("cooccurrence", COOCCURRENCE_BY_COLUMN, "cooccurrence", "divide by the count of i"),
])
def test_a_wrong_answer_fails_its_own_check_only(grade_id, source, failing, words):
    # the checks of the other cells see the reference code: they pass (previous test)
    failures = failing_checks(solution({grade_id: source}), CHECKS_OF_CELL[grade_id])
    assert list(failures) == [failing]
    assert words in failures[failing]


def test_ap_without_positives_is_zero_and_said_so():
    scores = torch.tensor([0.3, 0.8, 0.1])
    assert hidden.reference_average_precision(scores, torch.zeros(3)) == 0.0
    assert solution()["average_precision"](scores, torch.zeros(3)) == 0.0
    reference = nbformat.read(NOTEBOOK, as_version=4)
    source = next(cell.source for cell in reference.cells
                  if cell.metadata.get("nbgrader", {}).get("grade_id") == "average_precision")
    nan_without_positives = source.replace("return 0.0", "return float('nan')")
    assert nan_without_positives != source
    failures = failing_checks(solution({"average_precision": nan_without_positives}),
                              CHECKS_OF_CELL["average_precision"])
    assert list(failures) == ["average_precision"]
    assert "0.0 without positives" in failures["average_precision"]


def test_ap_with_ties_follows_scikit_learn():
    tied = torch.tensor([0.9, 0.5, 0.5, 0.2])
    for labels in ([0.0, 1, 0, 1], [0.0, 0, 1, 1]):  # the tied pair in either order
        assert hidden.reference_average_precision(tied, torch.tensor(labels)) == \
            pytest.approx(5 / 12)
    # ranking tied images one by one makes AP depend on their order in the input
    ignoring_ties = solution({"average_precision": AP_IGNORING_TIES})["average_precision"]
    first = ignoring_ties(tied, torch.tensor([0.0, 1, 0, 1]))
    second = ignoring_ties(tied, torch.tensor([0.0, 0, 1, 1]))
    assert {round(first, 6), round(second, 6)} == {0.5, round(5 / 12, 6)}


def test_reference_ap_matches_the_solution_on_random_inputs():
    ap = solution()["average_precision"]
    generator = seeded_generator(3)
    for _ in range(20):
        scores = (torch.rand(40, generator=generator) * 6).round() / 6
        labels = (torch.rand(40, generator=generator) < 0.3).float()
        expected = hidden.reference_average_precision(scores, labels)
        assert ap(scores, labels) == pytest.approx(expected)


def test_reference_tail_accuracy_by_hand():
    scores = torch.tensor([[0.9, 0.2], [0.8, 0.6], [0.6, 0.3], [0.55, 0.1]])
    labels = torch.tensor([[1, 0], [0, 1], [1, 0], [1, 0]])
    result = hidden.reference_tail_accuracy(scores, labels, 0.6)
    assert result[0].item() == pytest.approx(0.5) and result[1].isnan()
    assert hidden.reference_tail_accuracy(scores, labels, 0.5).tolist() == [0.75, 1.0]


def test_a_crashing_answer_becomes_a_message_without_traceback():
    def broken(scores, labels):
        raise IndexError("index 7 is out of bounds")

    with pytest.raises(CheckFailed) as failure:
        hidden.average_precision(broken)
    assert "IndexError" in failure.value.message and "hidden inputs" in failure.value.message

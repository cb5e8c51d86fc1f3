"""The hidden checks of a1 against the notebook's reference solution and known-wrong answers.

The solution code is read from the source notebook (cells by ``grade_id``), so these tests check
what students will be graded against, and each wrong answer must fail its own check only.
"""


import pytest
import torch

from autograder.checks import a1_multilabel as hidden
from autograder.checks.core import CheckFailed
from autograder.known_wrong.a1_multilabel import KNOWN_WRONG
from autograder.notebook_cells import cell_sources, read_notebook, solution_namespace, source_notebook
from vislab.seeds import seeded_generator

ID = "a1_multilabel"
PREAMBLE = """
import copy
import torch
import torchvision
from torch import nn
from torch.nn import functional as F
"""
SOLUTION_CELLS = ("cooccurrence", "loss", "average_precision", "mean_average_precision",
                  "tail_accuracy", "build_model", "four_channel", "two_networks")

def solution(replacements: dict[str, str] | None = None) -> dict:
    """The namespace after running the notebook's solution cells (some replaced)."""
    namespace = {}
    exec(PREAMBLE, namespace)
    return solution_namespace(ID, list(SOLUTION_CELLS), namespace, replacements)


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


@pytest.mark.parametrize("name", sorted(KNOWN_WRONG))
def test_a_wrong_answer_fails_its_own_check_only(name):
    # the checks of the other cells see the reference code: they pass (previous test)
    wrong = KNOWN_WRONG[name]
    failures = failing_checks(solution({wrong.cell: wrong.source}), CHECKS_OF_CELL[wrong.cell])
    assert list(failures) == [wrong.check]
    assert wrong.words in failures[wrong.check]


def test_ap_without_positives_is_zero_and_said_so():
    scores = torch.tensor([0.3, 0.8, 0.1])
    assert hidden.reference_average_precision(scores, torch.zeros(3)) == 0.0
    assert solution()["average_precision"](scores, torch.zeros(3)) == 0.0
    source = cell_sources(read_notebook(source_notebook(ID)), ["average_precision"])[
        "average_precision"]
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
    ties = KNOWN_WRONG["ap_ignoring_ties"]
    ignoring_ties = solution({ties.cell: ties.source})["average_precision"]
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

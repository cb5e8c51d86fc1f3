"""a1_multilabel's evidence and judges: the notebook's reference solution earns every point, each
known-wrong answer fails its own cell with its words. Each test records evidence in this process
(``judge_collected``) from code read out of the source notebook (cells by ``grade_id``) and
judges it as grading does, so the evidence functions and the judges are tested together."""


import numpy as np
import pytest
import torch

from autograder.checks.a1_multilabel import evidence, references
from autograder.judging.in_process import judge_collected
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
                  "tail_accuracy", "top_k_tail_accuracy", "build_model", "four_channel", "two_networks")
#: evidence function -> (the notebook's name it is called with, the test cell it feeds)
EVIDENCE = {"cooccurrence": ("cooccurrence", "test_cooccurrence"),
            "bce_loss": ("MultiLabelBCELoss", "test_loss"),
            "average_precision": ("average_precision", "test_average_precision"),
            "mean_average_precision": ("mean_average_precision", "test_mean_average_precision"),
            "tail_accuracy": ("tail_accuracy", "test_tail_accuracy"),
            "top_k_tail_accuracy": ("top_k_tail_accuracy", "test_top_k_tail_accuracy"),
            "model_regimes": ("build_model", "test_build_model"),
            "four_channel": ("four_channel_resnet", "test_four_channel"),
            "two_networks": ("TwoNetworks", "test_two_networks")}
#: solution cell -> the evidence that calls it (directly or through another function)
EVIDENCE_OF_CELL = {"cooccurrence": ["cooccurrence"], "loss": ["bce_loss"],
                    "average_precision": ["average_precision", "mean_average_precision"],
                    "mean_average_precision": ["mean_average_precision"],
                    "tail_accuracy": ["tail_accuracy"],
                    "top_k_tail_accuracy": ["top_k_tail_accuracy"], "build_model": ["model_regimes"],
                    "four_channel": ["four_channel"], "two_networks": ["two_networks"]}


def solution(replacements: dict[str, str] | None = None) -> dict:
    """The namespace after running the notebook's solution cells (some replaced)."""
    namespace = {}
    exec(PREAMBLE, namespace)
    return solution_namespace(ID, list(SOLUTION_CELLS), namespace, replacements)


def verdicts(tmp_path, namespace: dict, names) -> dict[str, tuple[float, float, str]]:
    """test cell -> (points, max points, failure messages) after the evidence ``names`` was
    collected on the functions of ``namespace``."""
    def collect():
        for name in names:
            getattr(evidence, name)(namespace[EVIDENCE[name][0]])

    result = judge_collected(ID, collect, tmp_path / "out")
    return {cell: (v.points, v.max_points, " ".join(o.message for o in v.failures))
            for cell, v in result.items()}


def test_the_reference_solution_earns_every_point_of_every_code_check(tmp_path):
    result = verdicts(tmp_path, solution(), EVIDENCE)
    for name, (_, cell) in EVIDENCE.items():
        points, max_points, message = result[cell]
        assert points == max_points > 0, (name, message)
    records = sorted(path.name for path in (tmp_path / "out" / "evidence").iterdir())
    assert {name.rsplit(".", 1)[1] for name in records} <= {"json", "npz"}
    assert {name.rsplit(".", 1)[0] for name in records} == set(EVIDENCE)


@pytest.mark.parametrize("name", sorted(KNOWN_WRONG))
def test_a_known_wrong_answer_fails_its_own_check_only_with_its_words(tmp_path, name):
    # the checks of the other cells see the reference code: they pass (previous test)
    wrong = KNOWN_WRONG[name]
    names = EVIDENCE_OF_CELL[wrong.cell]
    result = verdicts(tmp_path, solution({wrong.cell: wrong.source}), names)
    failed = {cell for cell, (points, _, _) in result.items() if points == 0}
    own_cell = EVIDENCE[wrong.check][1]
    assert failed & {EVIDENCE[n][1] for n in names} == {own_cell}
    assert wrong.words in result[own_cell][2]


def test_ap_without_positives_is_zero_and_said_so(tmp_path):
    scores = torch.tensor([0.3, 0.8, 0.1])
    assert references.reference_average_precision(scores, torch.zeros(3)) == 0.0
    assert solution()["average_precision"](scores, torch.zeros(3)) == 0.0
    source = cell_sources(read_notebook(source_notebook(ID)), ["average_precision"])[
        "average_precision"]
    nan_without_positives = source.replace("return 0.0", "return float('nan')")
    assert nan_without_positives != source
    result = verdicts(tmp_path, solution({"average_precision": nan_without_positives}),
                      ["average_precision", "mean_average_precision"])
    points, _, message = result["test_average_precision"]
    assert points == 0 and "0.0 without positives" in message
    assert result["test_mean_average_precision"][0] == 2


def test_ap_with_ties_follows_scikit_learn():
    tied = torch.tensor([0.9, 0.5, 0.5, 0.2])
    for labels in ([0.0, 1, 0, 1], [0.0, 0, 1, 1]):  # the tied pair in either order
        assert references.reference_average_precision(tied, torch.tensor(labels)) == \
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
        expected = references.reference_average_precision(scores, labels)
        assert ap(scores, labels) == pytest.approx(expected)


def test_reference_tail_accuracy_by_hand():
    scores = torch.tensor([[0.9, 0.2], [0.8, 0.6], [0.6, 0.3], [0.55, 0.1]])
    labels = torch.tensor([[1, 0], [0, 1], [1, 0], [1, 0]])
    result = references.reference_tail_accuracy(scores, labels, 0.6)
    assert result[0].item() == pytest.approx(0.5) and result[1].isnan()
    assert references.reference_tail_accuracy(scores, labels, 0.5).tolist() == [0.75, 1.0]


def test_reference_top_k_tail_accuracy_agrees_with_scikit_learns_precision():
    # continuous scores (no ties): the top k of a class are the first k of np.argsort
    from sklearn.metrics import precision_score

    generator = seeded_generator(4)
    labels = (torch.rand(70, 4, generator=generator) < 0.4).numpy()
    scores = torch.rand(70, 4, generator=generator).numpy()
    for k, t in [(5, 0.5), (20, 0.3), (20, 0.9), (70, 0.6)]:
        expected = []
        for c in range(4):
            top = np.argsort(-scores[:, c])[:k]
            predicted = scores[top, c] > t
            expected.append(precision_score(labels[top, c], predicted) if predicted.any()
                            else np.nan)
        result = references.reference_top_k_tail_accuracy(scores, labels, t, k)
        assert np.allclose(result, expected, equal_nan=True), (k, t)


def test_reference_top_k_tail_accuracy_keeps_ties_and_all_images_when_fewer_than_k():
    scores = torch.tensor([[0.9], [0.7], [0.7], [0.7], [0.2]])
    labels = torch.tensor([[0], [1], [1], [0], [1]])
    # k = 2: the 2nd score is 0.7, so the three images tied at 0.7 stay in: 2 of 4 positive
    assert references.reference_top_k_tail_accuracy(scores, labels, 0.5, 2).tolist() == [0.5]
    assert solution()["top_k_tail_accuracy"](scores, labels, 0.5, k=2).tolist() == [0.5]
    # k >= N: Tailacc(t) itself
    generator = seeded_generator(5)
    scores, labels = torch.rand(30, 3, generator=generator), torch.rand(30, 3, generator=generator) < 0.5
    for t in (0.2, 0.6, 0.99):
        assert np.allclose(references.reference_top_k_tail_accuracy(scores, labels, t, 50),
                           references.reference_tail_accuracy(scores, labels, t).numpy(),
                           equal_nan=True)


def test_the_hidden_top_k_cases_tell_the_named_mistakes_apart():
    # the tie case must separate "at least the k-th score" from "the first k of a sorted order"
    right = solution()["top_k_tail_accuracy"]
    by_order = solution({"top_k_tail_accuracy": KNOWN_WRONG["top_k_first_k_of_sorted"].source})[
        "top_k_tail_accuracy"]
    tied = [call for call in evidence.top_k_calls() if call[0].startswith("scores tied")]
    assert tied and all(
        not torch.allclose(right(s, y, t, k=k), by_order(s, y, t, k=k), equal_nan=True)
        for _, s, y, t, k in tied)


def test_a_crashing_answer_becomes_a_message_without_traceback(tmp_path):
    def broken(scores, labels):
        raise IndexError("index 7 is out of bounds")

    result = verdicts(tmp_path, {"average_precision": broken}, ["average_precision"])
    points, _, message = result["test_average_precision"]
    assert points == 0 and "raised IndexError: index 7 is out of bounds" in message
    assert "hidden inputs" in message and "Traceback" not in message


def test_a_loss_returned_as_a_python_number_is_named(tmp_path):
    class FloatLoss(torch.nn.Module):
        def forward(self, y_hat, y):
            return torch.nn.functional.binary_cross_entropy_with_logits(y_hat, y).item()

    points, _, message = verdicts(tmp_path, {"MultiLabelBCELoss": FloatLoss},
                                  ["bce_loss"])["test_loss"]
    assert points == 0 and "0-dimensional tensor" in message


def test_a_map_returned_as_a_list_or_with_per_class_ap_in_the_wrong_order_fails(tmp_path):
    right = solution()["mean_average_precision"]

    def as_list(scores, labels):
        return list(right(scores, labels))

    def reversed_classes(scores, labels):
        value, per_class = right(scores, labels)
        return value, per_class.flip(0)

    for wrong, words in [(as_list, "return a tuple"), (reversed_classes, "class c is column c")]:
        points, _, message = verdicts(tmp_path, {"mean_average_precision": wrong},
                                      ["mean_average_precision"])["test_mean_average_precision"]
        assert points == 0 and words in message


def test_a_model_that_starts_scratch_from_the_pretrained_weights_fails(tmp_path):
    build_model = solution()["build_model"]

    def scratch_pretrained(regime, pretrained, num_classes):
        return build_model("all_layers" if regime == "scratch" else regime, pretrained,
                           num_classes)

    points, _, message = verdicts(tmp_path, {"build_model": scratch_pretrained},
                                  ["model_regimes"])["test_build_model"]
    assert points == 0 and "scratch: the model starts from the pretrained weights" in message


def test_a_check_whose_hidden_part_never_ran_says_so(tmp_path):
    points, _, message = verdicts(tmp_path, {}, [])["test_cooccurrence"]
    assert points == 0 and "this check never ran" in message

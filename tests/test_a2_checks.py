"""The hidden checks of a2_bn_folding against the solution and known-wrong answers.

The solution is the source notebook's own solution cells, run without the notebook. Each
known-wrong answer is the source of one cell (the end-to-end grading test puts the same text into
a submission): it must fail exactly the check that grades that cell, with a message that names
the cause, and pass every other check.
"""

import copy

import pytest
import torch
from torch import nn

from autograder.checks import a2_bn_folding as hidden
from autograder.checks.core import CheckFailed
from autograder.known_wrong.a2_bn_folding import KNOWN_WRONG
from autograder.notebook_cells import solution_namespace as run_solution_cells
from vislab.a2_bn_folding.pairs import conv_bn_pairs
from vislab.seeds import seeded_generator
from vislab.training import History

ID = "a2_bn_folding"

#: which solution function each cell defines
CELL_DEFINES = {"normalized_conv": "NormalizedConv2d", "adjust_affine": "adjust_affine",
                "adjust_running_stats": "adjust_running_stats", "convert_model": "convert_model",
                "compare_outputs": "compare_outputs", "fold_conv_bn": "fold_conv_bn",
                "fold_model": "fold_model"}
#: check -> the cells whose code it could run (directly, or through another notebook function
#: that the check swaps for the reference: a wrong cell must not cost another check's points)
CHECK_RUNS = {
    "normalized_conv_forward": {"normalized_conv"},
    "normalized_conv_gradient": {"normalized_conv"},
    "case_a_exact": {"adjust_affine"},
    "case_b_exact": {"adjust_running_stats"},
    "converter_swaps_every_pair": {"convert_model", "normalized_conv"},
    "converter_copies_the_model": {"convert_model", "normalized_conv"},
    "comparison_in_eval_mode": {"compare_outputs"},
    "converted_model_trains": set(),
    "folded_pair_matches": {"fold_conv_bn"},
    "folded_model_matches": {"fold_model", "fold_conv_bn"},
}


def solution_namespace(replacements: dict[str, str] | None = None) -> dict:
    """What the solved notebook defines: its solution cells (some replaced), run in order."""
    namespace = {"torch": torch, "nn": nn, "F": torch.nn.functional, "copy": copy,
                 "conv_bn_pairs": conv_bn_pairs,
                 "X_compare": torch.randn(16, 3, 32, 32, generator=seeded_generator(0))}
    return run_solution_cells(ID, list(CELL_DEFINES), namespace, replacements)


def run_checks(namespace: dict, checks) -> dict[str, str | None]:
    """check name -> None when it passes, else its message (the history is a falling one)."""
    history = History(name="converted", metric_name="accuracy",
                      epochs=[{"train_loss": 1.3}, {"train_loss": 0.9}], best_epoch=2)
    arguments = {
        "normalized_conv_forward": (namespace["NormalizedConv2d"],),
        "normalized_conv_gradient": (namespace["NormalizedConv2d"],),
        "case_a_exact": (namespace["adjust_affine"],),
        "case_b_exact": (namespace["adjust_running_stats"],),
        "converter_swaps_every_pair": (namespace["convert_model"],),
        "converter_copies_the_model": (namespace["convert_model"],),
        "comparison_in_eval_mode": (namespace["compare_outputs"],),
        "converted_model_trains": (history,),
        "folded_pair_matches": (namespace["fold_conv_bn"],),
        "folded_model_matches": (namespace["fold_model"],),
    }
    outcome = {}
    for check in checks:
        try:
            getattr(hidden, check)(*arguments[check])
            outcome[check] = None
        except CheckFailed as failure:
            outcome[check] = failure.message
    return outcome


def test_solution_passes_every_check():
    outcome = run_checks(solution_namespace(), CHECK_RUNS)
    assert outcome == dict.fromkeys(CHECK_RUNS)


@pytest.mark.parametrize("wrong", sorted(KNOWN_WRONG))
def test_known_wrong_answer_fails_exactly_its_check(wrong):
    """Only checks that run the wrong cell's code can change; of those, exactly one fails."""
    wrong = KNOWN_WRONG[wrong]
    namespace = solution_namespace(replacements={wrong.cell: wrong.source})
    affected = [check for check, cells in CHECK_RUNS.items() if wrong.cell in cells]
    outcome = run_checks(namespace, affected)
    failed = {check: message for check, message in outcome.items() if message is not None}
    assert list(failed) == [wrong.check]
    assert wrong.words in failed[wrong.check]


def test_training_check_rejects_a_flat_or_exploding_loss():
    flat = History(name="c", metric_name="accuracy",
                   epochs=[{"train_loss": 1.0}, {"train_loss": 1.1}], best_epoch=1)
    with pytest.raises(CheckFailed, match="did not go down"):
        hidden.converted_model_trains(flat)
    exploding = History(name="c", metric_name="accuracy",
                        epochs=[{"train_loss": 1.0}, {"train_loss": float("nan")}], best_epoch=1)
    with pytest.raises(CheckFailed, match="NaN"):
        hidden.converted_model_trains(exploding)


def test_comparison_check_rejects_train_mode_outputs():
    def compare_in_train_mode(model_a, model_b, X):
        with torch.no_grad():
            difference = (model_a(X) - model_b(X)).abs()
        return {"mean_abs_diff": difference.mean().item(), "max_abs_diff": difference.max().item(),
                "top1_agreement": 1.0}

    with pytest.raises(CheckFailed, match="eval mode"):
        hidden.comparison_in_eval_mode(compare_in_train_mode)


def test_case_b_without_eps_is_close_on_default_eps_but_far_on_large_eps():
    """Why the checks need hidden networks with large eps: the mistake hides at eps=1e-5."""
    wrong = KNOWN_WRONG["forgets_eps_in_case_b"]
    namespace = solution_namespace(replacements={wrong.cell: wrong.source})
    X = hidden.hidden_inputs(1)
    errors = {}
    for eps in (1e-5, None):
        model = hidden.hidden_small_net(eps=eps)
        converted = hidden.convert_model(model, namespace["adjust_running_stats"])
        errors[eps] = hidden._relative_error(hidden._eval_outputs(converted, X),
                                             hidden._eval_outputs(model, X))
    assert errors[1e-5] < 1e-2 < errors[None]
    assert errors[None] > 100 * hidden.CONVERT_TOLERANCE


def test_reference_fold_equals_torch_fuse_conv_bn_eval():
    for conv, bn in hidden._hidden_pairs():
        expected = torch.nn.utils.fuse_conv_bn_eval(conv.eval(), bn.eval())
        folded = hidden.fold_conv_bn(conv, bn)
        assert torch.allclose(folded.weight, expected.weight, atol=1e-6)
        assert torch.allclose(folded.bias, expected.bias, atol=1e-6)


def test_reference_case_b_running_var_can_be_negative_and_stays_exact():
    """n_c > 1 makes the new 'variance' negative; eval-mode BatchNorm is still exact."""
    bn = nn.BatchNorm2d(2, eps=0.1).eval()
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([0.01, 1.0]))
    n = torch.tensor([3.0, 3.0])
    X = torch.randn(4, 2, 3, 3)
    expected = bn(n[None, :, None, None] * X)
    hidden.adjust_running_stats(bn, n)
    assert bn.running_var[0] < 0
    assert torch.allclose(bn(X), expected, atol=1e-5)


def test_training_run_is_scored_from_the_handed_in_history(tmp_path):
    assert hidden.training_run_points(tmp_path) == 0  # nothing handed in
    for losses, points in [([1.2, 0.8, 0.6], 1), ([1.2, 1.3], 0), ([1.2], 0)]:
        History(name="converted_b", metric_name="accuracy",
                epochs=[{"train_loss": loss} for loss in losses], best_epoch=1,
                ).save(tmp_path / "runs" / "converted_b.json")
        assert hidden.training_run_points(tmp_path) == points
    assert hidden.OUTSIDE_KERNEL == {"test_training": hidden.training_run_points}

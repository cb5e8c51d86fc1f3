"""a2_bn_folding's evidence and judges: the reference solution passes every cell, each known-wrong
answer fails its own cell with its words and no other. Each test records evidence in this process
(``judge_collected``) and judges it as grading does, so the evidence functions and the judges are
tested together; the references are tested against PyTorch.

The solution is the source notebook's own solution cells, run without the notebook. Each
known-wrong answer is the source of one cell (the end-to-end grading test puts the same text into
a submission).
"""

import copy
import json

import pytest
import torch
from torch import nn

from autograder.checks.a2_bn_folding import evidence, judges, prepare_grading, references
from autograder.heldout.key import DEMO_KEY
from autograder.judging.in_process import judge_collected
from autograder.known_wrong.a2_bn_folding import KNOWN_WRONG
from autograder.notebook_cells import solution_namespace as run_solution_cells
from vislab.a2_bn_folding import photos
from vislab.a2_bn_folding.pairs import conv_bn_pairs
from vislab.data.tensor_cache import is_cached
from vislab.seeds import seeded_generator
from vislab.training import History

ID = "a2_bn_folding"
#: the solution cells, in notebook order
SOLUTION_CELLS = ["normalized_conv", "adjust_affine", "adjust_running_stats", "convert_model",
                  "compare_outputs", "fold_conv_bn", "fold_model"]
#: evidence function -> the notebook name it is given
EVIDENCE_OF = {"normalized_conv_forward": "NormalizedConv2d",
               "normalized_conv_gradient": "NormalizedConv2d",
               "case_a_exact": "adjust_affine", "case_b_exact": "adjust_running_stats",
               "converter_swaps_every_pair": "convert_model",
               "converter_copies_the_model": "convert_model",
               "comparison_in_eval_mode": "compare_outputs",
               "folded_pair_matches": "fold_conv_bn", "folded_model_matches": "fold_model"}


def solution_namespace(replacements: dict[str, str] | None = None) -> dict:
    """What the solved notebook defines: its solution cells (some replaced), run in order."""
    namespace = {"torch": torch, "nn": nn, "F": torch.nn.functional, "copy": copy,
                 "conv_bn_pairs": conv_bn_pairs,
                 "X_compare": torch.randn(16, 3, 32, 32, generator=seeded_generator(0))}
    return run_solution_cells(ID, SOLUTION_CELLS, namespace, replacements)


def collect_all(namespace: dict):
    """Every hidden test cell's evidence call, on the notebook functions of ``namespace``."""
    def collect():
        for function, name in EVIDENCE_OF.items():
            getattr(evidence, function)(namespace[name])
    return collect


def hand_in_run(folder, losses) -> None:
    History(name="converted_b", metric_name="accuracy",
            epochs=[{"train_loss": loss} for loss in losses], best_epoch=1,
            ).save(folder / "runs" / "converted_b.json")


def verdicts(tmp_path, collect, losses=(1.3, 0.9)):
    """Every cell's verdict after ``collect()``, with a handed-in run of ``losses``."""
    submission = tmp_path / "submission"
    if losses is not None:
        hand_in_run(submission, losses)
    submission.mkdir(exist_ok=True)
    return judge_collected(ID, collect, tmp_path / "out", submission)


def verdict(tmp_path, cell: str, collect, losses=(1.3, 0.9)) -> tuple[float, str]:
    """(points, failure messages) of ``cell``."""
    result = verdicts(tmp_path, collect, losses)[cell]
    return result.points, " ".join(outcome.message for outcome in result.failures)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread, as in a grading sandbox: on a shared machine, more threads of many
    tiny operations wait on each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def solution():
    return solution_namespace()


def test_the_solution_gets_every_point(tmp_path, solution):
    results = verdicts(tmp_path, collect_all(solution))
    assert {cell: r.points for cell, r in results.items()} == \
        {cell: r.max_points for cell, r in results.items()}
    judged = {outcome.judge for r in results.values() for outcome in r.outcomes}
    assert judged == {f"test_{check}" for check in [*EVIDENCE_OF, "converted_model_trains"]}


@pytest.mark.parametrize("name", sorted(KNOWN_WRONG))
def test_a_known_wrong_answer_fails_its_cell_with_its_words_and_no_other(tmp_path, name):
    wrong = KNOWN_WRONG[name]
    namespace = solution_namespace(replacements={wrong.cell: wrong.source})
    results = verdicts(tmp_path, collect_all(namespace))
    failed = {cell: r for cell, r in results.items() if r.points < r.max_points}
    assert len(failed) == 1, {cell: r.failures for cell, r in failed.items()}
    (cell, result), = failed.items()
    assert result.points == 0
    assert [outcome.judge for outcome in result.failures] == [f"test_{wrong.check}"]
    assert wrong.words in result.failures[0].message
    assert set(wrong.zeroes) <= {cell}, "its graded notebook loses this cell only"


# ---------------------------------------------------------------------------------------------
# Cell by cell: the checks fail, with words, on what they are about
# ---------------------------------------------------------------------------------------------

def test_a_crash_in_student_code_is_named_without_a_traceback(tmp_path):
    def fold_conv_bn(conv, bn):
        raise ZeroDivisionError("division by zero")

    points, message = verdict(tmp_path, "test_fold_conv_bn",
                              lambda: evidence.folded_pair_matches(fold_conv_bn))
    assert points == 0 and "raised ZeroDivisionError: division by zero" in message
    assert "Traceback" not in message


def test_a_cell_whose_hidden_part_never_ran_scores_zero(tmp_path):
    points, message = verdict(tmp_path, "test_fold_model", lambda: None)
    assert points == 0 and "never ran" in message


def test_the_normalised_conv_must_keep_the_original_weight(tmp_path):
    class NormalizedOnce(nn.Module):  # normalises the weight once, in __init__
        def __init__(self, conv, eps=1e-12):
            super().__init__()
            n = torch.sqrt(conv.weight.detach().var(dim=(1, 2, 3)) + eps)
            self.conv = copy.deepcopy(conv)
            self.weight = nn.Parameter(conv.weight.detach() / n[:, None, None, None])

        def forward(self, X):
            return self.conv(X)

    points, message = verdict(tmp_path, "test_normalized_conv_forward",
                              lambda: evidence.normalized_conv_forward(NormalizedOnce))
    assert points == 0 and "original convolution's weights, unchanged" in message


def test_the_converter_must_hand_each_batchnorm_its_own_convs_norms(tmp_path, solution):
    """The converter is checked with a stand-in NormalizedConv2d whose norms() are not n_c: a
    converter that computes n itself instead of asking the module fails."""
    namespace = dict(solution)
    exec('''
def convert_model(model, adjust_bn):
    converted = copy.deepcopy(model)
    for conv_name, bn_name in conv_bn_pairs(converted):
        conv = converted.get_submodule(conv_name)
        with torch.no_grad():
            adjust_bn(converted.get_submodule(bn_name),
                      torch.sqrt(conv.weight.var(dim=(1, 2, 3)) + 1e-12))
        converted.set_submodule(conv_name, NormalizedConv2d(conv))
    return converted
''', namespace)
    points, message = verdict(tmp_path, "test_convert_model",
                              lambda: evidence.converter_swaps_every_pair(namespace["convert_model"]))
    assert points == 0 and "pass each NormalizedConv2d's own norms() to adjust_bn" in message
    assert solution["NormalizedConv2d"] is namespace["NormalizedConv2d"], "the stand-in is gone"


def test_a_converter_that_makes_new_batchnorms_is_told_to_keep_eps_and_momentum(tmp_path, solution):
    namespace = dict(solution)
    exec('''
def convert_model(model, adjust_bn):
    converted = copy.deepcopy(model)
    for conv_name, bn_name in conv_bn_pairs(converted):
        old = converted.get_submodule(bn_name)
        bn = nn.BatchNorm2d(old.num_features)
        bn.load_state_dict(old.state_dict())
        normalized = NormalizedConv2d(converted.get_submodule(conv_name))
        with torch.no_grad():
            adjust_bn(bn, normalized.norms())
        converted.set_submodule(conv_name, normalized)
        converted.set_submodule(bn_name, bn)
    return converted
''', namespace)
    points, message = verdict(tmp_path, "test_convert_model",
                              lambda: evidence.converter_swaps_every_pair(namespace["convert_model"]))
    assert points == 0 and "keep their own eps and momentum" in message


def test_the_comparison_check_rejects_train_mode_outputs(tmp_path):
    def compare_in_train_mode(model_a, model_b, X):
        with torch.no_grad():
            difference = (model_a(X) - model_b(X)).abs()
        return {"mean_abs_diff": difference.mean().item(), "max_abs_diff": difference.max().item(),
                "top1_agreement": 1.0}

    points, message = verdict(tmp_path, "test_compare_outputs",
                              lambda: evidence.comparison_in_eval_mode(compare_in_train_mode))
    assert points == 0 and "eval mode" in message


def test_the_comparison_needs_the_three_numbers(tmp_path, solution):
    def tensors(model_a, model_b, X):
        return {key: torch.tensor([value, value])
                for key, value in solution["compare_outputs"](model_a, model_b, X).items()}

    points, message = verdict(tmp_path, "test_compare_outputs",
                              lambda: evidence.comparison_in_eval_mode(tensors))
    assert points == 0 and "must be a number" in message
    points, message = verdict(tmp_path, "test_compare_outputs",
                              lambda: evidence.comparison_in_eval_mode(lambda a, b, X: [0.0]))
    assert points == 0 and "must return a dict" in message


def test_a_fold_that_drops_the_conv_bias_is_told_so(tmp_path, solution):
    namespace = dict(solution)
    exec('''
@torch.no_grad()
def fold_conv_bn(conv, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                       conv.padding, conv.dilation, conv.groups, bias=True)
    folded.weight.copy_(conv.weight * scale[:, None, None, None])
    folded.bias.copy_(bn.bias - bn.running_mean * scale)
    return folded
''', namespace)
    points, message = verdict(tmp_path, "test_fold_conv_bn",
                              lambda: evidence.folded_pair_matches(namespace["fold_conv_bn"]))
    assert points == 0 and "fold it in too" in message


def test_a_folded_model_with_batchnorms_left_fails(tmp_path):
    points, message = verdict(tmp_path, "test_fold_model",
                              lambda: evidence.folded_model_matches(lambda model: copy.deepcopy(model)))
    assert points == 0 and "still holds 20 BatchNorm layers" in message


@pytest.mark.parametrize(("losses", "words"), [
    ((1.2, 0.8, 0.6), None), ((1.2, 1.3), "did not go down"), ((1.2,), "at least 2 epochs"),
    ((1.0, float("nan")), "NaN"), (None, "was not handed in"),
    ((1.389, 1.378), "near chance")])  # the case-A conversion's run: it falls, but learns nothing
def test_the_training_run_is_judged_from_the_handed_in_history(tmp_path, losses, words):
    points, message = verdict(tmp_path, "test_training", lambda: None, losses=losses)
    assert (points, words is None or words in message) == (0 if words else 1, True)


def test_a_training_run_that_is_not_a_history_is_named(tmp_path):
    run = tmp_path / "submission" / "runs" / "converted_b.json"
    run.parent.mkdir(parents=True)
    run.write_text(json.dumps(["not", "a", "history"]))
    points, message = verdict(tmp_path, "test_training", lambda: None, losses=None)
    assert points == 0 and "not a training run saved by vislab.training.fit" in message


# ---------------------------------------------------------------------------------------------
# The references, the hidden inputs and the stand-ins
# ---------------------------------------------------------------------------------------------

def test_the_reference_fold_equals_torch_fuse_conv_bn_eval():
    for conv, bn in evidence.hidden_pairs():
        expected = torch.nn.utils.fuse_conv_bn_eval(conv.eval(), bn.eval())
        folded = references.fold_conv_bn(conv, bn)
        assert torch.allclose(folded.weight, expected.weight, atol=1e-6)
        assert torch.allclose(folded.bias, expected.bias, atol=1e-6)


def test_the_reference_case_b_running_var_can_be_negative_and_stays_exact():
    """n_c > 1 makes the new 'variance' negative; eval-mode BatchNorm is still exact."""
    bn = nn.BatchNorm2d(2, eps=0.1).eval()
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([0.01, 1.0]))
    n = torch.tensor([3.0, 3.0])
    X = torch.randn(4, 2, 3, 3)
    expected = bn(n[None, :, None, None] * X)
    references.adjust_running_stats(bn, n)
    assert bn.running_var[0] < 0
    assert torch.allclose(bn(X), expected, atol=1e-5)


def test_case_b_without_eps_is_close_on_default_eps_but_far_on_large_eps():
    """Why the checks need hidden networks with large eps: the mistake hides at eps=1e-5."""
    X = evidence.hidden_inputs(1)
    errors = {}
    for eps in (1e-5, None):
        model = evidence.hidden_small_net(eps=eps)
        converted = references.convert_model(model, references.adjust_running_stats_ignoring_eps)
        errors[eps] = references.relative_error(references.eval_outputs(converted, X),
                                                references.eval_outputs(model, X))
    assert errors[1e-5] < 1e-2 < errors[None]
    assert errors[None] > 100 * judges.CONVERT_TOLERANCE


def test_the_stand_ins_keep_a_network_s_outputs():
    """With the stand-ins, a right convert_model and fold_model give the original outputs."""
    X = evidence.hidden_inputs(5)
    for model in evidence.hidden_networks().values():
        y = references.eval_outputs(model, X)
        converted = copy.deepcopy(model)
        for conv_name, bn_name in conv_bn_pairs(converted):
            normalized = evidence.StandInNormalizedConv2d(converted.get_submodule(conv_name))
            evidence.compensate_exactly(converted.get_submodule(bn_name), normalized.norms())
            converted.set_submodule(conv_name, normalized)
        assert references.relative_error(references.eval_outputs(converted, X), y) < 1e-5
        assert not torch.allclose(normalized.norms(),
                                  references.weight_norms(normalized.weight, 1e-12)), \
            "the stand-in's norms are not n_c"
        unfolded = copy.deepcopy(model)
        for conv_name, bn_name in conv_bn_pairs(unfolded):
            unfolded.set_submodule(conv_name, evidence.UnfoldedPair(
                unfolded.get_submodule(conv_name), unfolded.get_submodule(bn_name)))
            unfolded.set_submodule(bn_name, nn.Identity())
        assert torch.equal(references.eval_outputs(unfolded, X), y)


def test_standing_in_puts_the_notebook_names_back():
    namespace = {"fold_conv_bn": "the student's"}
    exec("def fold_model(model):\n    return fold_conv_bn, convert_model\n", namespace)
    with evidence.standing_in(namespace["fold_model"], fold_conv_bn=1, convert_model=2):
        assert namespace["fold_model"](None) == (1, 2)
    assert namespace["fold_conv_bn"] == "the student's" and "convert_model" not in namespace


def test_the_hidden_networks_leave_the_kernel_s_generator_and_threads_alone():
    threads = torch.get_num_threads()
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    evidence.hidden_small_net()
    evidence.hidden_convs()
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_prepare_grading_builds_the_photos_once_before_any_sandbox(tmp_cache, monkeypatch):
    monkeypatch.setattr(photos, "CROPS_PER_SOURCE", 2)
    prepare_grading(DEMO_KEY)
    assert is_cached(photos.NAME)
    monkeypatch.setattr(photos, "build", lambda: pytest.fail("built twice"))
    prepare_grading(DEMO_KEY)


def test_prepare_grading_names_a_chosen_folder_without_images(tmp_cache, tmp_path, monkeypatch):
    monkeypatch.setenv(photos.VARIABLE, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="holds no .jpg or .png image"):
        prepare_grading(DEMO_KEY)

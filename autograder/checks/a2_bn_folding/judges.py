"""Judges of a2_bn_folding: pytest checks over the evidence of one submission (grading side only).

Each judge rebuilds the hidden inputs of its evidence from the seeds of
:mod:`autograder.checks.a2_bn_folding.evidence`, compares what the student's code gave with the
references of :mod:`autograder.checks.a2_bn_folding.references`, and names the mistake in words.
The cases are graded by what they change (gamma/beta or the running statistics), never by a
letter. The training run is judged from the handed-in ``runs/converted_b.json``. See
:mod:`autograder.judging.plugin` for the fixtures and how to run this file by hand.
"""

import copy
import math

import numpy as np
import pytest
import torch

from autograder.checks.a2_bn_folding import evidence as hidden
from autograder.checks.a2_bn_folding import references as ref
from autograder.checks.a2_bn_folding.evidence import BN_TENSORS, COMPARE_KEYS
from autograder.judging.handed_in_runs import handed_in_epochs
from vislab.a2_bn_folding.pairs import conv_bn_pairs

#: largest output difference (relative to the largest output, at least 1) that counts as equal:
#: the conversions reorder float32 arithmetic through 20 layers
CONVERT_TOLERANCE = 1e-4
#: folding is one multiply-add per weight: equal up to float32 precision (correct folds, written
#: in several ways, differ from the original by at most 2.2e-6 on the hidden resnet18)
FOLD_TOLERANCE = 2e-5
#: the handed-in training run of the converted model
TRAINING_RUN = "runs/converted_b.json"
#: the rotation task's chance level: cross-entropy ln 4 (4 classes); a run that learns ends its
#: training loss below LEARNS_BELOW of it (the reference: 1.11 after one epoch, 0.50 after two;
#: the case-A conversion, which does not learn: 1.39, then 1.38)
CHANCE_LOSS = math.log(4)
LEARNS_BELOW = 0.8
HARD_CODED_EPS = ("is exact only when eps is torch's default 1e-5: use each BatchNorm's own "
                  "`bn.eps`, never a fixed number; the hidden networks have other eps values")
INCOMPLETE = "the check did not run on every hidden input: run the cell again"


def ran(record: dict) -> dict:
    """``record``, unless the student's code raised on the hidden inputs."""
    assert "error" not in record, (
        f"your code raised {record.get('error')} when the check ran it on hidden inputs. Run "
        "your cell again and read the visible tests above it; make sure it handles inputs of "
        "other sizes and values too.")
    return record


def tensor(value) -> torch.Tensor | None:
    """A recorded array as a float tensor (``None`` for anything else)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return torch.from_numpy(np.asarray(value, dtype=np.float32))
    return None


def close(value, expected: torch.Tensor, tolerance: float) -> bool:
    got = tensor(value)
    return (got is not None and got.shape == expected.shape
            and ref.relative_error(got, expected) <= tolerance)


def per_network(records: list) -> list[tuple[str, torch.nn.Module, dict]]:
    """(name, hidden network, its record), checking that every hidden network has one."""
    networks = hidden.hidden_networks()
    assert [r.get("name") for r in records] == list(networks), INCOMPLETE
    return [(name, networks[name], r) for name, r in zip(networks, records, strict=True)]


# ---------------------------------------------------------------------------------------------
# The normalised convolution
# ---------------------------------------------------------------------------------------------

@pytest.mark.cell("test_normalized_conv_forward")
def test_normalized_conv_forward(evidence):
    """``NormalizedConv2d(conv, eps)(X)`` is ``conv(X) / n_c``; it stores the original weight."""
    convs = hidden.hidden_convs()
    facts = ran(evidence("normalized_conv_forward"))["convs"]
    assert len(facts) == len(convs), INCOMPLETE
    for index, ((conv, eps), got) in enumerate(zip(convs, facts, strict=True)):
        X = hidden.conv_images(conv, hidden.FORWARD_SEED + index)
        assert got["weight_is_parameter"], (
            "NormalizedConv2d must keep the convolution's weight as an nn.Parameter named "
            "`weight` (the original, unnormalised values), so that training updates it")
        weight = tensor(got["weight"])
        assert weight is not None and weight.shape == conv.weight.shape and \
            torch.equal(weight, conv.weight.detach()), (
                "`weight` must hold the original convolution's weights, unchanged: the module "
                "normalises them in forward, every time it runs")
        output = ran(got["output"]).get("value")
        expected = [ref.normalized_output(conv, eps, X, unbiased)[0].detach()
                    for unbiased in (True, False)]
        if not any(close(output, y, CONVERT_TOLERANCE) for y in expected):
            plain = close(output, ref.normalized_output(conv, 0.0, X)[0].detach(),
                          CONVERT_TOLERANCE)
            hint = (" Your output ignores the eps passed to the constructor: use it inside n_c."
                    if eps > 0.1 and plain else "")
            stride_etc = (f"stride={conv.stride}, padding={conv.padding}, "
                          f"dilation={conv.dilation}, groups={conv.groups}, "
                          f"bias={conv.bias is not None}")
            pytest.fail("the output is not the convolution's output divided by n_c = "
                        f"sqrt(var(W[c]) + eps) per output channel, for a conv with {stride_etc} "
                        f"and eps={eps}. Keep the conv's stride, padding, dilation and groups, "
                        "and divide its bias by n_c too." + hint, pytrace=False)
        assert got["norms_shape"] == [conv.out_channels], \
            "NormalizedConv2d.norms() must return n_c as a tensor of shape (C_out,)"


@pytest.mark.cell("test_normalized_conv_gradient")
def test_normalized_conv_gradient(evidence):
    """The gradient of a loss reaches ``weight`` through the normalisation, n_c included."""
    convs = hidden.hidden_convs()[:3]
    grads = ran(evidence("normalized_conv_gradient"))["grads"]
    assert len(grads) == len(convs), INCOMPLETE
    for index, ((conv, eps), grad) in enumerate(zip(convs, grads, strict=True)):
        assert grad is not None, (
            "no gradient reached `weight` after backward(): compute the normalised weight from "
            "self.weight inside forward, without torch.no_grad() or .detach(), and keep "
            "`weight` an nn.Parameter")
        X = hidden.conv_images(conv, hidden.GRADIENT_SEED + index)
        upstream = hidden.gradient_upstream(conv, X, index)
        expected = [ref.normalized_weight_grad(conv, eps, X, upstream, unbiased)
                    for unbiased in (True, False)]
        if any(close(grad, e, CONVERT_TOLERANCE) for e in expected):
            continue
        detached = ref.normalized_weight_grad(conv, eps, X, upstream, detach_norms=True)
        assert not close(grad, detached, CONVERT_TOLERANCE), (
            "the gradient treats n_c as a constant: n_c is computed from W, so the gradient "
            "must flow through it too. Do not .detach() n_c or compute it under torch.no_grad()")
        pytest.fail("the gradient reaching `weight` is not the gradient of conv(X, W / n_c(W)): "
                    "normalise self.weight in forward with differentiable torch operations",
                    pytrace=False)


# ---------------------------------------------------------------------------------------------
# Cases A and B
# ---------------------------------------------------------------------------------------------

def _converted_with(model: torch.nn.Module, states: list[dict]) -> torch.nn.Module:
    """``model`` converted by the reference, each paired BatchNorm left as ``states`` say."""
    pairs = conv_bn_pairs(model)
    assert len(states) == len(pairs), INCOMPLETE
    remaining = iter(states)

    def load_state(bn, n):
        state = next(remaining)
        for key in BN_TENSORS:
            value = tensor(state[key])
            current = getattr(bn, key)
            assert value is not None and value.shape == current.shape, \
                f"your function changed the shape of bn.{key}: change its values only"
            current.copy_(value)

    return ref.convert_model(model, load_state)


def _same_adjustment(state: dict, adjust_bn) -> bool:
    """Whether the probe BatchNorm as the student left it equals it as ``adjust_bn`` leaves it."""
    bn, n = hidden.probe_bn()
    with torch.no_grad():
        adjust_bn(bn, n)
    expected = torch.cat([getattr(bn, key) for key in BN_TENSORS])
    got = [tensor(state.get(key)) for key in BN_TENSORS]
    if any(g is None or g.shape != (bn.num_features,) for g in got):
        return False
    return bool(torch.allclose(torch.cat(got), expected, rtol=1e-4, atol=1e-6))


def _judge_case(record: dict, may_change: set, case_text: str, known_mistakes: dict,
                hint: str) -> None:
    """Outputs unchanged on the hidden networks, and only ``may_change`` changed.

    ``known_mistakes`` maps a wrong adjust function to the message given when the student's
    function behaves like it.
    """
    record = ran(record)
    networks = per_network(record["networks"])
    for name, _, got in networks:
        wrong = sorted(set(got["changed"]) - may_change)
        assert not wrong, (
            f"{case_text} changes only {' and '.join(sorted(may_change))}, but your function "
            f"also changed {', '.join(wrong)} (on {name}). Grade note: the cases are told apart "
            "by what they change, not by their letter.")
    failed = {}
    for name, model, got in networks:
        converted = _converted_with(model, got["batchnorms"])
        error = ref.relative_error(ref.eval_outputs(converted, hidden.hidden_inputs(
            hidden.CASE_SEED)), ref.original_outputs(hidden.CASE_SEED)[name])
        if not error <= CONVERT_TOLERANCE:
            failed[name] = error
    if not failed:
        return
    details = "; ".join(f"{name}: relative max difference {error:.1e}"
                        for name, error in failed.items())
    for mistake, message in known_mistakes.items():
        assert not _same_adjustment(record["probe"], mistake), f"{message} ({details})"
    pytest.fail(f"after the conversion the model's eval-mode outputs change ({details}; allowed "
                f"{CONVERT_TOLERANCE:.0e}). {hint}", pytrace=False)


@pytest.mark.cell("test_adjust_affine")
def test_case_a_exact(evidence):
    """Case A (gamma and beta) keeps eval-mode outputs, on hidden networks with various eps."""
    _judge_case(evidence("case_a_exact"), {"weight", "bias"}, "Case A (adjust_affine)",
                {ref.with_fixed_eps(ref.adjust_affine, ref.DEFAULT_EPS):
                     f"Case A {HARD_CODED_EPS}"},
                "Check your formulas for gamma and beta against your derivation: the new beta "
                "must cancel the shift of the running mean, which was computed for the "
                "unnormalised output, and the new gamma is multiplied by n_c.")


@pytest.mark.cell("test_adjust_running_stats")
def test_case_b_exact(evidence):
    """Case B (running mean and variance) keeps eval-mode outputs exactly, eps included."""
    _judge_case(evidence("case_b_exact"), {"running_mean", "running_var"},
                "Case B (adjust_running_stats)",
                {ref.adjust_running_stats_ignoring_eps:
                     "case B is exact only up to eps: BatchNorm divides by sqrt(running_var + "
                     "eps), and scaling running_var by 1/n_c^2 leaves eps unscaled. Choose the "
                     "new running_var so that running_var + eps is scaled as a whole (your "
                     "question 2); with eps=0.05 or 0.2 the difference is large",
                 ref.with_fixed_eps(ref.adjust_running_stats, ref.DEFAULT_EPS):
                     f"Case B {HARD_CODED_EPS}"},
                "Check your formulas for the running mean and variance against your derivation: "
                "eval-mode BatchNorm divides by sqrt(running_var + eps).")


# ---------------------------------------------------------------------------------------------
# The converter and the comparison
# ---------------------------------------------------------------------------------------------

@pytest.mark.cell("test_convert_model")
def test_converter_swaps_every_pair(evidence):
    """Every conv+BN pair becomes a NormalizedConv2d + compensated BN; outputs unchanged."""
    networks = per_network(ran(evidence("converter_swaps_every_pair"))["networks"])
    for name, model, got in networks:
        assert got["is_module"], "convert_model must return the converted model (an nn.Module)"
        pairs = conv_bn_pairs(model)
        assert [conv["name"] for conv in got["convs"]] == [c for c, _ in pairs], INCOMPLETE
        for conv in got["convs"]:
            assert conv["is_normalized_conv"], (
                f"in the converted copy of {name}, `{conv['name']}` is not a NormalizedConv2d: "
                "replace the conv of every pair that conv_bn_pairs lists, under the same name "
                "(set_submodule)")
            assert conv["holds_original_weight"], \
                "each NormalizedConv2d must hold its original conv's weights"
        assert got["normalized_convs"] == len(pairs), (
            f"{name} has {len(pairs)} conv+BatchNorm pairs but the converted copy holds "
            f"{got['normalized_convs']} NormalizedConv2d: convert the pairs and nothing else")
        settings = ref.original_batchnorm_settings()[name]
        assert len(got["batchnorm_settings"]) == len(settings), (
            "the converted model must keep every BatchNorm (adjusted), not remove or replace "
            "them")
        assert got["batchnorm_settings"] == settings, (
            "the converted BatchNorms must keep their own eps and momentum: adjust the existing "
            "layers instead of creating new nn.BatchNorm2d with default settings")
        y_ref = ref.original_outputs(hidden.CONVERT_SEED)[name]
        got_output = tensor(got["output"])
        error = (ref.relative_error(got_output, y_ref)
                 if got_output is not None and got_output.shape == y_ref.shape else math.inf)
        assert error <= CONVERT_TOLERANCE, (
            f"with an adjust_bn that compensates exactly, the model your converter returns "
            f"changes the eval-mode outputs of {name} (relative max difference {error:.1e}): "
            "pass each NormalizedConv2d's own norms() to adjust_bn, for the BatchNorm that "
            "follows that conv")


@pytest.mark.cell("test_convert_model_copies")
def test_converter_copies_the_model(evidence):
    """convert_model returns a new model and leaves the original one untouched."""
    networks = per_network(ran(evidence("converter_copies_the_model"))["networks"])
    for name, _, got in networks:
        changed = got["changed"]
        assert not changed, (
            f"convert_model changed the original model ({', '.join(changed[:4])} of {name}): "
            "work on a copy (copy.deepcopy) so the original stays usable for the comparison")
        assert got["is_module"], "convert_model must return the converted model (an nn.Module)"
        shared = got["shared"]
        assert not shared, (
            f"the converted model shares tensors with the original ({', '.join(shared[:3])}): "
            "training one would change the other. Copy the model with copy.deepcopy.")


@pytest.mark.cell("test_compare_outputs")
def test_comparison_in_eval_mode(evidence):
    """compare_outputs returns the three numbers, measured with both models in eval mode."""
    got = ran(evidence("comparison_in_eval_mode"))
    assert got["is_dict"] and set(COMPARE_KEYS) <= set(got["keys"]), \
        f"compare_outputs must return a dict with the keys {', '.join(COMPARE_KEYS)}"
    model_a, model_b = hidden.comparison_models()
    expected = ref.compare_outputs(model_a, model_b,
                                   hidden.hidden_inputs(hidden.COMPARE_SEED, num_images=16))
    for key in COMPARE_KEYS:
        value = got["values"].get(key)
        assert isinstance(value, float | int), f"{key} must be a number"
        assert abs(value - expected[key]) <= 1e-5 * max(1.0, abs(expected[key])), (
            f"{key} is not what the two hidden models give in eval mode. Put both models in "
            "eval mode (BatchNorm then uses its running statistics; in train mode it uses the "
            "batch's), compare the logits of the same images, and give top1_agreement as a "
            "fraction in [0, 1].")


# ---------------------------------------------------------------------------------------------
# The training run, from the handed-in file
# ---------------------------------------------------------------------------------------------

@pytest.mark.cell("test_training")
def test_converted_model_trains(submission):
    """The saved training run of the converted model has a finite training loss that falls
    well below chance."""
    epochs = handed_in_epochs(submission, TRAINING_RUN, "the converted model")
    losses = [epoch["train_loss"] for epoch in epochs]
    assert len(losses) >= 2, "train the converted model for at least 2 epochs"
    assert all(math.isfinite(loss) for loss in losses), (
        "the training loss became NaN or infinite: lower the learning rate (see the gradient "
        "of W / n_c: small weights get large gradients)")
    assert losses[-1] < losses[0], (
        "the training loss did not go down: check that the optimiser gets the converted "
        "model's parameters and that gradients reach the NormalizedConv2d weights")
    assert losses[-1] < LEARNS_BELOW * CHANCE_LOSS, (
        f"the training loss ended at {losses[-1]:.3f}, near chance (ln 4 = {CHANCE_LOSS:.3f} for "
        "4 rotations): this run does not learn. Train the case-B conversion "
        "(adjust_running_stats, which trains like the original); the case-A one (adjust_affine) "
        "does not, see Question 3")


# ---------------------------------------------------------------------------------------------
# Folding
# ---------------------------------------------------------------------------------------------

def _pair_output(conv, bn, X: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return bn.eval()(conv(X))


def _fold_diagnosis(got: dict, conv, bn, X: torch.Tensor, error: float) -> str:
    """Why a folded pair differs from ``bn(conv(X))``, in a student's words."""
    weight, moved_weight = tensor(got["weight"]), tensor(got["moved_weight"])
    if weight is not None and moved_weight is not None and weight.shape == moved_weight.shape \
            and torch.equal(weight, moved_weight):
        return ("your folded conv does not change when the BatchNorm's running variance "
                "changes: fold with bn.running_mean and bn.running_var, the statistics "
                "BatchNorm uses in eval mode (inference), not statistics of a batch.")
    for eps in (0.0, ref.DEFAULT_EPS):
        with_eps = copy.deepcopy(bn)
        with_eps.eps = eps
        if close(got["output"], _pair_output(conv, with_eps, X), FOLD_TOLERANCE):
            return (f"your fold matches a BatchNorm with eps={eps:g}, but this one has "
                    f"eps={bn.eps:g}: use bn.eps.")
    if conv.bias is not None:
        no_bias = copy.deepcopy(conv)
        no_bias.bias = None
        if close(got["output"], _pair_output(no_bias, bn, X), FOLD_TOLERANCE):
            return ("for a conv that has a bias, fold it in too: the conv's own bias passes "
                    "through the BatchNorm like the rest of its output.")
    return (f"the folded conv's output differs from bn(conv(X)) in eval mode (relative max "
            f"difference {error:.1e}, allowed {FOLD_TOLERANCE:.0e}): compare your weight and "
            "bias formulas with your derivation, and keep stride, padding, dilation and groups.")


@pytest.mark.cell("test_fold_conv_bn")
def test_folded_pair_matches(evidence):
    """fold_conv_bn returns a new nn.Conv2d equal to the pair in eval mode, inputs untouched."""
    pairs = hidden.hidden_pairs()
    facts = ran(evidence("folded_pair_matches"))["pairs"]
    assert len(facts) == len(pairs), INCOMPLETE
    for index, ((conv, bn), got) in enumerate(zip(pairs, facts, strict=True)):
        assert got["is_conv2d"], "fold_conv_bn must return an nn.Conv2d (with a bias)"
        assert got["inputs_unchanged"], \
            "fold_conv_bn changed the conv or the BatchNorm it was given: build a new conv"
        X = hidden.pair_images(conv, index)
        expected = _pair_output(conv, bn, X)
        output = tensor(got["output"])
        error = (ref.relative_error(output, expected)
                 if output is not None and output.shape == expected.shape else math.inf)
        if not error <= FOLD_TOLERANCE:
            pytest.fail(_fold_diagnosis(got, conv, bn, X, error), pytrace=False)


@pytest.mark.cell("test_fold_model")
def test_folded_model_matches(evidence):
    """fold_model leaves no BatchNorm, matches the original in eval mode, copies the model."""
    networks = per_network(ran(evidence("folded_model_matches"))["networks"])
    for name, _, got in networks:
        changed = got["changed"]
        assert not changed, (f"fold_model changed the original model ({', '.join(changed[:4])} "
                             f"of {name}): fold a copy (copy.deepcopy)")
        assert got["is_module"], "fold_model must return the folded model"
        left = got["batchnorms_left"]
        assert left == 0, (f"the folded copy of {name} still holds {left} BatchNorm layers: "
                           "replace each folded one by nn.Identity()")
        y_ref = ref.original_outputs(hidden.FOLD_MODEL_SEED)[name]
        if close(got["output"], y_ref, FOLD_TOLERANCE):
            continue
        output = tensor(got["output"])
        assert output is not None and output.shape == y_ref.shape, (
            f"the folded copy of {name} gives outputs of another shape than the original: "
            "fold every pair conv_bn_pairs lists and change nothing else")
        assert not close(got["moved_output"], output, FOLD_TOLERANCE), (
            f"the folded model of {name} does not change when a BatchNorm's running variance "
            "changes: fold with each BatchNorm's running_mean and running_var, the statistics "
            "it uses at inference (eval mode), not the mean and variance of a batch of images.")
        pytest.fail(f"the folded copy of {name} gives other eval-mode outputs than the original "
                    f"(relative max difference {ref.relative_error(output, y_ref):.1e}, allowed "
                    f"{FOLD_TOLERANCE:.0e}): fold every pair conv_bn_pairs lists with your "
                    "fold_conv_bn.", pytrace=False)

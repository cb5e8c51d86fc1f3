"""Hidden checks of a2_bn_folding, and the reference answers they compare with.

Reference answers (the notebook's tasks, solved):

- :class:`NormalizedConv2d`: divides each output channel of a convolution by
  ``n_c = sqrt(var(W[c]) + eps)`` in ``forward``, so gradients flow through the normalisation;
- :func:`adjust_affine` (case A: changes gamma and beta, exact) and
  :func:`adjust_running_stats` (case B: changes the running mean and variance, exact only
  when the BatchNorm's eps is compensated);
- :func:`convert_model`, :func:`compare_outputs`, :func:`fold_conv_bn`, :func:`fold_model`.

The checks grade each case by what it changes (gamma/beta or running statistics), never by a
letter. They run the student's code on hidden networks built from fixed seeds, so no weights
are needed: a resnet18 whose BatchNorms get calibrated running statistics, random gamma/beta and
a non-default eps and momentum, and a small network with large eps values, a strided, a grouped
and a dilated convolution. A check tests one function, using the reference for every other
part, so one mistake costs the points of one check.
"""

import contextlib
import copy
import functools
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from autograder.checks.core import CheckFailed, expect, hidden_check
from vislab.a2_bn_folding.pairs import calibrate_batchnorms, conv_bn_pairs, count_batchnorms
from vislab.seeds import seeded_generator
from vislab.training import History

#: largest output difference (relative to the largest output, at least 1) that counts as equal:
#: the conversions reorder float32 arithmetic through 20 layers
CONVERT_TOLERANCE = 1e-4
#: folding is one multiply-add per weight: equal up to float32 precision (correct folds, written
#: in several ways, differ from the original by at most 2.2e-6 on the hidden resnet18)
FOLD_TOLERANCE = 2e-5
#: the BatchNorm eps everyone hard-codes: torch's default
DEFAULT_EPS = 1e-5
COMPARE_KEYS = ("mean_abs_diff", "max_abs_diff", "top1_agreement")


# ---------------------------------------------------------------------------------------------
# Reference answers
# ---------------------------------------------------------------------------------------------

def weight_norms(weight: torch.Tensor, eps: float, unbiased: bool = True) -> torch.Tensor:
    """``n_c = sqrt(var(W[c]) + eps)`` of a conv weight (Tensor[C_out, C_in/groups, kH, kW]).

    Returns Tensor[C_out]. ``unbiased`` is ``torch.var``'s Bessel correction (its default).
    """
    return torch.sqrt(weight.var(dim=(1, 2, 3), unbiased=unbiased) + eps)


class NormalizedConv2d(nn.Module):
    """``conv`` with each output channel divided by ``n_c = sqrt(var(W[c]) + eps)``.

    Holds a copy of the original weight (and bias) as parameters; ``forward`` normalises them
    on every call, so the gradient of a loss reaches the original weight through ``n_c``.
    Output: Tensor[N, C_out, H', W'] equal to ``conv(X) / n_c`` per channel.
    """

    def __init__(self, conv: nn.Conv2d, eps: float = 1e-12):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().clone())
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())
        self.stride, self.padding = conv.stride, conv.padding
        self.dilation, self.groups = conv.dilation, conv.groups
        self.eps = eps

    def norms(self) -> torch.Tensor:
        """n_c (Tensor[C_out]), a function of the current weight."""
        return weight_norms(self.weight, self.eps)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        n = self.norms()
        weight = self.weight / n[:, None, None, None]
        bias = None if self.bias is None else self.bias / n
        return F.conv2d(X, weight, bias, self.stride, self.padding, self.dilation, self.groups)


@torch.no_grad()
def adjust_affine(bn: nn.BatchNorm2d, n: torch.Tensor) -> None:
    """Case A, exact: scale gamma by n_c and shift beta so that ``bn(n_c * z) == bn'(z)``.

    ``n`` (Tensor[C]) divides the BatchNorm's input. Changes ``bn.weight`` and ``bn.bias`` in
    place; the running statistics and eps stay as they are.
    """
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    bn.bias += scale * bn.running_mean * (n - 1)
    bn.weight *= n


@torch.no_grad()
def adjust_running_stats(bn: nn.BatchNorm2d, n: torch.Tensor) -> None:
    """Case B, exact: divide the running mean by n_c and give the running variance the value
    that makes ``running_var + eps`` equal ``(old running_var + eps) / n_c**2``.

    Dividing the variance by n_c**2 alone leaves eps undivided: exact only up to eps. The new
    "variance" is negative where ``n_c**2 > 1 + running_var / eps``; BatchNorm in eval mode only
    uses ``running_var + eps``, which stays positive.
    """
    bn.running_mean /= n
    bn.running_var.copy_((bn.running_var + bn.eps) / n**2 - bn.eps)


def convert_model(model: nn.Module, adjust_bn) -> nn.Module:
    """A copy of ``model`` with each conv+BN pair's conv normalised and its BN compensated.

    ``adjust_bn(bn, n)`` is :func:`adjust_affine` or :func:`adjust_running_stats`. ``model`` is
    left untouched.
    """
    converted = copy.deepcopy(model)
    for conv_name, bn_name in conv_bn_pairs(converted):
        normalized = NormalizedConv2d(converted.get_submodule(conv_name))
        with torch.no_grad():
            adjust_bn(converted.get_submodule(bn_name), normalized.norms())
        converted.set_submodule(conv_name, normalized)
    return converted


@torch.no_grad()
def compare_outputs(model_a: nn.Module, model_b: nn.Module, X: torch.Tensor) -> dict[str, float]:
    """Mean and max absolute logit difference and top-1 agreement, both models in eval mode."""
    y_hat_a, y_hat_b = model_a.eval()(X), model_b.eval()(X)
    difference = (y_hat_a - y_hat_b).abs()
    return {"mean_abs_diff": difference.mean().item(), "max_abs_diff": difference.max().item(),
            "top1_agreement": (y_hat_a.argmax(1) == y_hat_b.argmax(1)).float().mean().item()}


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A new conv (with bias) equal to ``bn(conv(X))`` with ``bn`` in eval mode."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                       conv.padding, conv.dilation, conv.groups, bias=True)
    folded.weight.copy_(conv.weight * scale[:, None, None, None])
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    folded.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    return folded


def fold_model(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every BatchNorm folded into its conv and replaced by Identity."""
    folded = copy.deepcopy(model)
    for conv_name, bn_name in conv_bn_pairs(folded):
        folded.set_submodule(conv_name, fold_conv_bn(folded.get_submodule(conv_name),
                                                     folded.get_submodule(bn_name)))
        folded.set_submodule(bn_name, nn.Identity())
    return folded


# ---------------------------------------------------------------------------------------------
# Hidden networks and inputs
# ---------------------------------------------------------------------------------------------

def hidden_inputs(seed: int, num_images: int = 8, size: int = 16, channels: int = 3,
                  ) -> torch.Tensor:
    """Tensor[num_images, channels, size, size] of standard normal values."""
    return torch.randn(num_images, channels, size, size,
                       generator=seeded_generator(seed))


def _randomize_affine(model: nn.Module, seed: int, eps: float | None, momentum: float | None):
    generator = seeded_generator(seed)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.weight.copy_(0.5 + torch.rand(bn.num_features, generator=generator))
            bn.bias.copy_(0.3 * torch.randn(bn.num_features, generator=generator))
            if eps is not None:
                bn.eps = eps
            if momentum is not None:
                bn.momentum = momentum
    return model.eval()


@functools.cache
def _hidden_resnet18() -> nn.Module:
    torch.manual_seed(11)
    model = torchvision.models.resnet18(num_classes=10)
    calibrate_batchnorms(model, hidden_inputs(12, num_images=16))
    return _randomize_affine(model, seed=13, eps=1e-3, momentum=0.3)


def hidden_resnet18() -> nn.Module:
    """A resnet18 (10 classes, random weights) in eval mode with calibrated running statistics,
    random gamma/beta, eps 1e-3 and momentum 0.3 (a fresh copy on every call)."""
    return copy.deepcopy(_hidden_resnet18())


def hidden_small_net(eps: float | None = None) -> nn.Module:
    """Three conv+BN pairs (strided, grouped, dilated) with large and different eps values.

    ``eps`` replaces every BatchNorm's eps (``None``: 0.05, 2e-3 and 0.2).
    """
    torch.manual_seed(23)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6, eps=0.05, momentum=0.3),
        nn.ReLU(),
        nn.Conv2d(6, 12, 3, stride=2, padding=1, groups=3, bias=False),
        nn.BatchNorm2d(12, eps=2e-3, momentum=0.9), nn.ReLU(),
        nn.Conv2d(12, 12, 3, padding=2, dilation=2, bias=False), nn.BatchNorm2d(12, eps=0.2),
        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, 5))
    calibrate_batchnorms(model, hidden_inputs(24, num_images=16))
    return _randomize_affine(model, seed=25, eps=eps, momentum=None)


def hidden_networks() -> dict[str, nn.Module]:
    """The networks every model-level check runs on, by a name shown to students."""
    return {"a resnet18 with eps=1e-3": hidden_resnet18(),
            "a small network with eps 0.05, 2e-3 and 0.2": hidden_small_net()}


def _relative_error(y_hat: torch.Tensor, y_ref: torch.Tensor) -> float:
    """max |y_hat - y_ref| / max(1, max |y_ref|)."""
    return ((y_hat - y_ref).abs().max() / y_ref.abs().max().clamp(min=1)).item()


@torch.no_grad()
def _eval_outputs(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    return model.eval()(X)


def _snapshot(model: nn.Module) -> dict:
    return {"state": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "types": {name: type(m) for name, m in model.named_modules()},
            "bn_settings": [(m.eps, m.momentum) for m in model.modules()
                            if isinstance(m, nn.BatchNorm2d)]}


def _changed(model: nn.Module, snapshot: dict) -> list[str]:
    """Names of the state entries and modules that differ from ``snapshot``."""
    now = _snapshot(model)
    changed = [name for name, m in now["types"].items() if snapshot["types"].get(name) is not m]
    for key, value in snapshot["state"].items():
        current = now["state"].get(key)
        if current is None or current.shape != value.shape or not torch.equal(current, value):
            changed.append(key)
    if now["bn_settings"] != snapshot["bn_settings"]:
        changed.append("a BatchNorm's eps or momentum")
    return changed


@contextlib.contextmanager
def _using_reference(fn, *names: str):
    """Run ``fn`` with the reference answers in place of the student's ``names`` it calls.

    A function defined in a notebook looks up other notebook names in its globals (the
    kernel's namespace): swapping them for the duration of a check grades ``fn`` alone, so a
    mistake in, say, ``fold_conv_bn`` does not also cost the points of ``fold_model``.
    """
    namespace = getattr(fn, "__globals__", {})
    saved = {name: namespace[name] for name in names if name in namespace}
    namespace.update({name: globals()[name] for name in saved})
    try:
        yield
    finally:
        namespace.update(saved)


# ---------------------------------------------------------------------------------------------
# Checks: the normalised convolution
# ---------------------------------------------------------------------------------------------

def _hidden_convs() -> list[tuple[nn.Conv2d, float]]:
    """(conv, eps): strided, grouped with bias, dilated, and one where eps dominates."""
    torch.manual_seed(31)
    return [(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), 1e-12),
            (nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=True), 1e-12),
            (nn.Conv2d(3, 5, 3, padding=2, dilation=2, bias=False), 1e-6),
            (nn.Conv2d(3, 4, 1, bias=False), 0.5)]


def _reference_normalized_output(conv: nn.Conv2d, eps: float, X: torch.Tensor, unbiased: bool,
                                 detach_norms: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Output of ``conv`` normalised, and a leaf copy of its weight (to read the gradient)."""
    weight = conv.weight.detach().clone().requires_grad_()
    n = weight_norms(weight, eps, unbiased)
    if detach_norms:
        n = n.detach()
    bias = None if conv.bias is None else conv.bias.detach() / n
    y = F.conv2d(X, weight / n[:, None, None, None], bias, conv.stride, conv.padding,
                 conv.dilation, conv.groups)
    return y, weight


def _close(a: torch.Tensor, b: torch.Tensor, tolerance: float) -> bool:
    return a.shape == b.shape and _relative_error(a, b) <= tolerance


@hidden_check
def normalized_conv_forward(normalized_conv_class) -> None:
    """``NormalizedConv2d(conv, eps)(X)`` is ``conv(X) / n_c``; it stores the original weight."""
    check = "normalized_conv_forward"
    for index, (conv, eps) in enumerate(_hidden_convs()):
        X = hidden_inputs(40 + index, num_images=2, size=9, channels=conv.in_channels)
        module = normalized_conv_class(copy.deepcopy(conv), eps=eps)
        weight = getattr(module, "weight", None)
        expect(isinstance(weight, nn.Parameter), check,
               "NormalizedConv2d must keep the convolution's weight as an nn.Parameter named "
               "`weight` (the original, unnormalised values), so that training updates it")
        expect(weight.shape == conv.weight.shape and torch.equal(weight.detach(), conv.weight),
               check, "`weight` must hold the original convolution's weights, unchanged: the "
               "module normalises them in forward, every time it runs")
        with torch.no_grad():
            y_hat = module(X)
        matches = [_close(y_hat, _reference_normalized_output(conv, eps, X, unbiased)[0].detach(),
                          CONVERT_TOLERANCE) for unbiased in (True, False)]
        if not any(matches):
            plain = _close(y_hat, _reference_normalized_output(conv, 0.0, X, True)[0].detach(),
                           CONVERT_TOLERANCE)
            hint = (" Your output ignores the eps passed to the constructor: use it inside n_c."
                    if eps > 0.1 and plain else "")
            stride_etc = (f"stride={conv.stride}, padding={conv.padding}, "
                          f"dilation={conv.dilation}, groups={conv.groups}, "
                          f"bias={conv.bias is not None}")
            raise CheckFailed(check, "the output is not the convolution's output divided by n_c "
                              f"= sqrt(var(W[c]) + eps) per output channel, for a conv with "
                              f"{stride_etc} and eps={eps}. Keep the conv's stride, padding, "
                              "dilation and groups, and divide its bias by n_c too." + hint)
        norms = module.norms() if hasattr(module, "norms") else None
        expect(isinstance(norms, torch.Tensor) and norms.shape == (conv.out_channels,), check,
               "NormalizedConv2d.norms() must return n_c as a tensor of shape (C_out,)")


@hidden_check
def normalized_conv_gradient(normalized_conv_class) -> None:
    """The gradient of a loss reaches ``weight`` through the normalisation, n_c included."""
    check = "normalized_conv_gradient"
    for index, (conv, eps) in enumerate(_hidden_convs()[:3]):
        X = hidden_inputs(50 + index, num_images=2, size=9, channels=conv.in_channels)
        upstream = torch.randn(2, conv.out_channels, *_output_size(conv, X),
                               generator=seeded_generator(index))
        module = normalized_conv_class(copy.deepcopy(conv), eps=eps)
        (module(X) * upstream).sum().backward()
        grad = module.weight.grad
        expect(grad is not None, check,
               "no gradient reached `weight` after backward(): compute the normalised weight "
               "from self.weight inside forward, without torch.no_grad() or .detach(), and keep "
               "`weight` an nn.Parameter")
        expected = []
        for unbiased in (True, False):
            y, weight = _reference_normalized_output(conv, eps, X, unbiased)
            (y * upstream).sum().backward()
            expected.append(weight.grad)
        if any(_close(grad, e, CONVERT_TOLERANCE) for e in expected):
            continue
        y, weight = _reference_normalized_output(conv, eps, X, True, detach_norms=True)
        (y * upstream).sum().backward()
        if _close(grad, weight.grad, CONVERT_TOLERANCE):
            raise CheckFailed(check, "the gradient treats n_c as a constant: n_c is computed from "
                              "W, so the gradient must flow through it too. Do not .detach() "
                              "n_c or compute it under torch.no_grad()")
        raise CheckFailed(check, "the gradient reaching `weight` is not the gradient of "
                          "conv(X, W / n_c(W)): normalise self.weight in forward with "
                          "differentiable torch operations")


def _output_size(conv: nn.Conv2d, X: torch.Tensor) -> tuple[int, int]:
    with torch.no_grad():
        return tuple(conv(X).shape[2:])


# ---------------------------------------------------------------------------------------------
# Checks: cases A and B, the converter, the comparison
# ---------------------------------------------------------------------------------------------

def _case_errors(adjust_bn, networks: dict[str, nn.Module]) -> dict[str, tuple[float, list]]:
    """Per network: the output error of the (reference) converted copy, and what the BNs changed."""
    results = {}
    for name, model in networks.items():
        X = hidden_inputs(60)
        y_ref = _eval_outputs(model, X)
        converted = convert_model(model, adjust_bn)
        error = _relative_error(_eval_outputs(converted, X), y_ref)
        changed = set()
        for _, bn_name in conv_bn_pairs(model):
            before, after = model.get_submodule(bn_name), converted.get_submodule(bn_name)
            for key in ("weight", "bias", "running_mean", "running_var"):
                if not torch.equal(getattr(before, key), getattr(after, key)):
                    changed.add(key)
            if (before.eps, before.momentum) != (after.eps, after.momentum):
                changed.add("eps or momentum")
        results[name] = (error, sorted(changed))
    return results


def _probe_bn() -> tuple[nn.BatchNorm2d, torch.Tensor]:
    """One BatchNorm with a large eps and random statistics, and norms n (Tensor[C]) for it."""
    generator = seeded_generator(57)
    bn = nn.BatchNorm2d(6, eps=0.1)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(6, generator=generator))
        # small variances: a hard-coded eps of 1e-5 and a forgotten eps differ visibly
        bn.running_var.copy_(1e-4 + 1e-3 * torch.rand(6, generator=generator))
        bn.weight.copy_(0.5 + torch.rand(6, generator=generator))
        bn.bias.copy_(torch.randn(6, generator=generator))
    return bn.eval(), 0.05 + 0.5 * torch.rand(6, generator=generator)


def _same_adjustment(adjust_a, adjust_b) -> bool:
    """Whether two adjust functions leave the probe BatchNorm in the same state."""
    states = []
    for adjust_bn in (adjust_a, adjust_b):
        bn, n = _probe_bn()
        with torch.no_grad():
            adjust_bn(bn, n)
        states.append(torch.cat([bn.weight, bn.bias, bn.running_mean, bn.running_var]))
    return bool(torch.allclose(states[0], states[1], rtol=1e-4, atol=1e-6))


def _with_fixed_eps(adjust_bn, eps: float):
    """``adjust_bn`` run as if the BatchNorm's eps were ``eps`` (a hard-coded eps)."""
    def adjust_with_fixed_eps(bn, n):
        true_eps, bn.eps = bn.eps, eps
        try:
            adjust_bn(bn, n)
        finally:
            bn.eps = true_eps
    return adjust_with_fixed_eps


def _grade_case(check: str, adjust_bn, may_change: set, case_text: str,
                known_mistakes: dict, hint: str) -> None:
    """Outputs unchanged on the hidden networks, and only ``may_change`` changed.

    ``known_mistakes`` maps a wrong adjust function to the message given when the student's
    function behaves like it.
    """
    results = _case_errors(adjust_bn, hidden_networks())
    for name, (_, changed) in results.items():
        wrong = sorted(set(changed) - may_change)
        expect(not wrong, check, f"{case_text} changes only {' and '.join(sorted(may_change))}, "
               f"but your function also changed {', '.join(wrong)} (on {name}). Grade note: the "
               "cases are told apart by what they change, not by their letter.")
    failed = {name: error for name, (error, _) in results.items() if error > CONVERT_TOLERANCE}
    if not failed:
        return
    details = "; ".join(f"{name}: relative max difference {error:.1e}"
                        for name, error in failed.items())
    for mistake, message in known_mistakes.items():
        if _same_adjustment(adjust_bn, mistake):
            raise CheckFailed(check, f"{message} ({details})")
    raise CheckFailed(check, f"after the conversion the model's eval-mode outputs change "
                      f"({details}; allowed {CONVERT_TOLERANCE:.0e}). {hint}")


HARD_CODED_EPS = ("is exact only when eps is torch's default 1e-5: use each BatchNorm's own "
                  "`bn.eps`, never a fixed number; the hidden networks have other eps values")


@hidden_check
def case_a_exact(adjust_affine_fn) -> None:
    """Case A (gamma and beta) keeps eval-mode outputs, on hidden networks with various eps."""
    _grade_case("case_a_exact", adjust_affine_fn, {"weight", "bias"}, "Case A (adjust_affine)",
                {_with_fixed_eps(adjust_affine, DEFAULT_EPS): f"Case A {HARD_CODED_EPS}"},
                "Check your formulas for gamma and beta against your derivation: the new beta "
                "must cancel the shift of the running mean, which was computed for the "
                "unnormalised output, and the new gamma is multiplied by n_c.")


@hidden_check
def case_b_exact(adjust_running_stats_fn) -> None:
    """Case B (running mean and variance) keeps eval-mode outputs exactly, eps included."""
    _grade_case("case_b_exact", adjust_running_stats_fn, {"running_mean", "running_var"},
                "Case B (adjust_running_stats)",
                {_adjust_running_stats_ignoring_eps:
                     "case B is exact only up to eps: BatchNorm divides by sqrt(running_var + "
                     "eps), and scaling running_var by 1/n_c^2 leaves eps unscaled. Choose the "
                     "new running_var so that running_var + eps is scaled as a whole (your "
                     "question 2); with eps=0.05 or 0.2 the difference is large",
                 _with_fixed_eps(adjust_running_stats, DEFAULT_EPS): f"Case B {HARD_CODED_EPS}"},
                "Check your formulas for the running mean and variance against your derivation: "
                "eval-mode BatchNorm divides by sqrt(running_var + eps).")


@torch.no_grad()
def _adjust_running_stats_ignoring_eps(bn: nn.BatchNorm2d, n: torch.Tensor) -> None:
    """The common mistake: case B exact only up to eps."""
    bn.running_mean /= n
    bn.running_var /= n**2


@hidden_check
def converter_swaps_every_pair(convert_model_fn) -> None:
    """Every conv+BN pair becomes a NormalizedConv2d + compensated BN; outputs unchanged."""
    check = "converter_swaps_every_pair"
    for name, model in hidden_networks().items():
        pairs = conv_bn_pairs(model)
        X = hidden_inputs(70)
        y_ref = _eval_outputs(model, X)
        bn_settings = [(m.eps, m.momentum) for m in model.modules()
                       if isinstance(m, nn.BatchNorm2d)]
        for adjust_bn in (adjust_affine, adjust_running_stats):
            with _using_reference(convert_model_fn, "NormalizedConv2d"):
                converted = convert_model_fn(copy.deepcopy(model), adjust_bn)
            expect(isinstance(converted, nn.Module), check,
                   "convert_model must return the converted model (an nn.Module)")
            modules = dict(converted.named_modules())
            for conv_name, _ in pairs:
                module = modules.get(conv_name)
                expect(isinstance(module, NormalizedConv2d), check,
                       f"in the converted copy of {name}, `{conv_name}` is not a "
                       "NormalizedConv2d: replace the conv of every pair that conv_bn_pairs "
                       "lists, under the same name (set_submodule)")
                expect(torch.equal(module.weight.detach(), model.get_submodule(conv_name).weight),
                       check, "each NormalizedConv2d must hold its original conv's weights")
            normalized = sum(isinstance(m, NormalizedConv2d) for m in converted.modules())
            expect(normalized == len(pairs), check,
                   f"{name} has {len(pairs)} conv+BatchNorm pairs but the converted copy holds "
                   f"{normalized} NormalizedConv2d: convert the pairs and nothing else")
            settings = [(m.eps, m.momentum) for m in converted.modules()
                        if isinstance(m, nn.BatchNorm2d)]
            expect(len(settings) == len(bn_settings), check,
                   "the converted model must keep every BatchNorm (adjusted), not remove or "
                   "replace them")
            expect(settings == bn_settings, check,
                   "the converted BatchNorms must keep their own eps and momentum: adjust the "
                   "existing layers instead of creating new nn.BatchNorm2d with default settings")
            error = _relative_error(_eval_outputs(converted, X), y_ref)
            expect(error <= CONVERT_TOLERANCE, check,
                   f"with the reference {adjust_bn.__name__}, the model your converter returns "
                   f"changes the eval-mode outputs of {name} (relative max difference "
                   f"{error:.1e}): pass each NormalizedConv2d's own norms() to adjust_bn, for "
                   "the BatchNorm that follows that conv")


@hidden_check
def converter_copies_the_model(convert_model_fn) -> None:
    """convert_model returns a new model and leaves the original one untouched."""
    check = "converter_copies_the_model"
    for name, model in hidden_networks().items():
        before = _snapshot(model)
        with _using_reference(convert_model_fn, "NormalizedConv2d"):
            converted = convert_model_fn(model, adjust_running_stats)
        changed = _changed(model, before)
        expect(not changed, check,
               f"convert_model changed the original model ({', '.join(changed[:4])} of {name}): "
               "work on a copy (copy.deepcopy) so the original stays usable for the comparison")
        originals = {t.data_ptr() for t in [*model.parameters(), *model.buffers()]}
        shared = [n for n, t in [*converted.named_parameters(), *converted.named_buffers()]
                  if t.data_ptr() in originals]
        expect(not shared, check,
               f"the converted model shares tensors with the original ({', '.join(shared[:3])}): "
               "training one would change the other. Copy the model with copy.deepcopy.")


@hidden_check
def comparison_in_eval_mode(compare_outputs_fn) -> None:
    """compare_outputs returns the three numbers, measured with both models in eval mode."""
    check = "comparison_in_eval_mode"
    model_a = hidden_small_net()
    model_b = convert_model(model_a, adjust_affine)
    with torch.no_grad():
        model_b[-1].weight.add_(0.3 * torch.randn(model_b[-1].weight.shape,
                                                  generator=seeded_generator(3)))
    X = hidden_inputs(80, num_images=16)
    expected = compare_outputs(copy.deepcopy(model_a), copy.deepcopy(model_b), X)
    result = compare_outputs_fn(model_a.train(), model_b.train(), X)
    expect(isinstance(result, dict) and set(COMPARE_KEYS) <= set(result), check,
           f"compare_outputs must return a dict with the keys {', '.join(COMPARE_KEYS)}")
    for key in COMPARE_KEYS:
        value = result[key]
        if isinstance(value, torch.Tensor):
            value = value.item()
        expect(isinstance(value, float | int), check, f"{key} must be a number")
        if abs(value - expected[key]) > 1e-5 * max(1.0, abs(expected[key])):
            raise CheckFailed(check, f"{key} is not what the two hidden models give in eval mode. "
                              "Put both models in eval mode (BatchNorm then uses its running "
                              "statistics; in train mode it uses the batch's), compare the "
                              "logits of the same images, and give top1_agreement as a fraction "
                              "in [0, 1].")


@hidden_check
def converted_model_trains(history) -> None:
    """The saved training run of the converted model has a falling, finite training loss."""
    check = "converted_model_trains"
    expect(hasattr(history, "series") and hasattr(history, "epochs"), check,
           "pass the History that vislab.training.fit returned for the converted model")
    losses = history.series("train_loss")
    expect(len(losses) >= 2, check, "train the converted model for at least 2 epochs")
    expect(all(loss == loss and abs(loss) != float("inf") for loss in losses), check,
           "the training loss became NaN or infinite: lower the learning rate (see the gradient "
           "of W / n_c: small weights get large gradients)")
    expect(losses[-1] < losses[0], check,
           "the training loss did not go down: check that the optimiser gets the converted "
           "model's parameters and that gradients reach the NormalizedConv2d weights")


# ---------------------------------------------------------------------------------------------
# Checks: folding
# ---------------------------------------------------------------------------------------------

def _hidden_pairs() -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """(conv, bn) with random eval-mode statistics: plain, with a bias and stride, grouped."""
    torch.manual_seed(90)
    pairs = [(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8, eps=0.05)),
             (nn.Conv2d(3, 6, 3, stride=2, bias=True), nn.BatchNorm2d(6, eps=2e-3)),
             (nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2, bias=False),
              nn.BatchNorm2d(6))]
    generator = seeded_generator(91)
    with torch.no_grad():
        for _, bn in pairs:
            size = bn.num_features
            bn.running_mean.copy_(torch.randn(size, generator=generator))
            bn.running_var.copy_(0.02 + 2 * torch.rand(size, generator=generator))
            bn.weight.copy_(0.5 + torch.rand(size, generator=generator))
            bn.bias.copy_(0.5 * torch.randn(size, generator=generator))
            bn.eval()
    return pairs


def _pair_output(conv: nn.Module, bn: nn.Module | None, X: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        y = conv(X)
        return y if bn is None else bn.eval()(y)


@hidden_check
def folded_pair_matches(fold_conv_bn_fn) -> None:
    """fold_conv_bn returns a new nn.Conv2d equal to the pair in eval mode, inputs untouched."""
    check = "folded_pair_matches"
    for index, (conv, bn) in enumerate(_hidden_pairs()):
        X = hidden_inputs(100 + index, num_images=2, size=10, channels=conv.in_channels)
        conv_before, bn_before = copy.deepcopy(conv), copy.deepcopy(bn)
        folded = fold_conv_bn_fn(conv, bn)
        expect(isinstance(folded, nn.Conv2d), check,
               "fold_conv_bn must return an nn.Conv2d (with a bias)")
        expect(_same_module(conv, conv_before) and _same_module(bn, bn_before), check,
               "fold_conv_bn changed the conv or the BatchNorm it was given: build a new conv")
        error = _relative_error(_pair_output(folded, None, X), _pair_output(conv, bn, X))
        if error <= FOLD_TOLERANCE:
            continue
        raise CheckFailed(check, _fold_diagnosis(fold_conv_bn_fn, conv, bn, X, error))


def _same_module(a: nn.Module, b: nn.Module) -> bool:
    state_a, state_b = a.state_dict(), b.state_dict()
    return state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k])
                                                    for k in state_a)


def _fold_diagnosis(fold_conv_bn_fn, conv, bn, X, error) -> str:
    """Why a folded pair differs from ``bn(conv(X))``, in a student's words."""
    moved = copy.deepcopy(bn)
    with torch.no_grad():
        moved.running_mean.add_(1.0)
        moved.running_var.mul_(3.0)
    if torch.equal(fold_conv_bn_fn(conv, moved).weight, fold_conv_bn_fn(conv, bn).weight):
        return ("your folded conv does not change when the BatchNorm's running variance "
                "changes: fold with bn.running_mean and bn.running_var, the statistics "
                "BatchNorm uses in eval mode (inference), not statistics of a batch.")
    for eps in (0.0, DEFAULT_EPS):
        with_eps = copy.deepcopy(bn)
        with_eps.eps = eps
        if _relative_error(_pair_output(fold_conv_bn_fn(conv, bn), None, X),
                           _pair_output(conv, with_eps, X)) <= FOLD_TOLERANCE:
            return (f"your fold matches a BatchNorm with eps={eps:g}, but this one has "
                    f"eps={bn.eps:g}: use bn.eps.")
    if conv.bias is not None:
        no_bias = copy.deepcopy(conv)
        no_bias.bias = None
        if _relative_error(_pair_output(fold_conv_bn_fn(conv, bn), None, X),
                           _pair_output(no_bias, bn, X)) <= FOLD_TOLERANCE:
            return ("for a conv that has a bias, fold it in too: the conv's own bias passes "
                    "through the BatchNorm like the rest of its output.")
    return (f"the folded conv's output differs from bn(conv(X)) in eval mode (relative max "
            f"difference {error:.1e}, allowed {FOLD_TOLERANCE:.0e}): compare your weight and "
            "bias formulas with your derivation, and keep stride, padding, dilation and groups.")


@hidden_check
def folded_model_matches(fold_model_fn) -> None:
    """fold_model leaves no BatchNorm, matches the original in eval mode, copies the model."""
    check = "folded_model_matches"
    for name, model in hidden_networks().items():
        X = hidden_inputs(110)
        y_ref = _eval_outputs(model, X)
        before = _snapshot(model)
        with _using_reference(fold_model_fn, "fold_conv_bn"):
            folded = fold_model_fn(model)
        changed = _changed(model, before)
        expect(not changed, check, f"fold_model changed the original model "
               f"({', '.join(changed[:4])} of {name}): fold a copy (copy.deepcopy)")
        expect(isinstance(folded, nn.Module), check, "fold_model must return the folded model")
        left = count_batchnorms(folded)
        expect(left == 0, check, f"the folded copy of {name} still holds {left} BatchNorm "
               "layers: replace each folded one by nn.Identity()")
        error = _relative_error(_eval_outputs(folded, X), y_ref)
        if error <= FOLD_TOLERANCE:
            continue
        moved = copy.deepcopy(model)  # the last BatchNorm's input does not depend on its stats
        with torch.no_grad():
            moved.get_submodule(conv_bn_pairs(moved)[-1][1]).running_var.mul_(3.0)
        with _using_reference(fold_model_fn, "fold_conv_bn"):
            folded_moved = fold_model_fn(moved)
        if _relative_error(_eval_outputs(folded_moved, X),
                           _eval_outputs(folded, X)) <= FOLD_TOLERANCE:
            raise CheckFailed(check, f"the folded model of {name} does not change when a "
                              "BatchNorm's running variance changes: fold with each BatchNorm's "
                              "running_mean and running_var, the statistics it uses at inference "
                              "(eval mode), not the mean and variance of a batch of images.")
        raise CheckFailed(check, f"the folded copy of {name} gives other eval-mode outputs than "
                          f"the original (relative max difference {error:.1e}, allowed "
                          f"{FOLD_TOLERANCE:.0e}): fold every pair conv_bn_pairs lists with "
                          "your fold_conv_bn.")


# ---------------------------------------------------------------------------------------------
# Scored again outside the student's kernel, from the handed-in files
# ---------------------------------------------------------------------------------------------

TRAINING_RUN = Path("runs") / "converted_b.json"
TRAINING_POINTS = 1.0


def training_run_points(folder: Path) -> float:
    """Points of ``test_training`` from the handed-in ``runs/converted_b.json``."""
    path = Path(folder) / TRAINING_RUN
    if not path.exists():
        return 0.0
    try:
        converted_model_trains(History.load(path))
    except CheckFailed:
        return 0.0
    return TRAINING_POINTS


OUTSIDE_KERNEL = {"test_training": training_run_points}

"""The reference answers of a2_bn_folding, and the mistakes the judges recognise (grading side).

Reference answers (the notebook's tasks, solved):

- :class:`NormalizedConv2d`: divides each output channel of a convolution by
  ``n_c = sqrt(var(W[c]) + eps)`` in ``forward``, so gradients flow through the normalisation;
- :func:`adjust_affine` (case A: changes gamma and beta, exact) and
  :func:`adjust_running_stats` (case B: changes the running mean and variance, exact only
  when the BatchNorm's eps is compensated);
- :func:`convert_model`, :func:`compare_outputs`, :func:`fold_conv_bn`, :func:`fold_model`.

Known mistakes: :func:`adjust_running_stats_ignoring_eps` and :func:`with_fixed_eps` (a
hard-coded eps). The expensive references on the hidden networks are cached.
"""

import copy
import functools

import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks.a2_bn_folding.evidence import hidden_inputs, hidden_networks
from vislab.a2_bn_folding.pairs import conv_bn_pairs

#: the BatchNorm eps everyone hard-codes: torch's default
DEFAULT_EPS = 1e-5


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


def normalized_output(conv: nn.Conv2d, eps: float, X: torch.Tensor, unbiased: bool = True,
                      detach_norms: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Output of ``conv`` normalised, and the leaf copy of its weight it was computed from (to
    read the gradient). ``detach_norms``: n_c taken as a constant (the known mistake)."""
    weight = conv.weight.detach().clone().requires_grad_()
    n = weight_norms(weight, eps, unbiased)
    if detach_norms:
        n = n.detach()
    bias = None if conv.bias is None else conv.bias.detach() / n
    y = F.conv2d(X, weight / n[:, None, None, None], bias, conv.stride, conv.padding,
                 conv.dilation, conv.groups)
    return y, weight


def normalized_weight_grad(conv: nn.Conv2d, eps: float, X: torch.Tensor, upstream: torch.Tensor,
                           unbiased: bool = True, detach_norms: bool = False) -> torch.Tensor:
    """dL/dW of ``L = sum(normalised conv(X) * upstream)``."""
    y, weight = normalized_output(conv, eps, X, unbiased, detach_norms)
    (y * upstream).sum().backward()
    return weight.grad


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


@torch.no_grad()
def adjust_running_stats_ignoring_eps(bn: nn.BatchNorm2d, n: torch.Tensor) -> None:
    """The common mistake: case B exact only up to eps."""
    bn.running_mean /= n
    bn.running_var /= n**2


def with_fixed_eps(adjust_bn, eps: float):
    """``adjust_bn`` run as if the BatchNorm's eps were ``eps`` (a hard-coded eps)."""
    def adjust_with_fixed_eps(bn, n):
        true_eps, bn.eps = bn.eps, eps
        try:
            adjust_bn(bn, n)
        finally:
            bn.eps = true_eps
    return adjust_with_fixed_eps


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


def relative_error(y_hat: torch.Tensor, y_ref: torch.Tensor) -> float:
    """max |y_hat - y_ref| / max(1, max |y_ref|)."""
    return ((y_hat - y_ref).abs().max() / y_ref.abs().max().clamp(min=1)).item()


def eval_outputs(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(X)


@functools.cache
def original_outputs(seed: int) -> dict[str, torch.Tensor]:
    """Eval-mode outputs of every hidden network on ``hidden_inputs(seed)``, by network name."""
    X = hidden_inputs(seed)
    return {name: eval_outputs(model, X) for name, model in hidden_networks().items()}


@functools.cache
def original_batchnorm_settings() -> dict[str, list[list]]:
    """``[eps, momentum]`` of every BatchNorm of each hidden network, by network name."""
    return {name: [[m.eps, m.momentum] for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
            for name, model in hidden_networks().items()}

"""Evidence of a2_bn_folding, collected in the student's kernel by the hidden test cells.

Each function runs the student's answer on hidden inputs and records what came out
(:func:`autograder.evidence.record`): outputs, gradients, the state a BatchNorm was left in,
which parts of a model changed. It decides nothing and holds no answer: the judges
(``autograder/checks/a2_bn_folding/judges.py``) rebuild the same hidden inputs from the seeds
below and compare the records with references computed outside the sandbox.

The hidden inputs need no weights: a resnet18 whose BatchNorms get calibrated running
statistics, random gamma/beta, eps 1e-3 and momentum 0.3, a small network with large eps values
and a strided, a grouped and a dilated convolution, single convolutions and conv+BN pairs. They
are built on one CPU thread, so the kernel (whatever its thread cap) and the judges get the
same bits.

One mistake costs one check. Where the student's function calls another notebook function, the
call runs with a stand-in under that name (:func:`standing_in`). A stand-in does what the
notebook asks of that function without being its answer:

- :class:`StandInNormalizedConv2d` divides each output channel by a number that depends on the
  weights (not n_c);
- :func:`compensate_exactly` undoes the division in the BatchNorm with a forward pre-hook (not
  by changing gamma/beta or the running statistics); :func:`change_every_tensor` only marks
  the BatchNorm it gets;
- :class:`UnfoldedPair` applies the BatchNorm's eval-mode normalisation after the convolution
  (nothing is folded).
"""

import contextlib
import copy
import functools

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from autograder.evidence import describe_error, outcome, record
from vislab.a2_bn_folding.pairs import calibrate_batchnorms, conv_bn_pairs, count_batchnorms
from vislab.seeds import seeded_generator

#: seeds of the hidden images each check runs on
FORWARD_SEED = 40
GRADIENT_SEED = 50
CASE_SEED = 60
CONVERT_SEED = 70
COMPARE_SEED = 80
FOLD_PAIR_SEED = 100
FOLD_MODEL_SEED = 110
#: the eps of a NormalizedConv2d made without one (the notebook's default)
NORMALIZED_CONV_EPS = 1e-12
#: what a BatchNorm holds, and what compare_outputs returns
BN_TENSORS = ("weight", "bias", "running_mean", "running_var")
COMPARE_KEYS = ("mean_abs_diff", "max_abs_diff", "top1_agreement")


# ---------------------------------------------------------------------------------------------
# Hidden inputs (the judges build the same ones)
# ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _seeded(seed: int):
    """Torch's global generator seeded with ``seed`` and one CPU thread, for the block only:
    the kernel's own generator state and thread count come back afterwards."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def hidden_inputs(seed: int, num_images: int = 8, size: int = 16, channels: int = 3,
                  ) -> torch.Tensor:
    """Tensor[num_images, channels, size, size] of standard normal values."""
    return torch.randn(num_images, channels, size, size, generator=seeded_generator(seed))


def _randomize_affine(model: nn.Module, seed: int, eps: float | None,
                      momentum: float | None) -> nn.Module:
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
    with _seeded(11):
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
    with _seeded(23):
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


def hidden_convs() -> list[tuple[nn.Conv2d, float]]:
    """(conv, eps): strided, grouped with bias, dilated, and one where eps dominates."""
    with _seeded(31):
        return [(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), 1e-12),
                (nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=True), 1e-12),
                (nn.Conv2d(3, 5, 3, padding=2, dilation=2, bias=False), 1e-6),
                (nn.Conv2d(3, 4, 1, bias=False), 0.5)]


def conv_images(conv: nn.Conv2d, seed: int) -> torch.Tensor:
    """Two 9x9 images with the conv's input channels."""
    return hidden_inputs(seed, num_images=2, size=9, channels=conv.in_channels)


def gradient_upstream(conv: nn.Conv2d, X: torch.Tensor, seed: int) -> torch.Tensor:
    """The upstream gradient dL/dy (Tensor shaped like ``conv(X)``) of the gradient check."""
    with torch.no_grad():
        shape = conv(X).shape
    return torch.randn(shape, generator=seeded_generator(seed))


def hidden_pairs() -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """(conv, bn) with random eval-mode statistics: plain, with a bias and stride, grouped."""
    with _seeded(90):
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


def pair_images(conv: nn.Conv2d, index: int) -> torch.Tensor:
    """Two 10x10 images for hidden pair ``index``."""
    return hidden_inputs(FOLD_PAIR_SEED + index, num_images=2, size=10,
                         channels=conv.in_channels)


def probe_bn() -> tuple[nn.BatchNorm2d, torch.Tensor]:
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


def conv_norms(weight: torch.Tensor) -> torch.Tensor:
    """The n a converter hands to ``adjust_bn`` for a conv weight (Tensor[C_out, ...]):
    ``sqrt(var(W[c]) + 1e-12)``, as the notebook defines n_c. Returns Tensor[C_out]."""
    with torch.no_grad():
        return torch.sqrt(weight.var(dim=(1, 2, 3)) + NORMALIZED_CONV_EPS)


def comparison_models() -> tuple[nn.Module, nn.Module]:
    """The small network and a changed copy (last layer's weight moved, every running variance
    doubled), both in eval mode: they differ in eval mode otherwise than in train mode."""
    model_a = hidden_small_net()
    model_b = copy.deepcopy(model_a)
    with torch.no_grad():
        model_b[-1].weight.add_(0.3 * torch.randn(model_b[-1].weight.shape,
                                                  generator=seeded_generator(3)))
        for bn in (m for m in model_b.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_var.mul_(2.0)
    return model_a, model_b


def with_moved_statistics(bn: nn.BatchNorm2d) -> nn.BatchNorm2d:
    """A copy of ``bn`` with the running mean shifted by 1 and the running variance tripled."""
    moved = copy.deepcopy(bn)
    with torch.no_grad():
        moved.running_mean.add_(1.0)
        moved.running_var.mul_(3.0)
    return moved


def with_last_variance_moved(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose last paired BatchNorm has its running variance tripled (that
    BatchNorm's input, and so the statistics of any batch reaching it, stay the same)."""
    moved = copy.deepcopy(model)
    with torch.no_grad():
        moved.get_submodule(conv_bn_pairs(moved)[-1][1]).running_var.mul_(3.0)
    return moved


# ---------------------------------------------------------------------------------------------
# Stand-ins for the other notebook functions a checked function calls
# ---------------------------------------------------------------------------------------------

class StandInNormalizedConv2d(nn.Module):
    """Stands in for ``NormalizedConv2d`` while ``convert_model`` is checked: keeps a copy of the
    conv's weight and bias, and divides each output channel by ``norms()``, one positive number
    per channel that depends on the weight."""

    def __init__(self, conv: nn.Conv2d, eps: float = NORMALIZED_CONV_EPS):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().clone())
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())
        self.stride, self.padding = conv.stride, conv.padding
        self.dilation, self.groups = conv.dilation, conv.groups
        self.eps = eps

    def norms(self) -> torch.Tensor:
        return 0.5 + self.weight.abs().mean(dim=(1, 2, 3))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(X, self.weight, self.bias, self.stride, self.padding, self.dilation,
                     self.groups)
        return y / self.norms()[None, :, None, None]


def compensate_exactly(bn: nn.BatchNorm2d, n: torch.Tensor) -> None:
    """Stands in for ``adjust_bn``: ``bn`` multiplies its input by ``n`` (Tensor[C]) before
    normalising, so a network keeps its outputs when ``n`` is what its conv divided by."""
    n = n.detach().clone()
    bn.register_forward_pre_hook(lambda module, inputs: (inputs[0] * n[None, :, None, None],))


def change_every_tensor(bn: nn.BatchNorm2d, n: torch.Tensor) -> None:
    """Stands in for ``adjust_bn`` where only what changes matters: changes gamma, beta and the
    running statistics of ``bn`` in place."""
    with torch.no_grad():
        for key in BN_TENSORS:
            getattr(bn, key).add_(1.0)


class UnfoldedPair(nn.Conv2d):
    """Stands in for ``fold_conv_bn``: a copy of the conv that applies the BatchNorm's eval-mode
    normalisation after itself, so it equals ``bn(conv(X))`` without folding anything."""

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d):
        super().__init__(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                         conv.padding, conv.dilation, conv.groups, bias=conv.bias is not None,
                         padding_mode=conv.padding_mode)
        with torch.no_grad():
            self.weight.copy_(conv.weight)
            if conv.bias is not None:
                self.bias.copy_(conv.bias)
        for key in BN_TENSORS:
            value = getattr(bn, key)
            self.register_buffer(f"bn_{key}", None if value is None else value.detach().clone())
        self.bn_eps = bn.eps

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(super().forward(X), self.bn_running_mean, self.bn_running_var,
                            self.bn_weight, self.bn_bias, training=False, momentum=0.0,
                            eps=self.bn_eps)


@contextlib.contextmanager
def standing_in(function, **stand_ins):
    """While the block runs, ``function`` (defined in the notebook) finds ``stand_ins`` under
    their names: a notebook function looks other notebook names up in its globals, the
    kernel's namespace. Everything is put back afterwards."""
    namespace = getattr(function, "__globals__", None)
    if namespace is None:
        yield
        return
    missing = object()
    saved = {name: namespace.get(name, missing) for name in stand_ins}
    namespace.update(stand_ins)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


# ---------------------------------------------------------------------------------------------
# Facts about modules
# ---------------------------------------------------------------------------------------------

def _eval_outputs(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(X)


def _snapshot(model: nn.Module) -> dict:
    return {"state": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "types": {name: type(m) for name, m in model.named_modules()},
            "bn_settings": [(m.eps, m.momentum) for m in model.modules()
                            if isinstance(m, nn.BatchNorm2d)]}


def _changed(model: nn.Module, snapshot: dict) -> list[str]:
    """Names of the state entries and modules of ``model`` that differ from ``snapshot``."""
    now = _snapshot(model)
    changed = [name for name, m in now["types"].items() if snapshot["types"].get(name) is not m]
    for key, value in snapshot["state"].items():
        current = now["state"].get(key)
        if current is None or current.shape != value.shape or not torch.equal(current, value):
            changed.append(key)
    if now["bn_settings"] != snapshot["bn_settings"]:
        changed.append("a BatchNorm's eps or momentum")
    return changed


def _bn_state(bn: nn.Module) -> dict:
    state = {key: _detached(getattr(bn, key, None)) for key in BN_TENSORS}
    return {**state, "eps": getattr(bn, "eps", None), "momentum": getattr(bn, "momentum", None)}


def _detached(value):
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def _bn_changes(before: dict, after: dict) -> set[str]:
    """Which of gamma, beta, the running statistics and eps/momentum differ."""
    changed = set()
    for key in BN_TENSORS:
        a, b = before[key], after[key]
        if not (isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)):
            changed.add(key)
    if (before["eps"], before["momentum"]) != (after["eps"], after["momentum"]):
        changed.add("eps or momentum")
    return changed


def _same_module(a: nn.Module, b: nn.Module) -> bool:
    state_a, state_b = a.state_dict(), b.state_dict()
    return state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k])
                                                    for k in state_a)


def _collect(name: str, collect) -> None:
    """Record what ``collect()`` returns, or the error the student's code raised in it."""
    try:
        values = collect()
    except Exception as error:  # noqa: BLE001 (student code may raise anything)
        record(name, error=describe_error(error))
        return
    record(name, **values)


def _no_grad_call(module, X):
    with torch.no_grad():
        return module(X)


# ---------------------------------------------------------------------------------------------
# Evidence: the normalised convolution
# ---------------------------------------------------------------------------------------------

def normalized_conv_forward(normalized_conv_class) -> None:
    """Per hidden conv: what ``NormalizedConv2d(conv, eps=eps)`` stores as ``weight``, its
    output on hidden images and the shape of its ``norms()``."""
    def collect():
        convs = []
        for index, (conv, eps) in enumerate(hidden_convs()):
            module = normalized_conv_class(copy.deepcopy(conv), eps=eps)
            weight = getattr(module, "weight", None)
            norms = outcome(module.norms) if hasattr(module, "norms") else {"value": None}
            norms = norms.get("value")
            convs.append({
                "weight_is_parameter": isinstance(weight, nn.Parameter),
                "weight": weight.detach() if isinstance(weight, torch.Tensor) else None,
                "output": outcome(_no_grad_call, module, conv_images(conv, FORWARD_SEED + index)),
                "norms_shape": list(norms.shape) if isinstance(norms, torch.Tensor) else None})
        return {"convs": convs}

    _collect("normalized_conv_forward", collect)


def normalized_conv_gradient(normalized_conv_class) -> None:
    """Per hidden conv: the gradient that reaches ``weight`` from a hidden upstream gradient."""
    def collect():
        grads = []
        for index, (conv, eps) in enumerate(hidden_convs()[:3]):
            X = conv_images(conv, GRADIENT_SEED + index)
            module = normalized_conv_class(copy.deepcopy(conv), eps=eps)
            (module(X) * gradient_upstream(conv, X, index)).sum().backward()
            grads.append(getattr(getattr(module, "weight", None), "grad", None))
        return {"grads": grads}

    _collect("normalized_conv_gradient", collect)


# ---------------------------------------------------------------------------------------------
# Evidence: cases A and B, the converter, the comparison
# ---------------------------------------------------------------------------------------------

def _adjusted_batchnorms(adjust_bn) -> dict:
    """What ``adjust_bn(bn, n)`` leaves in every paired BatchNorm of the hidden networks (``n``
    the norms of the conv before it) and in the probe BatchNorm, and what it changed."""
    networks = []
    for name, model in hidden_networks().items():
        states, changed = [], set()
        for conv_name, bn_name in conv_bn_pairs(model):
            bn = model.get_submodule(bn_name)
            before = _bn_state(bn)
            with torch.no_grad():
                adjust_bn(bn, conv_norms(model.get_submodule(conv_name).weight))
            states.append(_bn_state(bn))
            changed |= _bn_changes(before, states[-1])
        networks.append({"name": name, "batchnorms": states, "changed": sorted(changed)})
    bn, n = probe_bn()
    with torch.no_grad():
        adjust_bn(bn, n)
    return {"networks": networks, "probe": _bn_state(bn)}


def case_a_exact(adjust_affine) -> None:
    """The BatchNorms ``adjust_affine`` leaves (case A: gamma and beta)."""
    _collect("case_a_exact", lambda: _adjusted_batchnorms(adjust_affine))


def case_b_exact(adjust_running_stats) -> None:
    """The BatchNorms ``adjust_running_stats`` leaves (case B: running mean and variance)."""
    _collect("case_b_exact", lambda: _adjusted_batchnorms(adjust_running_stats))


def converter_swaps_every_pair(convert_model) -> None:
    """Per hidden network: what ``convert_model`` put at each paired conv's name, how many
    normalised convs and which BatchNorm settings the converted copy holds, and its eval-mode
    outputs (with the stand-ins of ``NormalizedConv2d`` and ``adjust_bn``)."""
    def collect():
        networks = []
        for name, model in hidden_networks().items():
            with standing_in(convert_model, NormalizedConv2d=StandInNormalizedConv2d):
                converted = convert_model(copy.deepcopy(model), compensate_exactly)
            if not isinstance(converted, nn.Module):
                networks.append({"name": name, "is_module": False})
                continue
            modules = dict(converted.named_modules())
            convs = []
            for conv_name, _ in conv_bn_pairs(model):
                module = modules.get(conv_name)
                normalized = isinstance(module, StandInNormalizedConv2d)
                convs.append({"name": conv_name, "is_normalized_conv": normalized,
                              "holds_original_weight": normalized and torch.equal(
                                  module.weight.detach(), model.get_submodule(conv_name).weight)})
            networks.append({
                "name": name, "is_module": True, "convs": convs,
                "normalized_convs": sum(isinstance(m, StandInNormalizedConv2d)
                                        for m in converted.modules()),
                "batchnorm_settings": [[m.eps, m.momentum] for m in converted.modules()
                                       if isinstance(m, nn.BatchNorm2d)],
                "output": _eval_outputs(converted, hidden_inputs(CONVERT_SEED))})
        return {"networks": networks}

    _collect("converter_swaps_every_pair", collect)


def converter_copies_the_model(convert_model) -> None:
    """Per hidden network: what ``convert_model`` changed in the model it was given, and which
    tensors of its result are the original's."""
    def collect():
        networks = []
        for name, model in hidden_networks().items():
            before = _snapshot(model)
            with standing_in(convert_model, NormalizedConv2d=StandInNormalizedConv2d):
                converted = convert_model(model, change_every_tensor)
            facts = {"name": name, "changed": _changed(model, before),
                     "is_module": isinstance(converted, nn.Module), "shared": []}
            if facts["is_module"]:
                originals = {t.data_ptr() for t in [*model.parameters(), *model.buffers()]}
                facts["shared"] = [key for key, t in [*converted.named_parameters(),
                                                      *converted.named_buffers()]
                                   if t.data_ptr() in originals]
            networks.append(facts)
        return {"networks": networks}

    _collect("converter_copies_the_model", collect)


def _number(value):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def comparison_in_eval_mode(compare_outputs) -> None:
    """What ``compare_outputs`` returns for two hidden models handed over in train mode."""
    def collect():
        model_a, model_b = comparison_models()
        result = compare_outputs(model_a.train(), model_b.train(),
                                 hidden_inputs(COMPARE_SEED, num_images=16))
        if not isinstance(result, dict):
            return {"is_dict": False, "type": type(result).__name__}
        return {"is_dict": True, "keys": [str(key) for key in result],
                "values": {key: _number(result[key]) for key in COMPARE_KEYS if key in result}}

    _collect("comparison_in_eval_mode", collect)


# ---------------------------------------------------------------------------------------------
# Evidence: folding
# ---------------------------------------------------------------------------------------------

def folded_pair_matches(fold_conv_bn) -> None:
    """Per hidden pair: what ``fold_conv_bn`` returns, whether it left its inputs alone, the
    folded conv's output and weight, and its weight when the running statistics move."""
    def collect():
        pairs = []
        for index, (conv, bn) in enumerate(hidden_pairs()):
            conv_before, bn_before = copy.deepcopy(conv), copy.deepcopy(bn)
            folded = fold_conv_bn(conv, bn)
            facts = {"is_conv2d": isinstance(folded, nn.Conv2d), "type": type(folded).__name__}
            if facts["is_conv2d"]:
                facts["inputs_unchanged"] = (_same_module(conv, conv_before)
                                             and _same_module(bn, bn_before))
                facts["output"] = _no_grad_call(folded, pair_images(conv, index))
                facts["weight"] = folded.weight.detach()
                moved = fold_conv_bn(conv_before, with_moved_statistics(bn_before))
                facts["moved_weight"] = _detached(getattr(moved, "weight", None))
            pairs.append(facts)
        return {"pairs": pairs}

    _collect("folded_pair_matches", collect)


def folded_model_matches(fold_model) -> None:
    """Per hidden network: what ``fold_model`` changed in the model it was given, how many
    BatchNorms its result holds and its eval-mode outputs, also for a copy whose last running
    variance moved (with the stand-in of ``fold_conv_bn``)."""
    def collect():
        networks = []
        X = hidden_inputs(FOLD_MODEL_SEED)
        for name, model in hidden_networks().items():
            before = _snapshot(model)
            with standing_in(fold_model, fold_conv_bn=UnfoldedPair):
                folded = fold_model(model)
            facts = {"name": name, "changed": _changed(model, before),
                     "is_module": isinstance(folded, nn.Module)}
            if facts["is_module"]:
                facts["batchnorms_left"] = count_batchnorms(folded)
                facts["output"] = _eval_outputs(folded, X)
                with standing_in(fold_model, fold_conv_bn=UnfoldedPair):
                    folded_moved = fold_model(with_last_variance_moved(model))
                facts["moved_output"] = _eval_outputs(folded_moved, X)
            networks.append(facts)
        return {"networks": networks}

    _collect("folded_model_matches", collect)

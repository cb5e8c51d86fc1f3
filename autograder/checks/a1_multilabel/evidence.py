"""Evidence of a1_multilabel, collected in the student's kernel by the hidden test cells.

Each function runs the student's code on hidden inputs (drawn here from fixed seeds) and records
what came out (:func:`autograder.evidence.record`): return values, errors, the facts of a model
(parameter names, shapes, ``requires_grad``; digests of its weights). It decides nothing and sees
no reference: the judges (``autograder/checks/a1_multilabel/judges.py``) redraw the same inputs
and compare. The predictions CSV has no evidence: it is judged from the handed-in file.
"""

import hashlib

import torch
import torchvision
from torch import nn

from autograder.evidence import describe_error, outcome, parameter_facts, record
from vislab.seeds import seeded_generator

COOCCURRENCE_SEED = 5409
TOP_K_SEED = 5410
LOSS_SEED, AP_SEED, MAP_SEED, TAIL_SEED = 5400, 5401, 5402, 5403
#: seeds of the hidden resnet18s handed to build_model, four_channel_resnet and TwoNetworks
REGIMES_SEED, FOUR_CHANNEL_SEED, RGB_NET_SEED, NIR_NET_SEED = 5404, 5405, 5406, 5407
TWO_NETWORKS_INPUT_SEED = 5408
REGIMES = ("scratch", "last_layer", "all_layers")
REGIMES_CLASSES, FOUR_CHANNEL_CLASSES, TWO_NETWORKS_CLASSES = 7, 7, 5


# --- hidden inputs (the judges draw them again from the same seeds) ----------------------------

def cooccurrence_labels() -> torch.Tensor:
    """0/1 labels (Tensor[90, 6]) in which class 4 has no image."""
    labels = (torch.rand(90, 6, generator=seeded_generator(COOCCURRENCE_SEED)) < 0.35).float()
    labels[:, 4] = 0
    return labels


def loss_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(case, logits Tensor[N, C], 0/1 targets Tensor[N, C]) of the loss check."""
    g = seeded_generator(LOSS_SEED)
    logits = torch.randn(37, 5, generator=g) * 3
    targets = (torch.rand(37, 5, generator=g) < 0.3).float()
    extreme = torch.tensor([[80.0, -80.0, 0.25, 500.0], [-500.0, 30.0, -30.0, 1e-3]])
    return [
        ("random logits", logits, targets),
        ("a single image", logits[:1], targets[:1]),
        ("very large logits (|x| up to 500)", extreme,
         torch.tensor([[0.0, 1, 1, 0], [1, 0, 0, 1]])),
    ]


def ap_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(case, scores Tensor[N], 0/1 labels Tensor[N]) of the AP check."""
    g = seeded_generator(AP_SEED)
    scores = torch.rand(60, generator=g)
    labels = (torch.rand(60, generator=g) < 0.35).float()
    coarse = (scores * 4).round() / 4  # five distinct values: many ties
    order = torch.argsort(-labels, stable=True)
    return [
        ("scores without ties", scores, labels),
        ("scores with ties", coarse, labels),
        ("scores with ties, positives first in the input order", coarse[order], labels[order]),
        ("all scores equal", torch.full((9,), 0.5), torch.tensor([1.0, 0, 0, 1, 0, 0, 0, 1, 0])),
        ("a class with no positive image", scores[:20], torch.zeros(20)),
        ("a class where every image is positive", scores[:15], torch.ones(15)),
    ]


def map_case() -> tuple[torch.Tensor, torch.Tensor]:
    """scores and 0/1 labels (both Tensor[120, 6]) of the mAP check; every class has a positive."""
    g = seeded_generator(MAP_SEED)
    labels = (torch.rand(120, 6, generator=g) < 0.3).float()
    labels[0] = 1
    scores = torch.sigmoid(torch.randn(120, 6, generator=g) + 1.5 * labels)
    return scores, labels


def tail_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, list[float]]]:
    """(case, scores Tensor[N, C], 0/1 labels Tensor[N, C], thresholds) of the tail check."""
    g = seeded_generator(TAIL_SEED)
    labels = (torch.rand(80, 5, generator=g) < 0.4).float()
    scores = torch.sigmoid(torch.randn(80, 5, generator=g) * 2 + 2 * labels)
    rounded = (scores * 20).round() / 20  # scores equal to a threshold must not count
    thresholds = [0.5, 0.6, 0.75, 0.9, 0.95]
    return [("random scores", scores, labels, thresholds),
            ("scores equal to the thresholds", rounded, labels, thresholds),
            ("a threshold above every score", scores, labels, [1.0])]


def tail_calls() -> list[tuple[str, torch.Tensor, torch.Tensor, float]]:
    """Every (case, scores, labels, t) the tail check calls, in order."""
    return [(case, scores, labels, t) for case, scores, labels, thresholds in tail_cases()
            for t in thresholds]


def top_k_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, list[float], int | None]]:
    """(case, scores Tensor[N, C], 0/1 labels Tensor[N, C], thresholds, k) of the top-k tail
    check; k None: the call leaves k at its default (50). Thresholds and rounded scores are
    multiples of 1/8, exact in float32 and float64 alike."""
    g = seeded_generator(TOP_K_SEED)
    labels = (torch.rand(150, 6, generator=g) < 0.4).float()
    scores = torch.sigmoid(torch.randn(150, 6, generator=g) + labels - 0.5)
    coarse = (scores * 8).round() / 8  # nine values: 9-14 images per class tie with the 10th
    # the thresholds cut inside the top k (k-th scores: about 0.85 for k = 10, 0.6 for k = 50)
    return [("random scores, k = 10", scores, labels, [0.5, 0.875, 0.9375], 10),
            ("scores tied with the k-th highest, k = 10", coarse, labels, [0.5, 0.75], 10),
            ("the default k (50)", scores, labels, [0.5, 0.75], None),
            ("fewer images than k (30 images, k = 50)", scores[:30], labels[:30], [0.5], 50),
            ("a threshold above every score", scores, labels, [1.0], 10)]


def top_k_calls() -> list[tuple[str, torch.Tensor, torch.Tensor, float, int | None]]:
    """Every (case, scores, labels, t, k) the top-k tail check calls, in order."""
    return [(case, scores, labels, t, k) for case, scores, labels, thresholds, k in top_k_cases()
            for t in thresholds]


def hidden_resnet(seed: int, num_classes: int = 1000) -> torchvision.models.ResNet:
    """A resnet18 initialised from ``seed`` (the "pretrained" model the student's code gets)."""
    torch.manual_seed(seed)
    return torchvision.models.resnet18(num_classes=num_classes)


def two_networks_input() -> torch.Tensor:
    """Three 4-band images (Tensor[3, 4, 32, 32])."""
    return torch.randn(3, 4, 32, 32, generator=seeded_generator(TWO_NETWORKS_INPUT_SEED))


def tensor_digest(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and values: equal digests, equal tensors."""
    value = tensor.detach().cpu().contiguous()
    digest = hashlib.sha256(f"{value.dtype}:{tuple(value.shape)}".encode())
    digest.update(value.numpy().tobytes())
    return digest.hexdigest()


# --- evidence, one record per test cell ----------------------------------------------------------

def cooccurrence(cooccurrence_fn) -> None:
    record("cooccurrence", **_typed(outcome(cooccurrence_fn, cooccurrence_labels())))


def bce_loss(loss_class) -> None:
    """For each loss case: what the loss returned (kind, dimensions, value, whether it carries a
    gradient) and its gradient with respect to the logits."""
    made = outcome(loss_class)
    if "error" in made:
        record("bce_loss", error=made["error"])
        return
    loss_fn = made["value"]
    cases = []
    for _, logits, targets in loss_cases():
        logits = logits.clone().requires_grad_(True)
        facts = outcome(loss_fn, logits, targets.clone())
        value = facts.pop("value", None)
        if "error" not in facts:
            facts["is_tensor"] = isinstance(value, torch.Tensor)
        if facts.get("is_tensor"):
            facts.update(dim=value.dim(), requires_grad=bool(value.requires_grad))
            if value.dim() == 0:
                facts["value"] = float(value.detach())
                if value.requires_grad:
                    grad = outcome(torch.autograd.grad, value, logits)
                    facts.update({"grad": grad["value"][0]} if "value" in grad
                                 else {"grad_error": grad["error"]})
        cases.append(facts)
    record("bce_loss", is_module=isinstance(loss_fn, nn.Module), cases=cases)


def average_precision(ap_fn) -> None:
    record("average_precision", results=[
        _typed(outcome(ap_fn, scores.clone(), labels.clone()))
        for _, scores, labels in ap_cases()])


def mean_average_precision(map_fn) -> None:
    scores, labels = map_case()
    record("mean_average_precision", **_typed(outcome(map_fn, scores.clone(), labels.clone())))


def tail_accuracy(tail_fn) -> None:
    record("tail_accuracy", results=[
        _typed(outcome(tail_fn, scores.clone(), labels.clone(), t))
        for _, scores, labels, t in tail_calls()])


def top_k_tail_accuracy(top_k_fn) -> None:
    record("top_k_tail_accuracy", results=[
        _typed(outcome(top_k_fn, scores.clone(), labels.clone(), t) if k is None
               else outcome(top_k_fn, scores.clone(), labels.clone(), t, k=k))
        for _, scores, labels, t, k in top_k_calls()])


def model_regimes(build_model) -> None:
    """For each regime: what ``build_model(regime, hidden resnet18, 7)`` made."""
    regimes = []
    for regime in REGIMES:
        made = outcome(build_model, regime, hidden_resnet(REGIMES_SEED), REGIMES_CLASSES)
        facts = {"regime": regime}
        if "error" in made:
            facts["error"] = made["error"]
        else:
            facts.update(_model_facts(made["value"], torch.randn(2, 3, 32, 32)))
        regimes.append(facts)
    record("model_regimes", regimes=regimes)


def four_channel(make_four_channel) -> None:
    """What ``four_channel_resnet`` makes of a hidden resnet18: its conv1, its parameters, the
    digest of every entry of its state, its output shape on 4-band images."""
    made = outcome(make_four_channel, hidden_resnet(FOUR_CHANNEL_SEED, FOUR_CHANNEL_CLASSES))
    if "error" in made:
        record("four_channel", error=made["error"])
        return
    model = made["value"]
    facts = _model_facts(model, torch.randn(2, 4, 32, 32))
    conv = getattr(model, "conv1", None)
    if isinstance(conv, nn.Conv2d):
        facts["conv1_config"] = {
            "in_channels": conv.in_channels, "out_channels": conv.out_channels,
            "kernel_size": list(conv.kernel_size), "stride": list(conv.stride),
            "padding": list(conv.padding), "bias": conv.bias is not None}
    if isinstance(model, nn.Module):
        facts["state_digests"] = {name: tensor_digest(value)
                                  for name, value in model.state_dict().items()}
    record("four_channel", **facts)


def two_networks(two_networks_class) -> None:
    """What ``TwoNetworks(rgb resnet18, nir resnet18, 5)`` is: its parameters, the digests of its
    RGB-shaped convolutions, its outputs on hidden images and on them with brighter bands."""
    made = outcome(two_networks_class, hidden_resnet(RGB_NET_SEED), hidden_resnet(NIR_NET_SEED),
                   TWO_NETWORKS_CLASSES)
    if "error" in made:
        record("two_networks", error=made["error"])
        return
    model = made["value"]
    if not isinstance(model, nn.Module):
        record("two_networks", is_module=False)
        return
    facts = {"is_module": True, "parameters": parameter_facts(model),
             "rgb_conv_digests": [tensor_digest(m.weight) for m in model.modules()
                                  if isinstance(m, nn.Conv2d) and m.weight.shape == (64, 3, 7, 7)]}
    X = two_networks_input()
    brighter_nir, brighter_rgb = X.clone(), X.clone()
    brighter_nir[:, 3] += 1
    brighter_rgb[:, :3] += 1
    try:
        model.eval()
        with torch.no_grad():
            facts["outputs"] = {name: model(images) for name, images in
                                [("y_hat", X), ("brighter_nir", brighter_nir),
                                 ("brighter_rgb", brighter_rgb)]}
    except Exception as error:  # noqa: BLE001 (student code)
        facts["output_error"] = describe_error(error)
    record("two_networks", **facts)


def _typed(result: dict) -> dict:
    """``outcome``'s result with the type name of its value (once recorded, a tuple and a list
    look alike, and so do a tensor and an array)."""
    if "value" in result:
        result["type"] = type(result["value"]).__name__
    return result


def _model_facts(model, X: torch.Tensor) -> dict:
    """Whether ``model`` is a module; its parameters, its fc, its conv1 weights and its output
    shape on ``X`` (or what went wrong)."""
    if not isinstance(model, nn.Module):
        return {"is_module": False}
    fc, conv = getattr(model, "fc", None), getattr(model, "conv1", None)
    facts = {"is_module": True, "parameters": parameter_facts(model),
             "fc_is_linear": isinstance(fc, nn.Linear),
             "fc_out_features": getattr(fc, "out_features", None),
             "conv1_weight": conv.weight if isinstance(conv, nn.Conv2d) else None}
    try:
        with torch.no_grad():
            facts["output_shape"] = list(model.eval()(X).shape)
    except Exception as error:  # noqa: BLE001 (student code)
        facts["output_error"] = describe_error(error)
    return facts

"""Finding every convolution whose output goes straight into a BatchNorm, and only there.

Such a pair is what a2_bn_folding converts (weight-normalised conv + compensated BatchNorm)
and folds (BatchNorm merged into the conv). The pairs are read from the model's traced graph
(``torch.fx``), not from the order the modules are registered in, so a conv whose output also
feeds something else (a skip connection) is never paired: changing it would change that other
consumer too.
"""

import torch
from torch import fx, nn


def conv_bn_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """``(conv_name, bn_name)`` of each ``nn.Conv2d`` followed only by an ``nn.BatchNorm2d``.

    Names are those of ``model.named_modules()`` (use ``get_submodule`` / ``set_submodule``).
    Pairs come in the order the model runs them. A module called more than once is never
    paired. Raises ``ValueError`` when ``torch.fx`` cannot trace the model.

    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU())
    >>> conv_bn_pairs(net)
    [('0', '1')]
    """
    try:
        graph = fx.symbolic_trace(model).graph
    except Exception as error:  # fx raises many types for untraceable Python
        raise ValueError(f"torch.fx cannot trace {type(model).__name__} ({error}); conv_bn_pairs "
                         "needs a model whose forward has no data-dependent Python control "
                         "flow") from None
    modules = dict(model.named_modules())
    calls = [node.target for node in graph.nodes if node.op == "call_module"]
    pairs = []
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(modules[node.target], nn.BatchNorm2d):
            continue
        source = node.args[0]
        if (isinstance(source, fx.Node) and source.op == "call_module"
                and type(modules[source.target]) is nn.Conv2d and len(source.users) == 1
                and calls.count(source.target) == 1 and calls.count(node.target) == 1):
            pairs.append((source.target, node.target))
    return pairs


def count_batchnorms(model: nn.Module) -> int:
    """How many BatchNorm layers (1d, 2d or 3d) ``model`` still holds.

    >>> count_batchnorms(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)))
    1
    """
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def calibrate_batchnorms(model: nn.Module, X: torch.Tensor, num_batches: int = 2,
                         batch_size: int = 8) -> nn.Module:
    """Give every BatchNorm of ``model`` the running statistics of its inputs on ``X``.

    A freshly initialised network has running means 0 and variances 1, which hides every
    mistake that confuses them. This runs ``num_batches`` batches of ``X`` (Tensor[N, C, H, W])
    in train mode with a cumulative average (``momentum=None``), then restores each
    BatchNorm's momentum and the model's mode. No gradient is computed. Returns ``model``.
    """
    if len(X) < num_batches * batch_size:
        raise ValueError(f"calibrating needs {num_batches * batch_size} images, got {len(X)}")
    batchnorms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [bn.momentum for bn in batchnorms]
    was_training = model.training
    for bn in batchnorms:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        for batch in X[:num_batches * batch_size].split(batch_size):
            model(batch)
    for bn, momentum in zip(batchnorms, momenta, strict=True):
        bn.momentum = momentum
    return model.train(was_training)

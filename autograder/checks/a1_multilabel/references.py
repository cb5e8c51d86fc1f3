"""The right answers of a1_multilabel on the hidden inputs, computed here (grading side only).

Conventions the notebook states and the judges hold students to:

- the loss is the mean over every (image, class) pair of BCE-with-logits, finite for any logit;
- AP of one class is scikit-learn's ``average_precision_score``: tied scores form one threshold
  (one step of the precision-recall curve), and a class without positive images has AP 0.0;
  mAP is the mean of the per-class APs over all classes;
- Tailacc(t) of a class is the fraction of positives among the images scoring strictly above
  ``t``, and NaN when no image scores above ``t``;
- Tailacc_k(t) of a class is Tailacc(t) among its top-k images: those scoring at least the k-th
  highest score of that class (every image tied with it kept; every image when there are fewer
  than k), NaN when none of them scores above ``t``.
"""

import math
import warnings
from functools import cache

import numpy as np
import torch
from sklearn.metrics import average_precision_score
from torch.nn import functional as F

from autograder.checks.a1_multilabel.evidence import hidden_resnet, tensor_digest

RESNET18_WITHOUT_FC = 11_176_512
CONV1_FILTER_SIZE = 64 * 7 * 7  # weights of conv1 per input channel
#: fans that nn.init.kaiming_normal_ / kaiming_uniform_ may see for the NIR filters of a
#: Conv2d(4, 64, 7): the slice weight[:, 3:] (fan-in 49, fan-out 3136), the 3-D slice weight[:, 3]
#: (fan-in 49, fan-out 448) or the whole 4-channel weight (fan-in 196)
KAIMING_FANS = (49, 196, 448, 3136)
#: standard deviation of PyTorch's default initialisation of a new Conv2d(4, 64, 7):
#: uniform on +-1/sqrt(fan-in) with fan-in 4 x 7 x 7
DEFAULT_CONV1_STD = 1 / math.sqrt(3 * 4 * 49)


def kaiming_std(fan: int) -> float:
    """He's standard deviation for ReLU layers, sqrt(2 / fan)."""
    return math.sqrt(2 / fan)


def reference_cooccurrence(labels: torch.Tensor) -> torch.Tensor:
    """P[i, j] = #(images with i and j) / #(images with i), 0 where no image has i."""
    counts = labels.T @ labels
    return counts / counts.diag().clamp(min=1)[:, None]


def reference_loss(logits: torch.Tensor, targets: torch.Tensor) -> tuple[float, torch.Tensor]:
    """The mean BCE-with-logits and its gradient with respect to ``logits``."""
    value = F.binary_cross_entropy_with_logits(logits, targets)
    return float(value), (torch.sigmoid(logits) - targets) / logits.numel()


def reference_average_precision(scores, labels) -> float:
    """scikit-learn's AP of one class (0.0 when ``labels`` has no positive); tensors or arrays."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No positive class found in y_true"
        return float(average_precision_score(np.asarray(labels), np.asarray(scores)))


def reference_mean_average_precision(scores: np.ndarray, labels: np.ndarray,
                                     ) -> tuple[float, list[float]]:
    """(mAP, per-class APs) of ``scores`` against 0/1 ``labels`` (both [N, C])."""
    per_class = [reference_average_precision(scores[:, c], labels[:, c])
                 for c in range(labels.shape[1])]
    return float(np.mean(per_class)), per_class


def reference_tail_accuracy(scores: torch.Tensor, labels: torch.Tensor, t: float) -> torch.Tensor:
    """Tailacc(t) per class (Tensor[C]): positives among images scoring above ``t``; NaN if none."""
    above = scores > t
    count = above.sum(dim=0)
    correct = (above & (labels == 1)).sum(dim=0)
    return torch.where(count > 0, correct / count.clamp(min=1), torch.tensor(math.nan))


def reference_top_k_tail_accuracy(scores, labels, t: float, k: int) -> np.ndarray:
    """Tailacc_k(t) per class (array[C]), from the definition one class at a time: the images
    scoring at least the k-th highest score of the class (all of them when N < k), the fraction
    of positives among those scoring above ``t``; NaN where none does. Tensors or arrays."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    result = np.full(scores.shape[1], np.nan)
    for c in range(scores.shape[1]):
        column = scores[:, c]
        kth_score = np.sort(column)[::-1][min(k, len(column)) - 1]
        kept = (column >= kth_score) & (column > t)
        if kept.any():
            result[c] = np.mean(labels[kept, c] == 1)
    return result


def resnet18_parameters(num_classes: int) -> int:
    """Parameters of a resnet18 whose fc has ``num_classes`` outputs."""
    return RESNET18_WITHOUT_FC + 512 * num_classes + num_classes


def two_networks_parameters(num_classes: int) -> int:
    """Two resnet18 without fc, the NIR one with a 1-channel conv1, one Linear(1024, C)."""
    return (2 * RESNET18_WITHOUT_FC - 2 * CONV1_FILTER_SIZE + 1024 * num_classes
            + num_classes)


@cache
def hidden_state(seed: int, num_classes: int = 1000) -> dict[str, np.ndarray]:
    """The state of the hidden resnet18 of ``seed`` as arrays (what the student's code got)."""
    return {name: value.numpy() for name, value in
            hidden_resnet(seed, num_classes).state_dict().items()}


@cache
def hidden_digests(seed: int, num_classes: int = 1000) -> dict[str, str]:
    """:func:`tensor_digest` of every state entry of the hidden resnet18 of ``seed``."""
    return {name: tensor_digest(value) for name, value in
            hidden_resnet(seed, num_classes).state_dict().items()}

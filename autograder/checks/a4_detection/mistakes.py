"""Mistakes students make in a4_detection, computed so the judges can recognise and name them
(grading side only): x and y swapped, the box or class term on images without a digit, the
presence term fed probabilities."""

import torch
import torch.nn.functional as F
from torchvision.ops import box_convert

from autograder.checks.a4_detection.references import PIXEL_SCALE

SWAP_HINT = ("x and y look swapped: x is horizontal (the image is 60 pixels wide), y vertical "
             "(48 pixels high); a box's corners are (x1, y1, x2, y2) = (left, top, right, bottom)")


def swapped_xy(boxes: torch.Tensor) -> torch.Tensor:
    """Relative or pixel boxes with their x and y entries exchanged (last dimension of 4)."""
    return boxes[..., [1, 0, 3, 2]]


def swap_variants(relative: torch.Tensor) -> list[torch.Tensor]:
    """Pixel corners of relative boxes computed with x and y mixed up in every way: the input
    read as (y, x, h, w), the width and height scales exchanged, the output as (y1, x1, y2, x2)."""
    variants = []
    for read_swapped in (False, True):
        for scale_swapped in (False, True):
            for write_swapped in (False, True):
                if read_swapped or scale_swapped or write_swapped:
                    boxes = swapped_xy(relative) if read_swapped else relative
                    scale = PIXEL_SCALE[[1, 0, 3, 2]] if scale_swapped else PIXEL_SCALE
                    pixels = box_convert(boxes * scale, "cxcywh", "xyxy")
                    variants.append(swapped_xy(pixels) if write_swapped else pixels)
    return variants


def masked_cross_entropy(y_hat, y):
    present = y[:, 0] == 1
    return F.cross_entropy(y_hat[present, 5:], y[present, 5].long()) if present.any() else 0.0


def loss_box_on_all(y_hat, y):
    """The box term over every image, empty ones included."""
    return (F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
            + F.mse_loss(y_hat[:, 1:5], y[:, 1:5]) + masked_cross_entropy(y_hat, y))


def loss_class_on_all(y_hat, y):
    """The class term over every image, empty ones included."""
    present = y[:, 0] == 1
    box = F.mse_loss(y_hat[present, 1:5], y[present, 1:5]) if present.any() else 0.0
    return (F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0]) + box
            + F.cross_entropy(y_hat[:, 5:], y[:, 5].long()))


def loss_probabilities(y_hat, y):
    """BCE-with-logits fed the sigmoid of the presence output."""
    present = y[:, 0] == 1
    loss = F.binary_cross_entropy_with_logits(torch.sigmoid(y_hat[:, 0]), y[:, 0])
    if present.any():
        loss = loss + F.mse_loss(y_hat[present, 1:5], y[present, 1:5]) \
            + masked_cross_entropy(y_hat, y)
    return loss


#: (mistaken loss, what the student reads when their loss equals it)
LOSS_MISTAKES = [
    (loss_box_on_all, "the box term (MSE) is applied to images without a digit: their x, y, "
                      "w, h mean nothing, so compute the MSE only where p = 1"),
    (loss_class_on_all, "the class term (cross-entropy) is applied to images without a digit: "
                        "compute it only where p = 1"),
    (loss_probabilities, "the presence term gets probabilities: BCE-with-logits takes the raw "
                         "output (it applies the sigmoid itself)"),
]


def corners_without_scaling(relative: torch.Tensor) -> torch.Tensor:
    """Relative (x, y, w, h) -> corners still relative to the image (the scale forgotten)."""
    return box_convert(relative, "cxcywh", "xyxy")

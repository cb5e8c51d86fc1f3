"""The right answers of a3_cifar's theory tasks, computed here (grading side only)."""

from functools import cache

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from autograder.checks.a3_cifar.evidence import (
    HIDDEN_MODEL_SEED,
    IMAGE,
    LAST_CONV_IMAGE_SIZE,
    OUTPUT_SIZE_INPUTS,
    SOBEL,
    hidden_model_and_image,
)

CONVENTIONS = ("cross-correlation", "convolution")
INVARIANCE_LAYER = "max pooling"
#: the numbers of the size questions (TDT4265 task 1)
SIZE_ANSWERS = {"same_padding_5x5": 2, "kernel_for_504": 9, "pooled_size": 252,
                "strided_conv_size": 125}


def reference_conv(convention: str) -> np.ndarray:
    """The 3x5 result of the Sobel kernel over IMAGE with zero padding 1, stride 1."""
    image = torch.tensor(IMAGE, dtype=torch.float64)[None, None]
    kernel = torch.tensor(SOBEL, dtype=torch.float64)
    if convention == "convolution":
        kernel = kernel.flip(0, 1)
    return F.conv2d(image, kernel[None, None], padding=1)[0, 0].round().numpy().astype(int)


def reference_output_size(size: int, kernel_size: int, stride: int, padding: int) -> int:
    """floor((size + 2 padding - kernel_size) / stride) + 1."""
    return (size + 2 * padding - kernel_size) // stride + 1


def expected_output_sizes() -> list[int]:
    return [reference_output_size(*case) for case in OUTPUT_SIZE_INPUTS]


def baseline_parameter_count() -> int:
    """Parameters of TDT4265's task-2 network on 3x32x32 inputs."""
    convs = [(3, 32), (32, 64), (64, 128)]
    count = sum((5 * 5 * c_in + 1) * c_out for c_in, c_out in convs)
    return count + (128 * 4 * 4 + 1) * 64 + (64 + 1) * 10


@cache
def first_layer_maps() -> np.ndarray:
    """conv1's 64 maps of the hidden image under the hidden resnet18 (Tensor[64, 48, 40])."""
    model, X = hidden_model_and_image(HIDDEN_MODEL_SEED)
    with torch.no_grad():
        return model.conv1(X)[0].numpy()


#: height and width of the notebook's photograph (skimage.data.chelsea())
PHOTO_SIZE = (300, 451)


def _up_to_layer4(model: torchvision.models.ResNet) -> nn.Sequential:
    """resnet18's layers up to and including layer4 (without avgpool and fc)."""
    return nn.Sequential(*list(model.children())[:-2])


@cache
def last_conv_maps() -> np.ndarray:
    """layer4's 512 maps of the hidden image under the hidden resnet18 (array[512, 4, 3])."""
    model, X = hidden_model_and_image(HIDDEN_MODEL_SEED, LAST_CONV_IMAGE_SIZE)
    with torch.no_grad():
        return _up_to_layer4(model)(X)[0].numpy()


@cache
def last_conv_photo_shape() -> tuple[int, int, int]:
    """(channels, h, w) of layer4's output for a PHOTO_SIZE image, from a resnet18 itself (built
    without touching the caller's random state)."""
    with torch.no_grad(), torch.random.fork_rng():
        maps = _up_to_layer4(torchvision.models.resnet18().eval())(torch.zeros(1, 3, *PHOTO_SIZE))
    return tuple(maps.shape[1:])

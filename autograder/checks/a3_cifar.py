"""Hidden checks of a3_cifar (TDT4265 assignment 3, CS498DL MP3 part 1B).

Theory answers are compared with references computed here; the trained models are graded by
the accuracy of their handed-in test predictions on held-out labels, with partial credit between
the baseline's accuracy and the target. The CSV scores also run outside the student's kernel
(``OUTSIDE_KERNEL``), and ``predictions.csv`` feeds the leaderboard (``LEADERBOARD``).
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks.core import CheckFailed, expect, hidden_check, partial_points
from autograder.checks.registry import LeaderboardSpec
from autograder.predictions_csv import read_predictions
from autograder.public_private import public_private_split
from vislab.a3_cifar.data import DEFAULT, heldout_test_labels

IMAGE = [[1, 0, 2, 3, 1], [3, 2, 0, 7, 0], [0, 6, 1, 1, 4]]
SOBEL = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
CONVENTIONS = ("cross-correlation", "convolution")

#: accuracy on the held-out test labels of the embedded set: 0 points at BASELINE, full at TARGET
#: (measured: the given baseline 0.69 on the test set, the reference solution's models about 0.90)
BASELINE_ACCURACY = 0.70
IMPROVED_TARGET = 0.84
BEST_TARGET = 0.88
IMPROVED_POINTS = 4
BEST_POINTS = 4
CSV_COLUMNS = ["Category"]


def reference_conv(convention: str) -> np.ndarray:
    """The 3x5 result of the Sobel kernel over IMAGE with zero padding 1, stride 1."""
    image = torch.tensor(IMAGE, dtype=torch.float64)[None, None]
    kernel = torch.tensor(SOBEL, dtype=torch.float64)
    if convention == "convolution":
        kernel = kernel.flip(0, 1)
    return F.conv2d(image, kernel[None, None], padding=1)[0, 0].round().numpy().astype(int)


@hidden_check
def conv_by_hand(conv_result, convention):
    expect(convention in CONVENTIONS, "conv_by_hand",
           f"`convention` must be one of {CONVENTIONS}, not {convention!r}")
    result = np.asarray(conv_result)
    expect(result.shape == (3, 5), "conv_by_hand",
           f"the result of a 3x5 image with zero padding 1 is 3x5, yours is {result.shape}")
    expected = reference_conv(convention)
    if np.array_equal(result, expected):
        return
    other = CONVENTIONS[1 - CONVENTIONS.index(convention)]
    if np.array_equal(result, reference_conv(other)):
        raise CheckFailed("conv_by_hand", f"your numbers are the {other} result, but you set "
                          f"convention = {convention!r}: say which convention you used")
    wrong = int((result != expected).sum())
    raise CheckFailed("conv_by_hand", f"{wrong} of the 15 entries are wrong for the {convention} "
                      "convention; check the zero-padded border and the kernel's orientation")


@hidden_check
def invariance_layer(answer):
    expect(isinstance(answer, str) and answer.strip().lower() == "max pooling",
           "invariance_layer", "the layer that makes a CNN less sensitive to small shifts takes "
           "the largest value in a neighbourhood, wherever in it that value is")


#: (size, kernel_size, stride, padding) -> expected, including sizes that do not divide evenly
OUTPUT_SIZE_CASES = [((32, 5, 1, 2), 32), ((28, 3, 1, 0), 26), ((512, 9, 1, 0), 504),
                     ((504, 2, 2, 0), 252), ((252, 3, 2, 0), 125), ((7, 3, 2, 1), 4),
                     ((224, 7, 2, 3), 112), ((10, 4, 3, 1), 3), ((5, 5, 1, 0), 1)]


@hidden_check
def output_size_function(output_size):
    for (size, kernel, stride, padding), expected in OUTPUT_SIZE_CASES:
        got = output_size(size, kernel, stride, padding)
        expect(got == expected, "output_size_function",
               f"output_size({size}, kernel_size={kernel}, stride={stride}, padding={padding}) "
               f"returned {got}; remember the floor when the stride does not divide evenly")


@hidden_check
def size_answers(same_padding_5x5, kernel_for_504, pooled_size, strided_conv_size):
    answers = {"same_padding_5x5": (same_padding_5x5, 2), "kernel_for_504": (kernel_for_504, 9),
               "pooled_size": (pooled_size, 252), "strided_conv_size": (strided_conv_size, 125)}
    wrong = [name for name, (got, expected) in answers.items() if got != expected]
    expect(not wrong, "size_answers", "not right yet: " + ", ".join(wrong)
           + " (use output = floor((size + 2 * padding - kernel_size) / stride) + 1)")


def baseline_parameter_count() -> int:
    """Parameters of TDT4265's task-2 network on 3x32x32 inputs."""
    convs = [(3, 32), (32, 64), (64, 128)]
    count = sum((5 * 5 * c_in + 1) * c_out for c_in, c_out in convs)
    return count + (128 * 4 * 4 + 1) * 64 + (64 + 1) * 10


@hidden_check
def parameter_count(baseline_parameters):
    expected = baseline_parameter_count()
    expect(baseline_parameters == expected, "parameter_count",
           "not the baseline's parameter count: count weights and biases of the three 5x5 "
           "convolutions and of both linear layers (pooling has no parameters); the flattened "
           "size is 128 x 4 x 4")


@hidden_check
def improved_models(*model_classes):
    for model_class in model_classes:
        model = model_class()
        expect(isinstance(model, nn.Module), "improved_models",
               f"{model_class.__name__}() must build an nn.Module")
        model.eval()
        with torch.no_grad():
            y_hat = model(torch.randn(3, 3, 32, 32))
        expect(tuple(y_hat.shape) == (3, 10), "improved_models",
               f"{model_class.__name__} must map a batch of 3x32x32 images to 10 logits per "
               f"image; it gave shape {tuple(y_hat.shape)}")


@hidden_check
def transfer_model(prepare_transfer_model):
    import torchvision

    model = prepare_transfer_model(torchvision.models.resnet18(), 10)
    expect(model.fc.out_features == 10, "transfer_model", "the new fc layer must have 10 outputs")
    trainable = {name.split(".")[0] for name, p in model.named_parameters() if p.requires_grad}
    expect(trainable == {"layer4", "fc"}, "transfer_model",
           f"only layer4 and fc should be trained; trainable now: {sorted(trainable)}")
    with torch.no_grad():
        y_hat = model.eval()(torch.randn(2, 3, 64, 64))
    expect(tuple(y_hat.shape) == (2, 10), "transfer_model", "the model must output 10 logits")


@hidden_check
def first_layer_activations(activations_fn):
    import torchvision

    torch.manual_seed(3)
    model = torchvision.models.resnet18().eval()
    X = torch.rand(1, 3, 96, 80)
    got = activations_fn(model, X)
    with torch.no_grad():
        expected = model.conv1(X)[0]
    expect(tuple(got.shape) == tuple(expected.shape), "first_layer_activations",
           f"expected the 64 maps of conv1 for one image, shape {tuple(expected.shape)}; got "
           f"{tuple(got.shape)}")
    expect(torch.allclose(got, expected, atol=1e-5), "first_layer_activations",
           "the maps differ from model.conv1's output: apply only the first convolution")


def prepare_grading() -> None:
    """Build the embedded set (and its held-out labels) before graders run in parallel."""
    heldout_test_labels(DEFAULT)


def test_accuracy(path: Path, name: str = DEFAULT) -> tuple[float, float]:
    """(public, private) accuracy of a handed-in CSV on the held-out labels of ``name``."""
    labels = heldout_test_labels(name)
    frame = read_predictions(path, CSV_COLUMNS, range(len(labels)), allowed_values=range(10))
    correct = frame["Category"].astype(int).to_numpy() == labels.numpy()
    public, private = public_private_split(len(labels))
    return float(correct[public].mean()), float(correct[private].mean())


def csv_points(path: Path, target: float, max_points: float) -> float:
    """Points for the overall accuracy of a CSV, between the baseline (0) and ``target`` (full)."""
    public, private = test_accuracy(path)
    return partial_points((public + private) / 2, BASELINE_ACCURACY, target, max_points)


@hidden_check
def csv_accuracy(file_name, target, max_points):
    points = csv_points(Path(file_name), target, max_points)
    print(f"{file_name}: {points:g} of {max_points} points (full points from {target:.0%} test "
          f"accuracy, none at the baseline's {BASELINE_ACCURACY:.0%})")
    return points


OUTSIDE_KERNEL = {
    "test_improved_a_accuracy": lambda folder: csv_points(folder / "improved_a.csv",
                                                          IMPROVED_TARGET, IMPROVED_POINTS),
    "test_improved_b_accuracy": lambda folder: csv_points(folder / "improved_b.csv",
                                                          IMPROVED_TARGET, IMPROVED_POINTS),
    "test_best_accuracy": lambda folder: csv_points(folder / "predictions.csv", BEST_TARGET,
                                                    BEST_POINTS),
}

LEADERBOARD = LeaderboardSpec(file_name="predictions.csv", metric="accuracy", score=test_accuracy)

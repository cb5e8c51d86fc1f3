"""Judges of a3_cifar: pytest checks over the evidence of one submission (grading side only).

Theory answers are compared with references computed here; the trained models are graded by
the accuracy of their handed-in test predictions on the held-out labels, with partial credit
between the given baseline's accuracy and a target. See :mod:`autograder.judging.plugin` for the
fixtures and how to run this file by hand on one submission.
"""

import numpy as np
import pytest

from autograder.checks.a3_cifar import references
from autograder.checks.a3_cifar.evidence import NUM_CLASSES, OUTPUT_SIZE_INPUTS
from autograder.checks.a3_cifar.heldout import overall_accuracy
from autograder.judging.handed_in_runs import handed_in_epochs
from autograder.judging.points import partial_points
from autograder.predictions_csv import InvalidPredictions

CONVENTIONS = references.CONVENTIONS
#: accuracy on the held-out test labels of the embedded set: 0 points at BASELINE, full at the
#: target (measured: the given baseline 0.69 on the test set, the reference's models about 0.90)
BASELINE_ACCURACY = 0.70
IMPROVED_TARGET = 0.84
BEST_TARGET = 0.88
#: test cell -> (handed-in CSV, accuracy for full points)
CSV_CELLS = {"test_improved_a_accuracy": ("improved_a.csv", IMPROVED_TARGET),
             "test_improved_b_accuracy": ("improved_b.csv", IMPROVED_TARGET),
             "test_best_accuracy": ("predictions.csv", BEST_TARGET)}
CSV_POINTS = {"test_improved_a_accuracy": 4, "test_improved_b_accuracy": 4, "test_best_accuracy": 4}
#: test cell -> the handed-in run of the network its CSV comes from, and the model in words
IMPROVED_RUNS = {"test_improved_a_accuracy": ("runs/improved_a.json", "ImprovedA"),
                 "test_improved_b_accuracy": ("runs/improved_b.json", "ImprovedB")}
#: TDT4265's budget for each improved network
EPOCH_BUDGET = 10


@pytest.mark.cell("test_conv_by_hand")
def test_conv_by_hand(evidence):
    answer = evidence("conv_by_hand")
    convention = answer["convention"]
    assert convention in CONVENTIONS, \
        f"`convention` must be one of {CONVENTIONS}, not {convention!r}"
    result = np.asarray(answer["conv_result"], dtype=object)
    assert result.shape == (3, 5), \
        f"the result of a 3x5 image with zero padding 1 is 3x5, yours is {result.shape}"
    expected = references.reference_conv(convention)
    if np.array_equal(result, expected):
        return
    other = CONVENTIONS[1 - CONVENTIONS.index(convention)]
    assert not np.array_equal(result, references.reference_conv(other)), \
        (f"your numbers are the {other} result, but you set convention = {convention!r}: say "
         "which convention you used")
    wrong = int((result != expected).sum())
    pytest.fail(f"{wrong} of the 15 entries are wrong for the {convention} convention; check the "
                "zero-padded border and the kernel's orientation", pytrace=False)


@pytest.mark.cell("test_invariance")
def test_invariance_layer(evidence):
    answer = evidence("invariance_layer")["answer"]
    assert isinstance(answer, str) and answer.strip().lower() == references.INVARIANCE_LAYER, \
        ("the layer that makes a CNN less sensitive to small shifts takes the largest value in a "
         "neighbourhood, wherever in it that value is")


@pytest.mark.cell("test_output_size")
def test_output_size_function(evidence):
    results = evidence("output_size_function")["results"]
    assert len(results) == len(OUTPUT_SIZE_INPUTS), "the check did not get a result per input"
    for (size, kernel, stride, padding), expected, got in zip(
            OUTPUT_SIZE_INPUTS, references.expected_output_sizes(), results, strict=True):
        call = f"output_size({size}, kernel_size={kernel}, stride={stride}, padding={padding})"
        assert "error" not in got, f"{call} raised {got.get('error')}"
        assert got["value"] == expected, \
            f"{call} returned {got['value']}; remember the floor when the stride does not divide evenly"


@pytest.mark.cell("test_size_answers")
def test_size_answers(evidence):
    answers = evidence("size_answers")
    wrong = [name for name, expected in references.SIZE_ANSWERS.items()
             if answers.get(name) != expected]
    assert not wrong, ("not right yet: " + ", ".join(wrong)
                       + " (use output = floor((size + 2 * padding - kernel_size) / stride) + 1)")


@pytest.mark.cell("test_parameter_count")
def test_parameter_count(evidence):
    assert evidence("parameter_count")["baseline_parameters"] == \
        references.baseline_parameter_count(), \
        ("not the baseline's parameter count: count weights and biases of the three 5x5 "
         "convolutions and of both linear layers (pooling has no parameters); the flattened size "
         "is 128 x 4 x 4")


@pytest.mark.cell("test_improved_models")
def test_improved_models(evidence):
    models = evidence("improved_models")["models"]
    assert len(models) == 2, "give both improved network classes"
    for model in models:
        name = model["name"]
        assert "error" not in model, f"{name}() raised {model.get('error')}"
        assert model["is_module"], f"{name}() must build an nn.Module"
        assert model["output_shape"] == [3, NUM_CLASSES], \
            (f"{name} must map a batch of 3x32x32 images to 10 logits per image; it gave shape "
             f"{tuple(model['output_shape'])}")
    layers = [([(name, shape) for name, shape, _ in model["parameters"]], model["modules"])
              for model in models]
    assert layers[0] != layers[1], \
        ("ImprovedA and ImprovedB have the same layers: design two different networks (e.g. "
         "another depth, width, kind of pooling or classifier)")


@pytest.mark.cell("test_transfer_model")
def test_transfer_model(evidence):
    made = evidence("transfer_model")
    assert "error" not in made, f"prepare_transfer_model raised {made.get('error')}"
    assert made["fc_out_features"] == NUM_CLASSES, "the new fc layer must have 10 outputs"
    trainable = sorted({name.split(".")[0] for name, _, grad in made["parameters"] if grad})
    assert trainable == ["fc", "layer4"], \
        f"only layer4 and fc should be trained; trainable now: {trainable}"
    assert made["output_shape"] == [2, NUM_CLASSES], "the model must output 10 logits"


@pytest.mark.cell("test_first_layer_activations")
def test_first_layer_activations(evidence):
    result = evidence("first_layer_activations")
    assert "error" not in result, f"first_layer_activations raised {result.get('error')}"
    got, expected = np.asarray(result["value"]), references.first_layer_maps()
    assert got.shape == expected.shape, \
        (f"expected the 64 maps of conv1 for one image, shape {expected.shape}; got "
         f"{tuple(got.shape)}")
    assert np.allclose(got, expected, atol=1e-5), \
        "the maps differ from model.conv1's output: apply only the first convolution"


@pytest.mark.cell("test_last_conv_activations")
def test_last_conv_shape(evidence):
    answer = evidence("last_conv_activations")["shape_answer"]
    expected = references.last_conv_photo_shape()
    assert isinstance(answer, list) and len(answer) == 3 and \
        all(isinstance(side, int) and not isinstance(side, bool) for side in answer), \
        "set last_conv_shape to a tuple of three integers (channels, h, w)"
    stated = tuple(answer)
    assert stated[0] == expected[0], \
        f"last_conv_shape: layer4 gives {expected[0]} channels, not {stated[0]}"
    assert stated != (512, 7, 7), \
        ("last_conv_shape: (512, 7, 7) is the shape for a 224 x 224 input; X_photo is 300 x 451: "
         "apply output_size to h and to w through the five rows of the table")
    assert stated == expected, \
        (f"last_conv_shape {stated} is not the shape of layer4's output for the 300 x 451 "
         "photograph: apply output_size to h and to w through the five rows of the table "
         "(rounding down at each)")


@pytest.mark.cell("test_last_conv_activations")
def test_last_conv_activations(evidence):
    result = evidence("last_conv_activations")
    assert "error" not in result, f"last_conv_activations raised {result.get('error')}"
    got, expected = np.asarray(result.get("value")), references.last_conv_maps()
    assert got.shape[-2:] != (1, 1), \
        (f"expected the 512 maps of layer4 for one image, shape {expected.shape}; got "
         f"{tuple(got.shape)}: return layer4's output, before the average pooling")
    assert got.shape != (1, *expected.shape), \
        (f"expected the maps of the one image, shape {expected.shape}; got {tuple(got.shape)}: "
         "drop the batch dimension")
    assert got.shape == expected.shape, \
        (f"expected the 512 maps of layer4 for one image, shape {expected.shape}; got "
         f"{tuple(got.shape)}")
    assert np.allclose(got, expected, rtol=1e-4, atol=1e-4), \
        ("the maps differ from layer4's output: run conv1, bn1, relu, maxpool and layer1 to "
         "layer4 in that order, with the model as it is given")


@pytest.mark.parametrize("cell", [pytest.param(cell, marks=pytest.mark.cell(cell))
                                  for cell in CSV_CELLS])
def test_csv_accuracy(cell, submission, heldout_key, credit):
    file_name, target = CSV_CELLS[cell]
    try:
        accuracy = overall_accuracy(submission / file_name, heldout_key)
    except InvalidPredictions as error:
        pytest.fail(str(error), pytrace=False)
    if cell in IMPROVED_RUNS:
        run, model = IMPROVED_RUNS[cell]
        epochs = len(handed_in_epochs(submission, run, model))
        assert epochs <= EPOCH_BUDGET, \
            (f"{run}: {model} trained for {epochs} epochs; the budget is {EPOCH_BUDGET} "
             f"(num_epochs={EPOCH_BUDGET}), so {file_name} earns no points")
    points = partial_points(accuracy, BASELINE_ACCURACY, target, CSV_POINTS[cell])
    assert points > 0, (f"{file_name}: {accuracy:.1%} test accuracy is not above the given "
                        f"baseline's {BASELINE_ACCURACY:.0%}; full points from {target:.0%}")
    credit(points)

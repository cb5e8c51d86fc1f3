"""a3_cifar's evidence and judges: reference answers pass, each known-wrong answer fails with its
words. Each test records evidence in this process (``judge_collected``) and judges it as grading
does, so the evidence functions and the judges are tested together."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from autograder.checks.a3_cifar import evidence, judges, references
from autograder.heldout import store
from autograder.heldout.key import DEMO_KEY
from autograder.judging.in_process import judge_collected
from autograder.known_wrong.a3_cifar import KNOWN_WRONG
from autograder.sample_classes import SAMPLES
from vislab.training import History

CROSS = np.array([[2, -1, 11, -2, -13], [10, -4, 8, 2, -18], [14, -1, -5, 6, -9]])


def verdict(tmp_path, cell: str, collect, submission=None):
    """(points, failure messages) of ``cell`` after ``collect()`` recorded its evidence."""
    result = judge_collected("a3_cifar", collect, tmp_path / "out", submission)[cell]
    return result.points, " ".join(outcome.message for outcome in result.failures)


def test_convolution_by_hand_accepts_either_stated_convention(tmp_path):
    assert verdict(tmp_path, "test_conv_by_hand",
                   lambda: evidence.conv_by_hand(CROSS, "cross-correlation"))[0] == 3
    flipped = verdict(tmp_path, "test_conv_by_hand",  # the Sobel kernel flipped is its negative
                      lambda: evidence.conv_by_hand((-CROSS).tolist(), "convolution"))
    assert flipped[0] == 3


def test_convolution_numbers_that_do_not_match_the_stated_convention_are_explained(tmp_path):
    points, message = verdict(tmp_path, "test_conv_by_hand",
                              lambda: evidence.conv_by_hand(CROSS, "convolution"))
    assert points == 0 and "cross-correlation result, but you set" in message


def test_the_reference_matches_torch_conv2d():
    image = torch.tensor(evidence.IMAGE, dtype=torch.float32)[None, None]
    kernel = torch.tensor(evidence.SOBEL, dtype=torch.float32)[None, None]
    expected = nn.functional.conv2d(image, kernel, padding=1)[0, 0].int().numpy()
    assert np.array_equal(references.reference_conv("cross-correlation"), expected)


def test_output_size_function_is_checked_on_uneven_strides(tmp_path):
    right = lambda s, k, st=1, p=0: (s + 2 * p - k) // st + 1  # noqa: E731
    rounded = lambda s, k, st=1, p=0: round((s + 2 * p - k) / st + 1)  # noqa: E731
    assert verdict(tmp_path, "test_output_size", lambda: evidence.output_size_function(right))[0] == 2
    points, message = verdict(tmp_path, "test_output_size",
                              lambda: evidence.output_size_function(rounded))
    assert points == 0 and "floor" in message


def test_a_crash_in_student_code_is_named_without_a_traceback(tmp_path):
    def crashes(size, kernel_size, stride=1, padding=0):
        raise ZeroDivisionError("division by zero")

    points, message = verdict(tmp_path, "test_output_size",
                              lambda: evidence.output_size_function(crashes))
    assert points == 0 and "raised ZeroDivisionError: division by zero" in message
    assert "Traceback" not in message


def test_size_answers_name_the_wrong_ones(tmp_path):
    assert verdict(tmp_path, "test_size_answers", lambda: evidence.size_answers(2, 9, 252, 125))[0] == 2
    points, message = verdict(tmp_path, "test_size_answers",  # the seed report's answer
                              lambda: evidence.size_answers(2, 9, 252, 250))
    assert points == 0 and "strided_conv_size" in message and "pooled_size" not in message


def test_parameter_count_is_the_baselines(tmp_path):
    baseline = nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(32, 64, 5, padding=2),
        nn.MaxPool2d(2), nn.Conv2d(64, 128, 5, padding=2), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(2048, 64), nn.Linear(64, 10))
    count = sum(p.numel() for p in baseline.parameters())
    assert references.baseline_parameter_count() == count == 390410
    assert verdict(tmp_path, "test_parameter_count", lambda: evidence.parameter_count(count))[0] == 2
    points, message = verdict(tmp_path, "test_parameter_count",
                              lambda: evidence.parameter_count(count - 10))
    assert points == 0 and "pooling has no parameters" in message


def test_invariance_layer(tmp_path):
    assert verdict(tmp_path, "test_invariance",
                   lambda: evidence.invariance_layer("max pooling"))[0] == 1
    assert verdict(tmp_path, "test_invariance",
                   lambda: evidence.invariance_layer("convolution"))[0] == 0


def test_improved_models_must_output_ten_logits(tmp_path):
    def linear(outputs):
        return lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, outputs))

    def two_layers():
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 16), nn.ReLU(), nn.Linear(16, 10))

    assert verdict(tmp_path, "test_improved_models",
                   lambda: evidence.improved_models(linear(10), two_layers))[0] == 1
    points, message = verdict(tmp_path, "test_improved_models",
                              lambda: evidence.improved_models(linear(10), linear(7)))
    assert points == 0 and "10 logits" in message


def test_the_two_improved_networks_must_differ(tmp_path):
    def linear():
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))

    def linear_dropout():
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10), nn.Dropout(0.2))  # same parameters

    points, message = verdict(tmp_path, "test_improved_models",
                              lambda: evidence.improved_models(linear, linear))
    assert points == 0 and "have the same layers" in message
    assert verdict(tmp_path, "test_improved_models",
                   lambda: evidence.improved_models(linear, linear_dropout))[0] == 1


def _freeze_all_but_layer4_and_fc(model, num_classes):
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.fc = nn.Linear(512, num_classes)
    for parameter in model.layer4.parameters():
        parameter.requires_grad = True
    return model


def test_transfer_model_checks_what_is_frozen(tmp_path):
    def nothing_frozen(model, num_classes):
        model.fc = nn.Linear(512, num_classes)
        return model

    assert verdict(tmp_path, "test_transfer_model",
                   lambda: evidence.transfer_model(_freeze_all_but_layer4_and_fc))[0] == 2
    points, message = verdict(tmp_path, "test_transfer_model",
                              lambda: evidence.transfer_model(nothing_frozen))
    assert points == 0 and "only layer4 and fc" in message


def test_first_layer_activations(tmp_path):
    assert verdict(tmp_path, "test_first_layer_activations", lambda: evidence.first_layer_activations(
        lambda model, X: model.conv1(X)[0].detach()))[0] == 1
    points, message = verdict(tmp_path, "test_first_layer_activations",
                              lambda: evidence.first_layer_activations(
                                  lambda model, X: model.relu(model.bn1(model.conv1(X)))[0]))
    assert points == 0 and "only the first convolution" in message


def test_csv_points_scale_between_baseline_and_target(tmp_path, monkeypatch):
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    labels = torch.arange(20) % 10
    store.save_labels("textured-digits", {"test_y": labels}, DEMO_KEY)
    predictions = labels.clone()
    predictions[:4] = (predictions[:4] + 1) % 10  # 80% right
    (tmp_path / "predictions.csv").write_text("Id,Category\n" + "".join(
        f"{i},{int(c)}\n" for i, c in enumerate(predictions)))
    points, _ = verdict(tmp_path, "test_best_accuracy", lambda: None, submission=tmp_path)
    fraction = (0.8 - judges.BASELINE_ACCURACY) / (judges.BEST_TARGET - judges.BASELINE_ACCURACY)
    assert points == pytest.approx(4 * fraction, abs=0.01)
    points, message = verdict(tmp_path, "test_improved_a_accuracy", lambda: None,
                              submission=tmp_path)
    assert points == 0 and "improved_a.csv was not handed in" in message


@pytest.mark.parametrize(("epochs", "points"), [(10, 4), (11, 0)])
def test_an_improved_network_trained_past_the_budget_earns_nothing(tmp_path, monkeypatch, epochs,
                                                                   points):
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    labels = torch.arange(20) % 10
    store.save_labels("textured-digits", {"test_y": labels}, DEMO_KEY)
    (tmp_path / "improved_a.csv").write_text("Id,Category\n" + "".join(
        f"{i},{int(c)}\n" for i, c in enumerate(labels)))  # all right
    History(name="improved_a", metric_name="accuracy", best_epoch=epochs,
            epochs=[{"train_loss": 1.0 / (1 + epoch)} for epoch in range(epochs)],
            ).save(tmp_path / "runs" / "improved_a.json")
    got, message = verdict(tmp_path, "test_improved_a_accuracy", lambda: None,
                           submission=tmp_path)
    assert got == points and (points or "trained for 11 epochs; the budget is 10" in message)


def _up_to_layer4(model, X):
    with torch.no_grad():
        return nn.Sequential(*list(model.children())[:-2])(X)[0]


def test_the_photographs_last_conv_shape_follows_the_output_size_formula():
    h, w = references.PHOTO_SIZE
    for kernel_size, stride, padding in [(7, 2, 3), (3, 2, 1), (3, 2, 1), (3, 2, 1), (3, 2, 1)]:
        h = references.reference_output_size(h, kernel_size, stride, padding)
        w = references.reference_output_size(w, kernel_size, stride, padding)
    assert references.last_conv_photo_shape() == (512, h, w) == (512, 10, 15)


def test_last_conv_activations(tmp_path):
    assert verdict(tmp_path, "test_last_conv_activations", lambda: evidence.last_conv_activations(
        _up_to_layer4, (512, 10, 15)))[0] == 2
    cases = [(lambda model, X: _up_to_layer4(model, X)[None], (512, 10, 15),
              "drop the batch dimension"),
             (lambda model, X: _up_to_layer4(model.train(), X), (512, 10, 15),
              "differ from layer4's output"),
             (_up_to_layer4, None, "a tuple of three integers"),
             (_up_to_layer4, (512, 10, 16), "rounding down at each"),
             (_up_to_layer4, (2048, 10, 15), "gives 512 channels")]
    for activations, shape, words in cases:
        points, message = verdict(tmp_path, "test_last_conv_activations",
                                  lambda a=activations, s=shape: evidence.last_conv_activations(a, s))
        assert points == 0 and words in message, (words, message)


@pytest.mark.parametrize("name", sorted(KNOWN_WRONG))
def test_a_known_wrong_answer_fails_its_check_with_its_words(tmp_path, name):
    wrong = KNOWN_WRONG[name]
    namespace = {"np": np, "torch": torch, "nn": nn}
    exec(wrong.source, namespace)
    calls = {"conv_by_hand": lambda: evidence.conv_by_hand(namespace["conv_result"],
                                                           namespace["convention"]),
             "output_size_function": lambda: evidence.output_size_function(namespace["output_size"]),
             "last_conv_activations": lambda: evidence.last_conv_activations(
                 namespace.get("last_conv_activations", _up_to_layer4),
                 namespace.get("last_conv_shape", references.last_conv_photo_shape()))}
    cell = next(iter(wrong.zeroes))
    points, message = verdict(tmp_path, cell, calls[wrong.check])
    assert points == 0 and wrong.words in message


def test_every_ablation_run_of_the_reference_trains():
    """The reference's ablation teaches what a change does only if each variant trains: its last
    training loss is well below ln 10 = 2.30, the loss of a uniform guess over 10 classes."""
    runs = sorted((SAMPLES / "a3_cifar" / "runs").glob("ablation_*.json"))
    assert len(runs) >= 2
    for path in runs:
        history = History.load(path)
        assert history.epochs[-1]["train_loss"] < 0.5 * math.log(10), \
            f"{path.name} does not train: its loss ends at {history.epochs[-1]['train_loss']:.2f}"

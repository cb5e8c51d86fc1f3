"""a3_cifar's hidden checks: the reference answers pass, each known-wrong answer fails with its message."""

import numpy as np
import pytest
import torch
from torch import nn

from autograder.checks import a3_cifar as hidden
from autograder.checks.core import CheckFailed
from autograder.known_wrong.a3_cifar import KNOWN_WRONG

CROSS = np.array([[2, -1, 11, -2, -13], [10, -4, 8, 2, -18], [14, -1, -5, 6, -9]])


def test_convolution_by_hand_accepts_either_stated_convention():
    hidden.conv_by_hand(CROSS, "cross-correlation")
    hidden.conv_by_hand(-CROSS, "convolution")  # the Sobel kernel flipped is its negative


def test_convolution_numbers_that_do_not_match_the_stated_convention_are_explained():
    with pytest.raises(CheckFailed, match="cross-correlation result, but you set"):
        hidden.conv_by_hand(CROSS, "convolution")


def test_a_wrong_entry_is_counted_not_revealed():
    seed_report = CROSS.copy()
    seed_report[0, 3:] = [0, -11]  # the answer of a student report in shared/seeds
    with pytest.raises(CheckFailed, match="2 of the 15 entries are wrong") as failure:
        hidden.conv_by_hand(seed_report, "cross-correlation")
    assert "-13" not in str(failure.value)


def test_the_reference_matches_torch_conv2d():
    image = torch.tensor(hidden.IMAGE, dtype=torch.float32)[None, None]
    kernel = torch.tensor(hidden.SOBEL, dtype=torch.float32)[None, None]
    expected = nn.functional.conv2d(image, kernel, padding=1)[0, 0].int().numpy()
    assert np.array_equal(hidden.reference_conv("cross-correlation"), expected)


def test_output_size_function_is_checked_on_uneven_strides():
    hidden.output_size_function(lambda s, k, st=1, p=0: (s + 2 * p - k) // st + 1)
    with pytest.raises(CheckFailed, match="floor"):
        hidden.output_size_function(lambda s, k, st=1, p=0: round((s + 2 * p - k) / st + 1))


def test_size_answers_name_the_wrong_ones():
    hidden.size_answers(2, 9, 252, 125)
    with pytest.raises(CheckFailed, match="strided_conv_size") as failure:
        hidden.size_answers(2, 9, 252, 250)  # the seed report's answer
    assert "pooled_size" not in str(failure.value)


def test_parameter_count_is_the_baselines():
    from torch import nn

    baseline = nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(32, 64, 5, padding=2),
        nn.MaxPool2d(2), nn.Conv2d(64, 128, 5, padding=2), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(2048, 64), nn.Linear(64, 10))
    count = sum(p.numel() for p in baseline.parameters())
    assert hidden.baseline_parameter_count() == count == 390410
    hidden.parameter_count(count)
    with pytest.raises(CheckFailed, match="pooling has no parameters"):
        hidden.parameter_count(count - 10)


def test_invariance_layer():
    hidden.invariance_layer("max pooling")
    with pytest.raises(CheckFailed):
        hidden.invariance_layer("convolution")


def test_improved_models_must_output_ten_logits():
    hidden.improved_models(lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10)))
    with pytest.raises(CheckFailed, match="10 logits"):
        hidden.improved_models(lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 7)))


def _freeze_all_but_layer4_and_fc(model, num_classes):
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.fc = nn.Linear(512, num_classes)
    for parameter in model.layer4.parameters():
        parameter.requires_grad = True
    return model


def test_transfer_model_checks_what_is_frozen():
    hidden.transfer_model(_freeze_all_but_layer4_and_fc)

    def nothing_frozen(model, num_classes):
        model.fc = nn.Linear(512, num_classes)
        return model

    with pytest.raises(CheckFailed, match="only layer4 and fc"):
        hidden.transfer_model(nothing_frozen)


def test_first_layer_activations():
    hidden.first_layer_activations(lambda model, X: model.conv1(X)[0].detach())
    with pytest.raises(CheckFailed, match="only the first convolution"):
        hidden.first_layer_activations(lambda model, X: model.relu(model.bn1(model.conv1(X)))[0])


def test_a_crash_inside_student_code_becomes_a_check_failure_without_traceback():
    def crashes(size, kernel_size, stride=1, padding=0):
        raise ZeroDivisionError("division by zero")

    with pytest.raises(CheckFailed, match="raised ZeroDivisionError") as failure:
        hidden.output_size_function(crashes)
    assert failure.value._render_traceback_()[0] == "Hidden check failed: output_size_function"


def test_csv_points_scale_between_baseline_and_target(tmp_path, tmp_cache, monkeypatch):
    labels = torch.arange(20) % 10
    monkeypatch.setattr(hidden, "heldout_test_labels", lambda name: labels)
    predictions = labels.clone()
    predictions[:4] = (predictions[:4] + 1) % 10  # 80% right
    (tmp_path / "p.csv").write_text("Id,Category\n" + "".join(
        f"{i},{int(c)}\n" for i, c in enumerate(predictions)))
    points = hidden.csv_points(tmp_path / "p.csv", target=0.88, max_points=4)
    fraction = (0.8 - hidden.BASELINE_ACCURACY) / (0.88 - hidden.BASELINE_ACCURACY)
    assert points == pytest.approx(4 * fraction, abs=0.01)
    public, private = hidden.test_accuracy(tmp_path / "p.csv")
    assert (public + private) / 2 == pytest.approx(0.8)


@pytest.mark.parametrize("name", sorted(KNOWN_WRONG))
def test_a_known_wrong_answer_fails_its_check_with_its_words(name):
    wrong = KNOWN_WRONG[name]
    namespace = {"np": np}
    exec(wrong.source, namespace)
    arguments = {"conv_by_hand": ("conv_result", "convention"), "output_size_function": ("output_size",)}
    with pytest.raises(CheckFailed, match=wrong.words):
        getattr(hidden, wrong.check)(*(namespace[name] for name in arguments[wrong.check]))

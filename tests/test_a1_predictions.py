"""a1's predictions CSV: validation messages, mAP on a public/private split, points, leaderboard."""

import numpy as np
import pandas as pd
import pytest
import torch

from autograder.checks import a1_multilabel as hidden
from autograder.checks.core import CheckFailed
from autograder.predictions_csv import InvalidPredictions
from autograder.public_private import public_private_split
from vislab.a1_multilabel import scenes as multilabel_scenes
from vislab.a1_multilabel.heldout import write_heldout_labels
from vislab.kaggle import write_predictions
from vislab.seeds import seeded_generator

CLASSES = multilabel_scenes.CLASSES
COUNT = 60


@pytest.fixture
def labels(tmp_cache):
    """Held-out labels of 60 test scenes (every class positive in both halves)."""
    generator = seeded_generator(0)
    labels = (torch.rand(COUNT, len(CLASSES), generator=generator) < 0.25).float()
    public, private = public_private_split(COUNT)
    labels[public[:2]] = 1
    labels[private[:2]] = 1
    write_heldout_labels(multilabel_scenes.CACHE_NAME, list(range(COUNT)), labels, CLASSES)
    return labels


def write(path, scores, ids=None):
    ids = list(range(COUNT)) if ids is None else ids
    return write_predictions(path, ids, {c: scores[:, i].tolist() for i, c in enumerate(CLASSES)})


def test_perfect_constant_and_partial_scores(labels, tmp_path):
    assert hidden.score_predictions(write(tmp_path / "p.csv", labels)) == (1.0, 1.0)
    assert hidden.predictions_csv(tmp_path / "p.csv") == hidden.CSV_POINTS
    constant = write(tmp_path / "c.csv", torch.full_like(labels, 0.5))
    public, private = hidden.score_predictions(constant)
    _, private_part = public_private_split(COUNT)
    assert private == pytest.approx(labels[private_part].mean(0).mean().item())  # AP = prevalence
    assert hidden.predictions_csv(constant) == 0.0
    noise = torch.rand(labels.shape, generator=seeded_generator(1))
    noisy = labels * 0.12 + noise * 0.88
    _, private = hidden.score_predictions(write(tmp_path / "n.csv", noisy))
    baseline, target = hidden.MAP_THRESHOLDS["scenes"]
    assert baseline < private < target
    expected = round(hidden.CSV_POINTS * (private - baseline) / (target - baseline), 2)
    assert hidden.predictions_csv(tmp_path / "n.csv") == pytest.approx(expected)
    assert hidden.LEADERBOARD.score(tmp_path / "n.csv")[1] == private
    assert hidden.OUTSIDE_KERNEL["test_predictions_csv"](tmp_path.parent / tmp_path.name) == 0.0


def test_outside_kernel_scores_the_handed_in_file(labels, tmp_path):
    write(tmp_path / hidden.CSV_FILE, labels)
    assert hidden.OUTSIDE_KERNEL["test_predictions_csv"](tmp_path) == hidden.CSV_POINTS


def _faulty_files(labels, folder):
    """name -> (path of a faulty CSV, words its message must contain)."""
    good = pd.read_csv(write(folder / "good.csv", labels))
    files = {}

    def save(name, frame, words):
        frame.to_csv(folder / f"{name}.csv", index=False)
        files[name] = (folder / f"{name}.csv", words)

    save("wrong header", good.rename(columns={"cat": "Cat"}), "expected ['Id'")
    save("columns swapped", good[["Id", *reversed(CLASSES)]], "(in that order)")
    save("missing id", good.drop(index=7), "no row for 1 test ids")
    save("duplicated id", pd.concat([good, good.iloc[[3]]]), "more than once")
    with_nan = good.copy()
    with_nan.loc[5, "cup"] = np.nan
    save("NaN", with_nan, "NaN")
    logits = good.copy()
    logits.loc[2, "moon"] = 3.7
    save("logits", logits, "apply the sigmoid")
    (folder / "image.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\xff\xfe")
    files["not a CSV"] = (folder / "image.csv", "not a readable CSV")
    files["missing file"] = (folder / "absent.csv", "was not handed in")
    return files


def test_each_fault_is_rejected_with_a_message_saying_what_to_fix(labels, tmp_path):
    for name, (path, words) in _faulty_files(labels, tmp_path).items():
        with pytest.raises(InvalidPredictions) as error:
            hidden.score_predictions(path)
        assert words in str(error.value), name
        with pytest.raises(CheckFailed) as failure:
            hidden.predictions_csv(path)
        assert failure.value.message == str(error.value)


def test_a_faulty_handed_in_file_scores_zero_outside_the_kernel(labels, tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    frame = pd.read_csv(write(folder / hidden.CSV_FILE, labels))
    frame.drop(index=0).to_csv(folder / hidden.CSV_FILE, index=False)
    assert hidden.OUTSIDE_KERNEL["test_predictions_csv"](folder) == 0.0

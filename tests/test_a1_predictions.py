"""a1's predictions CSV, judged on the grading side from the handed-in file: validation messages,
mAP on a public/private split of the sealed held-out labels, points, the leaderboard's score,
and the published test split reproduced by the public demo key."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from autograder.checks import a1_multilabel as checks
from autograder.checks.a1_multilabel import heldout, judges
from autograder.heldout import store
from autograder.heldout.key import DEMO_KEY
from autograder.judging.in_process import judge_collected
from autograder.predictions_csv import InvalidPredictions
from autograder.public_private import public_private_split
from vislab.a1_multilabel import scenes as multilabel_scenes
from vislab.kaggle import write_predictions
from vislab.paths import REPO_ROOT
from vislab.seeds import seeded_generator

CLASSES = multilabel_scenes.CLASSES
COUNT = 60
CELL = "test_predictions_csv"
#: a reference submission's predictions (the sample's before it was regenerated with the new
#: checkpoint) and their (public, private) mAP on the published test split, measured with the
#: kit's held-out labels before they moved to the grading side
PUBLISHED_CSV = REPO_ROOT / "tests" / "data" / "a1_predictions_before_heldout_moved.csv"
PUBLISHED_SCORES = (0.8077646722356162, 0.8124772331630318)


@pytest.fixture
def heldout_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    monkeypatch.delenv("VISLAB_A1_DATASET", raising=False)
    return tmp_path / "heldout"


@pytest.fixture
def labels(heldout_dir):
    """Sealed held-out labels of 60 test scenes (every class positive in both halves)."""
    generator = seeded_generator(0)
    labels = (torch.rand(COUNT, len(CLASSES), generator=generator) < 0.25).float()
    public, private = public_private_split(COUNT)
    labels[public[:2]] = 1
    labels[private[:2]] = 1
    heldout.save_test_labels(multilabel_scenes.CACHE_NAME, range(COUNT), labels, DEMO_KEY)
    return labels


def write(path, scores, ids=None):
    ids = list(range(COUNT)) if ids is None else ids
    return write_predictions(path, ids, {c: scores[:, i].tolist() for i, c in enumerate(CLASSES)})


def judged(tmp_path, folder) -> tuple[float, str]:
    """(points, failure words) of the CSV cell for the submission ``folder``."""
    result = judge_collected("a1_multilabel", lambda: None, tmp_path / "out", folder)[CELL]
    return result.points, " ".join(outcome.message for outcome in result.failures)


def score(path):
    return checks.LEADERBOARD.score(path, DEMO_KEY)


def test_perfect_constant_and_partial_scores(labels, tmp_path):
    perfect, constant, noisy = (tmp_path / name for name in ("perfect", "constant", "noisy"))
    assert score(write(perfect / "predictions.csv", labels)) == (1.0, 1.0)
    assert judged(tmp_path, perfect) == (judges.CSV_POINTS, "")
    _, private = score(write(constant / "predictions.csv", torch.full_like(labels, 0.5)))
    _, private_part = public_private_split(COUNT)
    assert private == pytest.approx(labels[private_part].mean(0).mean().item())  # AP = prevalence
    points, words = judged(tmp_path, constant)
    assert points == 0 and "is not above 0.4" in words
    noise = torch.rand(labels.shape, generator=seeded_generator(1))
    _, private = score(write(noisy / "predictions.csv", labels * 0.12 + noise * 0.88))
    baseline, target = judges.MAP_THRESHOLDS["scenes"]
    assert baseline < private < target
    expected = round(judges.CSV_POINTS * (private - baseline) / (target - baseline), 2)
    assert judged(tmp_path, noisy) == (pytest.approx(expected), "")


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
            score(path)
        assert words in str(error.value), name


def test_a_faulty_handed_in_file_fails_the_cell_with_the_files_fault(labels, tmp_path):
    folder = tmp_path / "submission"
    frame = pd.read_csv(write(folder / heldout.CSV_FILE, labels))
    frame.drop(index=0).to_csv(folder / heldout.CSV_FILE, index=False)
    with pytest.raises(InvalidPredictions) as error:
        score(folder / heldout.CSV_FILE)
    assert judged(tmp_path, folder) == (0, str(error.value))
    points, words = judged(tmp_path, tmp_path / "nobody")
    assert points == 0 and "predictions.csv was not handed in" in words


def test_labels_changed_after_sealing_stop_the_scoring(labels, heldout_dir, tmp_path):
    path = write(tmp_path / "p.csv", labels)
    folder = heldout_dir / DEMO_KEY.fingerprint / multilabel_scenes.CACHE_NAME
    forged = torch.load(folder / store.LABELS_FILE, weights_only=True)
    forged["test_y"][:] = 1
    torch.save(forged, folder / store.LABELS_FILE)
    with pytest.raises(store.TamperedLabels):
        score(path)


def test_the_demo_key_reproduces_the_published_split_and_the_reference_score(heldout_dir,
                                                                            tmp_cache):
    heldout.prepare_scenes(DEMO_KEY)
    assert score(PUBLISHED_CSV) == PUBLISHED_SCORES

"""Grading a1 end to end with nbgrader: the sample submission, the unchanged starter, wrong answers.

The sample submission (``autograder/samples/a1_multilabel``) is the executed solution notebook
with its ``predictions.csv`` and ``runs/``. Graded, nothing retrains: each notebook takes seconds.
"""

import shutil

import nbformat
import pytest
from test_a1_checks import AP_IGNORING_TIES, FOUR_CHANNEL_REINITIALISED

from autograder.grade import grade_class
from autograder.samples import copy_submission, with_cell_replaced
from vislab.data import multilabel_scenes
from vislab.paths import REPO_ROOT

ID = "a1_multilabel"
SAMPLE = REPO_ROOT / "autograder" / "samples" / ID
STARTER = REPO_ROOT / "starter" / ID / f"{ID}.ipynb"
NOTEBOOK = f"{ID}.ipynb"


def autograded_points() -> dict[str, float]:
    """grade_id -> points of every autograded test cell of the source notebook."""
    nb = nbformat.read(REPO_ROOT / "assignments" / ID / NOTEBOOK, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"]
            for cell in nb.cells if cell.cell_type == "code"
            and cell.metadata.get("nbgrader", {}).get("grade")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    multilabel_scenes.load()  # build the scenes once, before parallel kernels need them
    submissions = tmp_path_factory.mktemp("a1_class")
    copy_submission(SAMPLE, submissions / "solution")
    (submissions / "starter").mkdir()
    shutil.copy(STARTER, submissions / "starter" / NOTEBOOK)
    for student, grade_id, source in [("ties", "average_precision", AP_IGNORING_TIES),
                                      ("reinit", "four_channel", FOUR_CHANNEL_REINITIALISED)]:
        copy_submission(SAMPLE, submissions / student)
        with_cell_replaced(SAMPLE / NOTEBOOK, grade_id, source, submissions / student / NOTEBOOK)
    workdir = tmp_path_factory.mktemp("a1_work")
    table = grade_class(ID, submissions, workdir, workers=2, progress=False)
    return table.set_index("student"), workdir


def test_sample_submission_gets_every_autograded_point(graded):
    table, _ = graded
    row = table.loc["solution"]
    assert row["status"] == "graded"
    for grade_id, points in autograded_points().items():
        assert row[grade_id] == points, grade_id


def test_unchanged_starter_scores_zero_without_stopping(graded):
    table, _ = graded
    row = table.loc["starter"]
    assert row["status"] == "graded"
    assert all(row[grade_id] == 0 for grade_id in autograded_points())


@pytest.mark.parametrize("student, lost", [("ties", "test_average_precision"),
                                           ("reinit", "test_four_channel")])
def test_a_wrong_answer_loses_exactly_its_points(graded, student, lost):
    table, _ = graded
    for grade_id, points in autograded_points().items():
        expected = 0 if grade_id == lost else points
        assert table.loc[student, grade_id] == expected, grade_id


def test_feedback_says_what_is_wrong_without_test_code(graded):
    _, workdir = graded
    html = (workdir / "feedback" / "ties" / ID / f"{ID}.html").read_text()
    assert "tied scores are one threshold" in html
    assert "BEGIN HIDDEN TESTS" not in html and "most recent call last" not in html


def test_leaderboard_ranks_the_csv(graded):
    _, workdir = graded
    board = (workdir / f"{ID}_leaderboard.csv").read_text()
    assert "solution" in board and "was not handed in" in board

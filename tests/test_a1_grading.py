"""Grading a1 end to end with nbgrader: the sample submission, the unchanged starter, wrong answers.

The sample submission (``autograder/samples/a1_multilabel``) is the executed solution notebook
with its ``predictions.csv`` and ``runs/``. Graded, nothing retrains: each notebook takes seconds.
"""

import pytest
from test_a1_checks import AP_IGNORING_TIES, FOUR_CHANNEL_REINITIALISED

from autograder.grade import grade_class
from autograder.samples import autograded_points, sample_class
from vislab.a1_multilabel import scenes as multilabel_scenes

ID = "a1_multilabel"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    multilabel_scenes.load()  # build the scenes once, before parallel kernels need them
    submissions = sample_class(ID, tmp_path_factory.mktemp("a1_class"), {
        "ties": {"average_precision": AP_IGNORING_TIES},
        "reinit": {"four_channel": FOUR_CHANNEL_REINITIALISED}})
    workdir = tmp_path_factory.mktemp("a1_work")
    table = grade_class(ID, submissions, workdir, workers=2, progress=False)
    return table.set_index("student"), workdir


def test_sample_submission_gets_every_autograded_point(graded):
    table, _ = graded
    row = table.loc["solution"]
    assert row["status"] == "graded"
    for grade_id, points in autograded_points(ID).items():
        assert row[grade_id] == points, grade_id


def test_unchanged_starter_scores_zero_without_stopping(graded):
    table, _ = graded
    row = table.loc["starter"]
    assert row["status"] == "graded"
    assert all(row[grade_id] == 0 for grade_id in autograded_points(ID))


@pytest.mark.parametrize("student, lost", [("ties", "test_average_precision"),
                                           ("reinit", "test_four_channel")])
def test_a_wrong_answer_loses_exactly_its_points(graded, student, lost):
    table, _ = graded
    for grade_id, points in autograded_points(ID).items():
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

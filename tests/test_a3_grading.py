"""The demo class of a3_cifar graded end to end: the issue's acceptance criteria, asserted."""

import pytest

from autograder.course import WorkCourse
from autograder.demo import PARTIAL_LOSSES, run_demo
from autograder.gradebook_export import cell_max_points

MANUAL_CELLS = {"ablation_answer", "filters_answer"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("a3_demo")
    table = run_demo(workdir, workers=2).set_index("student")
    max_points = cell_max_points(WorkCourse(workdir), "a3_cifar", list(table.columns))
    auto_cells = [cell for cell in max_points if cell not in MANUAL_CELLS]
    return table, workdir, max_points, auto_cells


def test_solution_gets_full_autograded_marks(graded):
    table, _, max_points, auto_cells = graded
    row = table.loc["solution"]
    assert row["status"] == "graded", row["reason"]
    assert {cell: row[cell] for cell in auto_cells} == {cell: max_points[cell] for cell in auto_cells}
    assert row["manual_pending"] == len(MANUAL_CELLS)
    assert list(max_points)[:3] == ["test_conv_by_hand", "test_invariance", "test_output_size"], \
        "the grade table lists cells in notebook order"


def test_unchanged_starter_gets_zero_without_stopping_the_run(graded):
    table, _, _, auto_cells = graded
    row = table.loc["starter"]
    assert row["status"] == "graded"
    assert row[auto_cells].sum() == 0
    assert "improved_a.csv" in row["reason"], "the grade table says the CSVs were not handed in"


def test_partly_correct_loses_exactly_its_wrong_parts(graded):
    table, _, _, auto_cells = graded
    for cell in auto_cells:
        expected = table.loc["solution", cell] - PARTIAL_LOSSES.get(cell, 0)
        assert table.loc["partial", cell] == expected, cell


def test_broken_notebook_is_reported_and_scored_zero(graded):
    table, *_ = graded
    row = table.loc["broken"]
    assert row["status"] == "not graded" and row["total"] == 0
    assert "not valid JSON" in row["reason"]


def test_deleted_test_cell_scores_zero_and_is_named(graded):
    table, _, max_points, auto_cells = graded
    row = table.loc["deleter"]
    assert row["test_invariance"] == 0 and "test_invariance" in row["reason"]
    assert row["manual_pending"] == len(MANUAL_CELLS), "a deleted cell scores 0, no TA needed"
    others = [cell for cell in auto_cells if cell != "test_invariance"]
    assert all(row[cell] == max_points[cell] for cell in others)


def _test_cell_blocks(html: str) -> list[str]:
    """The HTML of each graded test cell with its outputs (from its prompt to the next one)."""
    return [block for block in html.split('<div class="cell ') if "Grade cell:" in block]


@pytest.mark.parametrize("student", ["solution", "starter", "partial"])
def test_feedback_never_shows_hidden_tests_or_tracebacks(graded, student):
    _, workdir, _, _ = graded
    html = (workdir / "feedback" / student / "a3_cifar" / "a3_cifar.html").read_text()
    for leak in ("BEGIN HIDDEN TESTS", "autograder.checks", "hidden.conv_by_hand",
                 "site-packages/autograder", "/autograder/checks/"):
        assert leak not in html, f"{student}'s feedback shows {leak!r}"
    blocks = _test_cell_blocks(html)
    assert len(blocks) >= 10
    for block in blocks:  # a student's own cell may show its traceback; a test cell never does
        assert "most recent call last" not in block and "Cell In[" not in block


def test_feedback_names_the_failed_check_in_words(graded):
    _, workdir, _, _ = graded
    html = (workdir / "feedback" / "partial" / "a3_cifar" / "a3_cifar.html").read_text()
    assert "Hidden check failed: conv_by_hand" in html
    assert "2 of the 15 entries are wrong" in html


def test_leaderboard_ranks_scored_files_and_explains_missing_ones(graded):
    _, workdir, _, _ = graded
    import pandas as pd

    board = pd.read_csv(workdir / "a3_cifar_leaderboard.csv").set_index("student")
    assert board.loc["solution", "private_accuracy"] > 0.88
    assert board.loc[["solution", "partial", "deleter"], "rank"].tolist() == [1, 1, 1], \
        "equal scores share a rank"
    assert board.loc["starter", "rank"] == 4
    assert "was not handed in" in board.loc["starter", "problem"]

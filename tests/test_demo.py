"""The demo (the README's main job): a class of a3_cifar with a broken notebook and a deleted cell.

What every assignment's class shows (reference, starter, known-wrong students) is asserted in
``test_grading_assignments.py``; this file asserts what only the demo's extra students show.
"""

import pandas as pd
import pytest

from autograder.course import WorkCourse
from autograder.demo import DELETED_CELL
from autograder.gradebook_export import cell_max_points

MANUAL_CELLS = {"ablation_answer", "filters_answer"}


@pytest.fixture(scope="module")
def graded(graded_demo):
    table, workdir = graded_demo
    table = table.set_index("student")
    max_points = cell_max_points(WorkCourse(workdir), "a3_cifar", list(table.columns))
    auto_cells = [cell for cell in max_points if cell not in MANUAL_CELLS]
    return table, workdir, max_points, auto_cells


def test_the_grade_table_lists_cells_in_notebook_order_and_waits_for_a_ta(graded):
    table, _, max_points, _ = graded
    assert list(max_points)[:3] == ["test_conv_by_hand", "test_invariance", "test_output_size"]
    assert table.loc["solution", "manual_pending"] == len(MANUAL_CELLS)


def test_unhanded_csvs_are_named_in_the_starters_reason(graded):
    table, *_ = graded
    assert "improved_a.csv" in table.loc["starter", "reason"]


def test_broken_notebook_is_reported_and_scored_zero(graded):
    table, *_ = graded
    row = table.loc["broken"]
    assert row["status"] == "not graded" and row["total"] == 0
    assert "not valid JSON" in row["reason"]


def test_deleted_test_cell_scores_zero_and_is_named(graded):
    table, _, max_points, auto_cells = graded
    row = table.loc["deleter"]
    assert row[DELETED_CELL] == 0 and DELETED_CELL in row["reason"]
    assert row["manual_pending"] == len(MANUAL_CELLS), "a deleted cell scores 0, no TA needed"
    others = [cell for cell in auto_cells if cell != DELETED_CELL]
    assert all(row[cell] == max_points[cell] for cell in others)


def test_leaderboard_ranks_only_scored_files_and_gives_equal_scores_one_rank(graded):
    _, workdir, _, _ = graded
    board = pd.read_csv(workdir / "a3_cifar_leaderboard.csv").set_index("student")
    assert board.loc["solution", "private_accuracy"] > 0.88
    assert board.loc[["solution", "partial", "deleter"], "rank"].tolist() == [1, 1, 1]
    assert pd.isna(board.loc["starter", "rank"]), "a file that was not scored has no rank"
    assert "was not handed in" in board.loc["starter", "problem"]
    assert "broken" not in board.index, "a student who was not graded is not on the board"


def test_grading_writes_the_class_report_with_its_plots(graded):
    _, workdir, _, _ = graded
    html = (workdir / "a3_cifar_report.html").read_text()
    for section in ("Score distribution", "Pass rate of every check", "Leaderboard"):
        assert section in html
    for plot in ("scores", "checks"):
        assert (workdir / f"a3_cifar_report_{plot}.png").stat().st_size > 10_000
    assert "broken" in html and "not valid JSON" in html, "the failed submission is listed"


def test_feedback_summary_names_each_check_with_its_result_and_waits_for_a_ta(graded):
    _, workdir, max_points, _ = graded
    page = (WorkCourse(workdir).feedback("partial", "a3_cifar") / "a3_cifar.html").read_text()
    assert "Test cell</a>" not in page and "Written response</a>" not in page
    for cell in MANUAL_CELLS:
        assert f'written answer {cell}</a>: waiting for a TA ({max_points[cell]:g} points)' in page
    assert 'check test_invariance</a>: 1 / 1 points, passed' in page
    assert 'check test_conv_by_hand</a>: 0 / 3 points, conv_by_hand: 2 of the 15 entries are wrong' \
        in page


def test_feedback_says_what_was_wrong_with_the_hand_in(graded):
    _, workdir, _, _ = graded
    course = WorkCourse(workdir)
    deleter = (course.feedback("deleter", "a3_cifar") / "a3_cifar.html").read_text()
    problems = deleter.split('class="alert alert-warning vislab-problems"', 1)
    assert len(problems) == 2, "the deleter's page says nothing about the deleted test cell"
    assert "graded cells deleted from a3_cifar.ipynb, scored 0: test_invariance" in problems[1]
    starter = (course.feedback("starter", "a3_cifar") / "a3_cifar.html").read_text()
    assert "predictions.csv was not handed in" in starter
    solution = (course.feedback("solution", "a3_cifar") / "a3_cifar.html").read_text()
    assert "vislab-problems" not in solution

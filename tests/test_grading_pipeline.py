"""End-to-end grading of a tiny assignment: the machinery every assignment relies on."""

import shutil

import pytest
from conftest import TINY_ID

from autograder.course import open_work_course
from autograder.grade import grade_class
from autograder.sample_classes import with_cell_deleted


def _class_of(tiny_assignment, tmp_path):
    """Submissions: the solution, the unchanged starter, a broken JSON file, a deleted test cell."""
    course = open_work_course(tmp_path / "setup", TINY_ID, tiny_assignment)
    starter = course.root / "release" / TINY_ID / f"{TINY_ID}.ipynb"
    solution = tiny_assignment / TINY_ID / f"{TINY_ID}.ipynb"
    submissions = tmp_path / "submissions"
    for student, source in [("solution", solution), ("starter", starter)]:
        (submissions / student).mkdir(parents=True)
        shutil.copy(source, submissions / student / f"{TINY_ID}.ipynb")
    (submissions / "broken").mkdir()
    (submissions / "broken" / f"{TINY_ID}.ipynb").write_text('{"cells": [')
    with_cell_deleted(solution, "test_mul_with_warning",
                      submissions / "deleter" / f"{TINY_ID}.ipynb")
    (submissions / "nested" / TINY_ID).mkdir(parents=True)  # nbgrader's submitted/ layout
    shutil.copy(solution, submissions / "nested" / TINY_ID / f"{TINY_ID}.ipynb")
    looping = (submissions / "solution" / f"{TINY_ID}.ipynb").read_text().replace(
        "return a * b", "while True:\\n        pass")
    (submissions / "looper").mkdir()
    (submissions / "looper" / f"{TINY_ID}.ipynb").write_text(looping)
    (submissions / "misnamed").mkdir()
    shutil.copy(solution, submissions / "misnamed" / "my_homework.ipynb")
    return submissions


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from conftest import write_tiny_assignment

    tmp_path = tmp_path_factory.mktemp("class")
    assignments = tmp_path / "assignments"
    write_tiny_assignment(assignments)
    submissions = _class_of(assignments, tmp_path)
    workdir = tmp_path / "work"
    table = grade_class(TINY_ID, submissions, workdir, workers=2, progress=False,
                        assignments_dir=assignments, cell_timeout=20).set_index("student")
    return table, workdir, submissions, assignments


def test_solution_gets_full_marks_and_partial_credit_is_read(graded):
    table, *_ = graded
    row = table.loc["solution"]
    assert row["status"] == "graded"
    assert row["test_add"] == 2
    assert row["test_mul_with_warning"] == 1, "a warning on stderr must not zero a passing cell"
    assert row["test_partial"] == 1.5
    assert row["total"] == 4.5
    assert row["max_total"] == 6


def test_an_endless_loop_is_stopped_and_only_its_cells_lose_points(graded):
    table, workdir, *_ = graded
    row = table.loc["looper"]
    assert row["status"] == "graded"
    assert row["test_add"] == 2 and row["test_mul_with_warning"] == 0
    html = (workdir / "feedback" / "looper" / TINY_ID / f"{TINY_ID}.html").read_text()
    assert "ran out of time while grading" in html


def test_a_nested_assignment_folder_is_found(graded):
    table, *_ = graded
    assert table.loc["nested", "total"] == table.loc["solution", "total"]


def test_a_notebook_under_another_name_is_reported(graded):
    table, *_ = graded
    row = table.loc["misnamed"]
    assert row["status"] == "not graded"
    assert "no t0_tiny.ipynb handed in" in row["reason"] and "my_homework.ipynb" in row["reason"]


def test_unchanged_starter_scores_zero_without_stopping(graded):
    table, *_ = graded
    row = table.loc["starter"]
    assert row["status"] == "graded"
    assert row["total"] == 0


def test_invalid_json_gets_a_reason_and_zero(graded):
    table, *_ = graded
    row = table.loc["broken"]
    assert row["status"] == "not graded"
    assert "not valid JSON" in row["reason"]
    assert row["total"] == 0


def test_deleted_test_cell_scores_zero_with_a_reason(graded):
    table, *_ = graded
    row = table.loc["deleter"]
    assert row["status"] == "graded"
    assert row["test_mul_with_warning"] == 0
    assert "test_mul_with_warning" in row["reason"]
    assert row["test_add"] == 2


def test_feedback_hides_hidden_tests_and_tracebacks(graded):
    table, workdir, *_ = graded
    html = (workdir / "feedback" / "starter" / TINY_ID / f"{TINY_ID}.html").read_text()
    assert "BEGIN HIDDEN TESTS" not in html
    assert "CheckFailed(" not in html and "partial_points" not in html
    assert "most recent call last" not in html and "Cell In[" not in html  # no stack frames
    assert "Not done yet" in html  # the starter's NotImplementedError, in a student's words


def test_hidden_check_failure_is_named_in_feedback(graded, tmp_path):
    _, _, submissions, assignments = graded
    wrong = tmp_path / "wrong_class"
    (wrong / "wrong").mkdir(parents=True)
    source = (submissions / "solution" / f"{TINY_ID}.ipynb").read_text()
    (wrong / "wrong" / f"{TINY_ID}.ipynb").write_text(
        source.replace("return a + b", "return 2 if (a, b) == (1, 1) else 0"))
    table = grade_class(TINY_ID, wrong, tmp_path / "work", progress=False,
                        assignments_dir=assignments).set_index("student")
    assert table.loc["wrong", "test_add"] == 0
    html = (tmp_path / "work" / "feedback" / "wrong" / TINY_ID / f"{TINY_ID}.html").read_text()
    assert "Hidden check failed: add_hidden" in html
    assert "add(2, 3) should be 5" in html
    assert "if add(2, 3) != 5" not in html


def test_regrading_gives_the_same_grades(graded):
    table, workdir, submissions, assignments = graded
    again = grade_class(TINY_ID, submissions, workdir, workers=1, progress=False,
                        assignments_dir=assignments, cell_timeout=20).set_index("student")
    columns = ["status", "total", "test_add", "test_mul_with_warning", "test_partial"]
    assert again[columns].equals(table[columns])
    assert (workdir / f"{TINY_ID}_grades.csv").exists()

"""End-to-end grading of a tiny assignment in real sandboxes: the machinery every assignment
relies on (intake, restored test cells, crashes, timeouts, judging outside, feedback)."""

import shutil

import nbformat
import pytest
from conftest import TINY_ID, write_tiny_assignment

from autograder.course import open_work_course
from autograder.grade import grade_class
from autograder.notebook_cells import find_cell
from autograder.sample_classes import with_cell_deleted, with_cell_replaced


def _notebook_with(solution, replace: dict[str, str], out):
    """The solution notebook with the sources of some cells replaced (by grade_id)."""
    for grade_id, source in replace.items():
        with_cell_replaced(solution if not out.exists() else out, grade_id, source, out)
    return out


def _class_of(assignments, tmp_path):
    """Submissions: the solution, the starter, a broken file, deleted/duplicated/edited test
    cells, an endless loop, a kernel that exits, a wrong answer, nbgrader's nested layout."""
    course = open_work_course(tmp_path / "setup", TINY_ID, assignments)
    starter = course.root / "release" / TINY_ID / f"{TINY_ID}.ipynb"
    solution = assignments / TINY_ID / f"{TINY_ID}.ipynb"
    notebook = f"{TINY_ID}.ipynb"
    submissions = tmp_path / "submissions"
    for student, source in [("solution", solution), ("starter", starter)]:
        (submissions / student).mkdir(parents=True)
        shutil.copy(source, submissions / student / notebook)
    (submissions / "broken").mkdir()
    (submissions / "broken" / notebook).write_text('{"cells": [')
    with_cell_deleted(solution, "test_mul_with_warning", submissions / "deleter" / notebook)
    (submissions / "nested" / TINY_ID).mkdir(parents=True)  # nbgrader's submitted/ layout
    shutil.copy(solution, submissions / "nested" / TINY_ID / notebook)
    _notebook_with(solution, {"mul": "def mul(a, b):\n    while True:\n        pass"},
                   submissions / "looper" / notebook)
    _notebook_with(solution, {"mul": "import os\nos._exit(0)"}, submissions / "exiter" / notebook)
    _notebook_with(solution, {"add": "def add(a, b):\n    return 2 if (a, b) == (1, 1) else 0"},
                   submissions / "wrong" / notebook)
    _notebook_with(solution, {"test_add": "print('no test here')"}, submissions / "editor" / notebook)
    nb = nbformat.read(starter, as_version=4)
    test_add = find_cell(nb, "test_add")
    copied = nbformat.v4.new_code_cell(test_add.source, metadata=test_add.metadata)
    nb.cells.insert(3, copied)  # a copy-paste
    for cell in nb.cells:  # ... of the solved notebook
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = find_cell(nbformat.read(solution, as_version=4),
                                    cell.metadata.nbgrader.grade_id).source
    (submissions / "duplicator").mkdir()
    nbformat.write(nb, submissions / "duplicator" / notebook)
    (submissions / "misnamed").mkdir()
    shutil.copy(solution, submissions / "misnamed" / "my_homework.ipynb")
    return submissions


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("class")
    assignments, checks = write_tiny_assignment(tmp_path)
    submissions = _class_of(assignments, tmp_path)
    workdir = tmp_path / "work"
    table = grade_class(TINY_ID, submissions, workdir, workers=2, progress=False,
                        assignments_dir=assignments, checks_dir=checks, cell_timeout=20,
                        demo_key=True).set_index("student")
    return table, workdir, submissions, assignments, checks


def _feedback(workdir, student):
    return (workdir / "feedback" / student / TINY_ID / f"{TINY_ID}.html").read_text()


def test_solution_gets_full_marks_and_partial_credit(graded):
    table, *_ = graded
    row = table.loc["solution"]
    assert row["status"] == "graded", row["reason"]
    assert (row["test_add"], row["test_mul_with_warning"], row["test_partial"]) == (2, 1, 1.5)
    assert row["total"] == 4.5 and row["max_total"] == 6
    assert row["reason"] == ""


def test_a_warning_on_stderr_does_not_zero_a_passing_cell(graded):
    table, *_ = graded
    assert table.loc["solution", "test_mul_with_warning"] == 1


def test_an_endless_loop_is_stopped_and_only_its_cells_lose_points(graded):
    table, workdir, *_ = graded
    row = table.loc["looper"]
    assert row["status"] == "graded"
    assert row["test_add"] == 2 and row["test_mul_with_warning"] == 0
    assert "ran out of time while grading" in _feedback(workdir, "looper")


def test_a_kernel_that_dies_keeps_the_points_of_the_cells_before(graded):
    table, *_ = graded
    row = table.loc["exiter"]
    assert row["status"] == "graded"
    assert row["test_add"] == 2 and row["test_mul_with_warning"] == 0 and row["test_partial"] == 0
    assert "(mul)" in row["reason"] and "test_partial" in row["reason"], row["reason"]


def test_a_duplicated_test_cell_is_graded_once_with_a_reason(graded):
    table, *_ = graded
    row = table.loc["duplicator"]
    assert (row["test_add"], row["test_mul_with_warning"], row["test_partial"]) == (2, 1, 1.5)
    assert "test_add appears 2 times" in row["reason"]


def test_an_edited_test_cell_is_graded_with_its_original_code(graded):
    table, *_ = graded
    row = table.loc["editor"]
    assert row["test_add"] == 2 and "test_add was edited" in row["reason"]


def test_a_nested_assignment_folder_is_found(graded):
    table, *_ = graded
    assert table.loc["nested", "total"] == table.loc["solution", "total"]


def test_a_notebook_under_another_name_is_reported_with_a_page(graded):
    table, workdir, *_ = graded
    row = table.loc["misnamed"]
    assert row["status"] == "not graded"
    assert "no t0_tiny.ipynb handed in" in row["reason"] and "my_homework.ipynb" in row["reason"]
    assert "my_homework.ipynb" in _feedback(workdir, "misnamed")


def test_unchanged_starter_scores_zero_without_stopping(graded):
    table, *_ = graded
    row = table.loc["starter"]
    assert row["status"] == "graded" and row["total"] == 0


def test_invalid_json_gets_a_reason_zero_and_a_page_that_says_why(graded):
    table, workdir, *_ = graded
    row = table.loc["broken"]
    assert row["status"] == "not graded" and row["total"] == 0
    assert "not valid JSON" in row["reason"]
    assert "not valid JSON" in _feedback(workdir, "broken")


def test_deleted_test_cell_scores_zero_with_a_reason(graded):
    table, *_ = graded
    row = table.loc["deleter"]
    assert row["status"] == "graded"
    assert row["test_mul_with_warning"] == 0 and "test_mul_with_warning" in row["reason"]
    assert row["test_add"] == 2


def test_feedback_names_the_failed_check_and_hides_the_hidden_tests(graded):
    table, workdir, *_ = graded
    assert table.loc["wrong", "test_add"] == 0
    html = _feedback(workdir, "wrong")
    assert "add(2, 3) should be 5" in html
    for leak in ("BEGIN HIDDEN TESTS", "evidence.add_results", "most recent call last",
                 "Cell In["):
        assert leak not in html


def test_the_starters_feedback_says_not_done_yet_in_words(graded):
    _, workdir, *_ = graded
    html = _feedback(workdir, "starter")
    assert "Not done yet" in html and "most recent call last" not in html


def test_regrading_gives_the_same_grades(graded):
    table, workdir, submissions, assignments, checks = graded
    again = grade_class(TINY_ID, submissions, workdir, workers=2, progress=False,
                        assignments_dir=assignments, checks_dir=checks, cell_timeout=20,
                        demo_key=True).set_index("student")
    columns = ["status", "total", "test_add", "test_mul_with_warning", "test_partial"]
    assert again[columns].equals(table[columns])
    assert (workdir / f"{TINY_ID}_grades.csv").exists()

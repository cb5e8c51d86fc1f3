"""Every assignment graded end to end: its reference submission, the unchanged starter and its
known-wrong students (``autograder.known_wrong.<id>``), in one class per assignment.

The reference submission (``autograder/samples/<id>``) is the executed solution notebook with
the files it wrote. Graded, nothing retrains. Each known-wrong student loses exactly the points
of the test cells its mistakes break, and its feedback names each cause in words.
"""

import importlib
import re
from html import unescape

import pandas as pd
import pytest

from autograder.demo import ASSIGNMENT as DEMO_ASSIGNMENT
from autograder.grade import grade_class
from autograder.known_wrong import class_sources, expected_zeroes
from autograder.notebook_cells import autograded_points, read_notebook, source_notebook
from autograder.sample_classes import SAMPLES, sample_class
from vislab.paths import REPO_ROOT

ASSIGNMENTS = ["a1_multilabel", "a2_bn_folding", "a3_cifar", "a4_detection"]
#: feedback of graded test cells never shows these
LEAKS = ("BEGIN HIDDEN TESTS", "autograder.checks", "MARK SCHEME", "most recent call last")


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    assignment_id = request.param
    known_wrong = importlib.import_module(f"autograder.known_wrong.{assignment_id}")
    if assignment_id == DEMO_ASSIGNMENT:  # the demo's class holds this class: grade it once
        table, workdir = request.getfixturevalue("graded_demo")
    else:
        submissions = sample_class(assignment_id,
                                   tmp_path_factory.mktemp(f"{assignment_id}_class"),
                                   class_sources(known_wrong.KNOWN_WRONG, known_wrong.CLASS))
        workdir = tmp_path_factory.mktemp(f"{assignment_id}_work")
        table = grade_class(assignment_id, submissions, workdir, workers=2, progress=False,
                            demo_key=True)
    points = autograded_points(read_notebook(source_notebook(assignment_id)))
    return assignment_id, known_wrong, table.set_index("student"), workdir, points


def test_sample_submission_gets_every_autograded_point(graded):
    _, _, table, _, points = graded
    row = table.loc["solution"]
    assert row["status"] == "graded", row["reason"]
    assert {cell: row[cell] for cell in points} == points


def test_unchanged_starter_scores_zero_without_stopping(graded):
    _, _, table, _, points = graded
    row = table.loc["starter"]
    assert row["status"] == "graded"
    assert {cell: row[cell] for cell in points} == dict.fromkeys(points, 0)


def test_each_known_wrong_student_loses_exactly_the_cells_its_mistakes_break(graded):
    _, known_wrong, table, _, points = graded
    for student, mistakes in known_wrong.CLASS.items():
        zeroed = expected_zeroes(known_wrong.KNOWN_WRONG, mistakes)
        expected = {cell: 0 if cell in zeroed else max_points for cell, max_points in points.items()}
        assert {cell: table.loc[student, cell] for cell in points} == expected, student


def _feedback(workdir, student: str, assignment_id: str) -> str:
    return (workdir / "feedback" / student / assignment_id / f"{assignment_id}.html").read_text()


def _test_cell_blocks(html: str) -> list[str]:
    """The HTML of each graded test cell with its outputs (from its prompt to the next one)."""
    cells = re.split(r'<div [^>]*\bclass="cell ', html)  # the cell's id may come first
    return [block for block in cells if '"nbgrader-label">Check ' in block]


def test_feedback_names_each_cause_in_words_and_never_shows_test_code(graded):
    assignment_id, known_wrong, _, workdir, _ = graded
    for student, mistakes in known_wrong.CLASS.items():
        html = _feedback(workdir, student, assignment_id)
        text = unescape(re.sub(r"<[^>]+>", "", html))
        for cell, words in expected_zeroes(known_wrong.KNOWN_WRONG, mistakes).items():
            assert words in text, f"{student}'s feedback does not say {words!r} ({cell})"
    for student in ["solution", "starter", *known_wrong.CLASS]:
        blocks = _test_cell_blocks(_feedback(workdir, student, assignment_id))
        assert blocks, f"{student}'s feedback shows no test cell"
        for block in blocks:
            assert not [leak for leak in LEAKS if leak in block], student


def test_leaderboard_ranks_the_reference_and_explains_a_missing_file(graded):
    assignment_id, _, _, workdir, _ = graded
    path = workdir / f"{assignment_id}_leaderboard.csv"
    if assignment_id == "a2_bn_folding":
        assert not path.exists(), "a2 has no predictions CSV, so no leaderboard"
        return
    board = pd.read_csv(path).set_index("student")
    assert board.loc["solution", "rank"] == 1
    assert "was not handed in" in board.loc["starter", "problem"]


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_sample_submission_is_the_current_solution_executed(assignment_id):
    solution = read_notebook(REPO_ROOT / "solutions" / assignment_id / f"{assignment_id}.ipynb")
    sample = read_notebook(SAMPLES / assignment_id / f"{assignment_id}.ipynb")
    assert [c.source for c in sample.cells] == [c.source for c in solution.cells], \
        f"the sample is stale: execute solutions/{assignment_id}/{assignment_id}.ipynb in its folder"
    assert any(c.outputs for c in sample.cells if c.cell_type == "code"), "the sample is executed"
    assert (SAMPLES / assignment_id / "runs").is_dir(), "the sample hands in its saved runs"

"""Grading a2 end to end with nbgrader: the sample submission, the unchanged starter, wrong answers.

The sample submission (``autograder/samples/a2_bn_folding``) is the executed solution notebook
with its ``runs/``. Graded, nothing retrains. The wrong submission holds the four known-wrong
answers the issue names (forgets eps in case B, detaches the normalisation, folds with batch
statistics, mutates the original model), each in its own cell: the checks are independent, so it
loses exactly the points of those four cells, each with a message that names the cause.
"""

import re
from html import unescape

import nbformat
import pytest
from test_a2_checks import KNOWN_WRONG

from autograder.grade import grade_class
from autograder.samples import autograded_points, sample_class
from vislab.a2_bn_folding.photos import load_heldout_photos
from vislab.paths import REPO_ROOT

ID = "a2_bn_folding"
SAMPLE = REPO_ROOT / "autograder" / "samples" / ID
NOTEBOOK = f"{ID}.ipynb"
#: the known-wrong answers of the wrong submission, the test cell each must zero, and what its
#: feedback says (the visible assert of that cell fails first, with a message naming the cause)
WRONG_CELLS = {"forgets_eps_in_case_b": ("test_adjust_running_stats", "leaves eps unscaled"),
               "detaches_the_normalisation": ("test_normalized_conv_gradient",
                                              "n_c depends on W"),
               "folds_with_batch_statistics": ("test_fold_model", "not statistics of a batch"),
               "mutates_the_original_model": ("test_convert_model_copies",
                                              "return a converted copy, not the original")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    load_heldout_photos()  # build the crops once, before parallel kernels need them
    wrong = {KNOWN_WRONG[name][0]: KNOWN_WRONG[name][1].strip() for name in WRONG_CELLS}
    submissions = sample_class(ID, tmp_path_factory.mktemp("a2_class"), {"wrong": wrong})
    workdir = tmp_path_factory.mktemp("a2_work")
    table = grade_class(ID, submissions, workdir, workers=2, progress=False)
    return table.set_index("student"), workdir


def test_sample_submission_gets_every_autograded_point(graded):
    table, _ = graded
    row = table.loc["solution"]
    assert row["status"] == "graded", row["reason"]
    for grade_id, points in autograded_points(ID).items():
        assert row[grade_id] == points, grade_id


def test_unchanged_starter_scores_zero_without_stopping(graded):
    table, _ = graded
    row = table.loc["starter"]
    assert row["status"] == "graded"
    assert all(row[grade_id] == 0 for grade_id in autograded_points(ID))


def test_each_known_wrong_answer_loses_exactly_its_points(graded):
    table, _ = graded
    lost = {grade_id for grade_id, _ in WRONG_CELLS.values()}
    for grade_id, points in autograded_points(ID).items():
        expected = 0 if grade_id in lost else points
        assert table.loc["wrong", grade_id] == expected, grade_id


def test_feedback_names_each_cause_without_test_code(graded):
    _, workdir = graded
    html = (workdir / "feedback" / "wrong" / ID / f"{ID}.html").read_text()
    errors = [unescape(m) for m in re.findall(r"(?:AssertionError|Hidden check failed)[^<]*", html)]
    assert len(errors) == len(WRONG_CELLS)
    for name, (_, cause) in WRONG_CELLS.items():
        assert any(cause in error for error in errors), name
    assert "BEGIN HIDDEN TESTS" not in html and "most recent call last" not in html
    assert "MARK SCHEME" not in html


def test_sample_submission_is_the_current_solution_with_its_runs():
    solution = nbformat.read(REPO_ROOT / "solutions" / ID / NOTEBOOK, as_version=4)
    sample = nbformat.read(SAMPLE / NOTEBOOK, as_version=4)
    assert [c.source for c in sample.cells] == [c.source for c in solution.cells], \
        "the sample is stale: execute solutions/a2_bn_folding/a2_bn_folding.ipynb in its folder"
    assert all(c.outputs for c in sample.cells if c.cell_type == "code" and c.source.strip()
               and "def " not in c.source and "class " not in c.source), "the sample is executed"
    assert sorted(p.name for p in (SAMPLE / "runs").iterdir()) == [
        "converted_a.json", "converted_b.json", "original.json"]

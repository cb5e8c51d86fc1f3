"""starter/ and solutions/ are generated from assignments/ and must never drift from it."""

import ast
import filecmp
import json

import pytest

from autograder.build import build_assignment
from autograder.course import REPO_ROOT, assignment_ids

ASSIGNMENT_IDS = assignment_ids()


def _differences(left, right) -> list[str]:
    comparison = filecmp.dircmp(left, right)
    found = [f"only in {left}: {n}" for n in comparison.left_only]
    found += [f"only in {right}: {n}" for n in comparison.right_only]
    found += [f"differs: {n}" for n in comparison.diff_files]
    for name in comparison.common_dirs:
        found += _differences(left / name, right / name)
    return found


def test_there_are_assignments():
    assert "a3_cifar" in ASSIGNMENT_IDS


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_generated_versions_are_up_to_date(assignment_id, tmp_path):
    build_assignment(assignment_id, tmp_path / "starter", tmp_path / "solutions")
    for kind in ("starter", "solutions"):
        stale = _differences(tmp_path / kind / assignment_id, REPO_ROOT / kind / assignment_id)
        assert not stale, (f"{kind}/{assignment_id} is out of date with assignments/: run "
                           f"`python -m autograder build {assignment_id}` ({stale})")


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_released_notebooks_hold_no_solution_hidden_test_or_output(assignment_id):
    for notebook in (REPO_ROOT / "starter" / assignment_id).glob("*.ipynb"):
        text = notebook.read_text()
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME"):
            assert marker not in text, f"{notebook} holds {marker}"
    for notebook in (REPO_ROOT / "solutions" / assignment_id).glob("*.ipynb"):
        assert "BEGIN HIDDEN TESTS" not in notebook.read_text()
    for notebook in (REPO_ROOT / "assignments" / assignment_id).glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), \
            f"{notebook}: source notebooks carry no outputs"


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_every_visible_assert_says_in_words_what_it_expects(assignment_id):
    """Validate and the feedback show a failed visible assert's message; a bare assert shows
    only ``AssertionError``."""
    bare = []
    for notebook in (REPO_ROOT / "starter" / assignment_id).glob("*.ipynb"):
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("grade"):
                source = "".join(cell["source"])
                bare += [f"{cell['metadata']['nbgrader']['grade_id']}: "
                         f"{ast.get_source_segment(source, node)}"
                         for node in ast.walk(ast.parse(source))
                         if isinstance(node, ast.Assert) and node.msg is None]
    assert not bare, f"asserts without a message: {bare}"

"""Shared fixtures: an isolated vislab cache, and a tiny nbgrader assignment for grading tests."""

from pathlib import Path

import nbformat
import pytest


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch) -> Path:
    """Point ``VISLAB_CACHE`` at an empty folder for the test."""
    cache = tmp_path / "vislab-cache"
    monkeypatch.setenv("VISLAB_CACHE", str(cache))
    return cache


def _cell(kind: str, source: str, grade_id: str | None = None, points: float | None = None,
          solution: bool = False):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" \
        else nbformat.v4.new_markdown_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {
            "grade": points is not None, "solution": solution, "locked": not solution,
            "grade_id": grade_id, "schema_version": 3, **({"points": points} if points else {})}
    return cell


TINY_ID = "t0_tiny"
#: grade_id -> points of the tiny assignment
TINY_POINTS = {"test_add": 2, "test_mul_with_warning": 1, "test_partial": 3}


def write_tiny_assignment(assignments_dir: Path) -> Path:
    """A source notebook with a hidden check, a test cell that warns on stderr, partial credit."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        _cell("markdown", "# Tiny assignment\nWrite `add` and `mul`."),
        _cell("code", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n"
                      "    ### END SOLUTION", "add", solution=True),
        _cell("code", "assert add(1, 1) == 2\n### BEGIN HIDDEN TESTS\n"
                      "from autograder.checks.core import CheckFailed\n"
                      "if add(2, 3) != 5:\n"
                      "    raise CheckFailed('add_hidden', 'add(2, 3) should be 5')\n"
                      "### END HIDDEN TESTS", "test_add", points=2),
        _cell("code", "def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n"
                      "    ### END SOLUTION", "mul", solution=True),
        _cell("code", "import warnings\nwarnings.warn('a harmless library warning')\n"
                      "assert mul(2, 3) == 6", "test_mul_with_warning", points=1),
        _cell("code", "### BEGIN HIDDEN TESTS\nfrom autograder.checks.core import partial_points\n"
                      "mul(1, 1)\npartial_points(0.75, baseline=0.5, target=1.0, max_points=3)\n"
                      "### END HIDDEN TESTS", "test_partial", points=3),
    ]
    folder = assignments_dir / TINY_ID
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{TINY_ID}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def tiny_assignment(tmp_path) -> Path:
    """The folder holding the tiny assignment's source (pass it as ``assignments_dir``)."""
    assignments_dir = tmp_path / "assignments"
    write_tiny_assignment(assignments_dir)
    return assignments_dir

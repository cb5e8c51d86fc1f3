"""Shared fixtures: an isolated vislab cache, and a tiny assignment for the grading pipeline.

The tiny assignment has no torch in it, so a sandboxed run of it takes about a second: it is
what the pipeline's own tests grade (each real assignment is graded end to end elsewhere).
"""

from pathlib import Path

import nbformat
import pytest


@pytest.fixture(scope="session")
def graded_demo(tmp_path_factory):
    """The README's main job, graded once for every test that reads it: ``(table, workdir)``.

    The demo class of a3_cifar holds the reference, the starter and the known-wrong student of
    every assignment's class, plus a broken notebook and a deleted test cell.
    """
    from autograder.demo import run_demo

    workdir = tmp_path_factory.mktemp("a3_demo")
    return run_demo(workdir, workers=2), workdir


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
#: grade_id -> points of the tiny assignment's test cells
TINY_POINTS = {"test_add": 2, "test_mul_with_warning": 1, "test_partial": 3}

TINY_EVIDENCE = '''
from autograder.evidence import outcome, record


def add_results(add):
    record("add", results=[outcome(add, 2, 3), outcome(add, -1, 1)])


def mul_results(mul):
    record("mul", results=[outcome(mul, 2, 3)])


def partial(mul):
    record("partial", one=outcome(mul, 1, 1))
'''
TINY_JUDGES = '''
import pytest


@pytest.mark.cell("test_add")
def test_add_hidden(evidence):
    results = evidence("add")["results"]
    assert results[0].get("value") == 5, "add(2, 3) should be 5"
    assert results[1].get("value") == 0, "add(-1, 1) should be 0"


@pytest.mark.cell("test_mul_with_warning")
def test_mul_hidden(evidence):
    assert evidence("mul")["results"][0].get("value") == 6, "mul(2, 3) should be 6"


@pytest.mark.cell("test_partial")
def test_partial_credit(evidence, credit):
    assert evidence("partial")["one"].get("value") == 1, "mul(1, 1) should be 1"
    credit(1.5)
'''


def write_tiny_assignment(root: Path) -> tuple[Path, Path]:
    """(assignments folder, checks folder) of a tiny assignment with hidden checks, a test cell
    that warns on stderr, and partial credit."""
    hidden = "### BEGIN HIDDEN TESTS\nfrom autograder.checks.t0_tiny import evidence\n{}\n" \
             "### END HIDDEN TESTS"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        _cell("markdown", "# Tiny assignment\nWrite `add` and `mul`."),
        _cell("code", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n"
                      "    ### END SOLUTION", "add", solution=True),
        _cell("code", "assert add(1, 1) == 2\n" + hidden.format("evidence.add_results(add)"),
              "test_add", points=2),
        _cell("code", "def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n"
                      "    ### END SOLUTION", "mul", solution=True),
        _cell("code", "import warnings\nwarnings.warn('a harmless library warning')\n"
                      "assert mul(2, 3) == 6\n" + hidden.format("evidence.mul_results(mul)"),
              "test_mul_with_warning", points=1),
        _cell("code", hidden.format("evidence.partial(mul)"), "test_partial", points=3),
    ]
    assignments, checks = root / "assignments", root / "checks" / TINY_ID
    (assignments / TINY_ID).mkdir(parents=True, exist_ok=True)
    checks.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, assignments / TINY_ID / f"{TINY_ID}.ipynb")
    (checks / "evidence.py").write_text(TINY_EVIDENCE)
    (checks / "judges.py").write_text(TINY_JUDGES)
    return assignments, checks

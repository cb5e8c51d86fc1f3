"""Reading nbgrader's cell metadata: the one place that knows where grade ids and points live.

nbgrader keeps them in ``cell.metadata["nbgrader"]``: ``grade_id`` names a cell, ``grade`` marks
a cell that carries ``points``, ``solution`` one that students fill in. A graded code cell that is
not a solution is a *test cell*; a graded solution cell is answered in words and graded by a TA.
"""

from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_solution

from vislab.paths import REPO_ROOT

ASSIGNMENTS = REPO_ROOT / "assignments"


def grade_id(cell) -> str | None:
    """The cell's nbgrader ``grade_id``, or ``None`` for a cell nbgrader does not track."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_test_cell(cell) -> bool:
    """A graded code cell that students do not edit (visible and hidden tests)."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def source_notebook(assignment_id: str, assignments_dir: Path = ASSIGNMENTS) -> Path:
    """The nbgrader source notebook of an assignment (``assignments/<id>/<id>.ipynb``)."""
    return Path(assignments_dir) / assignment_id / f"{assignment_id}.ipynb"


def find_cell(nb: nbformat.NotebookNode, wanted: str):
    """The first cell of ``nb`` whose grade_id is ``wanted``; ``KeyError`` if there is none."""
    for cell in nb.cells:
        if grade_id(cell) == wanted:
            return cell
    raise KeyError(f"no cell with grade_id {wanted!r}")


def graded_cell_ids(nb: nbformat.NotebookNode) -> list[str]:
    """grade_ids of the cells that carry points, in notebook order."""
    return [grade_id(cell) for cell in nb.cells if is_grade(cell)]


def autograded_points(nb: nbformat.NotebookNode) -> dict[str, float]:
    """grade_id -> points of every test cell (the autograded ones), in notebook order."""
    return {grade_id(cell): cell.metadata["nbgrader"]["points"] for cell in nb.cells
            if is_test_cell(cell)}


def cell_sources(nb: nbformat.NotebookNode, grade_ids: list[str]) -> dict[str, str]:
    """grade_id -> source of the cells ``grade_ids``; ``KeyError`` names any that is missing."""
    return {wanted: find_cell(nb, wanted).source for wanted in grade_ids}


def solution_namespace(assignment_id: str, grade_ids: list[str], namespace: dict | None = None,
                       replacements: dict[str, str] | None = None) -> dict:
    """What the solved source notebook defines: its cells ``grade_ids`` run in order.

    ``namespace`` holds what the notebook's earlier cells would have defined (imports, data);
    ``replacements`` maps a grade_id to other source for it (a known-wrong answer). For the
    project's own tests: the instructor's source, never a student's, runs here.
    """
    namespace = {} if namespace is None else namespace
    replacements = replacements or {}
    sources = cell_sources(read_notebook(source_notebook(assignment_id)), grade_ids)
    for wanted in grade_ids:
        exec(replacements.get(wanted, sources[wanted]), namespace)  # noqa: S102 (our own source)
    return namespace

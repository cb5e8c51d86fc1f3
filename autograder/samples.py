"""Making sample submissions from notebooks: the unchanged starter, known-wrong variants, broken files.

Used by the demo and by the tests; each function writes a new file and leaves its input untouched.
"""

import shutil
from pathlib import Path

import nbformat

from vislab.paths import REPO_ROOT


def _find_cell(nb, grade_id: str):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def with_cell_replaced(notebook_path: str | Path, grade_id: str, new_source: str,
                       out_path: str | Path) -> Path:
    """Copy a notebook with the source of cell ``grade_id`` replaced (its outputs cleared)."""
    nb = nbformat.read(notebook_path, as_version=4)
    cell = _find_cell(nb, grade_id)
    cell.source = new_source
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_path)
    return out_path


def with_cell_deleted(notebook_path: str | Path, grade_id: str, out_path: str | Path) -> Path:
    """Copy a notebook without cell ``grade_id`` (a student deleted a test cell)."""
    nb = nbformat.read(notebook_path, as_version=4)
    nb.cells.remove(_find_cell(nb, grade_id))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_path)
    return out_path


def copy_submission(source_dir: str | Path, out_dir: str | Path) -> Path:
    """Copy a whole submission folder (notebook + saved files)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(source_dir, out_dir)
    return out_dir


def autograded_points(assignment_id: str) -> dict[str, float]:
    """grade_id -> points of every autograded test cell of the assignment's source notebook."""
    nb = nbformat.read(REPO_ROOT / "assignments" / assignment_id / f"{assignment_id}.ipynb",
                       as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"]
            for cell in nb.cells if cell.cell_type == "code"
            and cell.metadata.get("nbgrader", {}).get("grade")}


def sample_class(assignment_id: str, submissions: str | Path,
                 wrong: dict[str, dict[str, str]]) -> Path:
    """A class in ``submissions``: ``solution`` (the reference sample), ``starter`` (unchanged)
    and one student per entry of ``wrong`` (student -> {grade_id: new source}), each the
    reference sample with those cells replaced."""
    submissions = Path(submissions)
    notebook = f"{assignment_id}.ipynb"
    sample = REPO_ROOT / "autograder" / "samples" / assignment_id
    copy_submission(sample, submissions / "solution")
    (submissions / "starter").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "starter" / assignment_id / notebook, submissions / "starter" / notebook)
    for student, cells in wrong.items():
        folder = copy_submission(sample, submissions / student)
        for grade_id, source in cells.items():
            with_cell_replaced(folder / notebook, grade_id, source, folder / notebook)
    return submissions

"""Making classes of sample submissions: the reference, the unchanged starter, known-wrong variants.

Used by the demo, the benchmarks and the tests; each function writes new files and leaves its
input untouched. The reference submissions live in ``autograder/samples/<id>/`` (the executed
solution notebook and the files it wrote); the known-wrong answers in
:mod:`autograder.known_wrong`.
"""

import shutil
from pathlib import Path

import nbformat

from autograder.notebook_cells import find_cell, read_notebook
from vislab.paths import REPO_ROOT

SAMPLES = REPO_ROOT / "autograder" / "samples"
STARTER = REPO_ROOT / "starter"


def with_cell_replaced(notebook_path: str | Path, grade_id: str, new_source: str,
                       out_path: str | Path) -> Path:
    """Copy a notebook with the source of cell ``grade_id`` replaced (its outputs cleared)."""
    nb = read_notebook(notebook_path)
    cell = find_cell(nb, grade_id)
    cell.source = new_source
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return _write(nb, out_path)


def with_cell_deleted(notebook_path: str | Path, grade_id: str, out_path: str | Path) -> Path:
    """Copy a notebook without cell ``grade_id`` (a student deleted a test cell)."""
    nb = read_notebook(notebook_path)
    nb.cells.remove(find_cell(nb, grade_id))
    return _write(nb, out_path)


def _write(nb: nbformat.NotebookNode, out_path: str | Path) -> Path:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_path)
    return out_path


def copy_submission(source_dir: str | Path, out_dir: str | Path) -> Path:
    """Copy a whole submission folder (notebook + saved files) as it is: links stay links."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(source_dir, out_dir, symlinks=True)
    return out_dir


def sample_class(assignment_id: str, submissions: str | Path,
                 wrong: dict[str, dict[str, str]]) -> Path:
    """A class in ``submissions``: ``solution`` (the reference sample), ``starter`` (unchanged)
    and one student per entry of ``wrong`` (student -> {grade_id: new source}), each the
    reference sample with those cells replaced."""
    submissions = Path(submissions)
    notebook = f"{assignment_id}.ipynb"
    sample = SAMPLES / assignment_id
    copy_submission(sample, submissions / "solution")
    (submissions / "starter").mkdir(parents=True, exist_ok=True)
    shutil.copy(STARTER / assignment_id / notebook, submissions / "starter" / notebook)
    for student, cells in wrong.items():
        folder = copy_submission(sample, submissions / student)
        for grade_id, source in cells.items():
            with_cell_replaced(folder / notebook, grade_id, source, folder / notebook)
    return submissions

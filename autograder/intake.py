"""Checking each handed-in folder before grading: is there a notebook nbgrader can read?

A submission that cannot be graded gets a reason a student understands and zero points; it
never stops the grading of the others. A submission with deleted graded cells is still graded,
and the reason names the cells that scored zero because they were gone.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.notebook_cells import graded_cell_ids, read_notebook
from autograder.sandbox.untrusted_files import read_regular_file

#: a notebook larger than this is refused unread (outputs are stripped by nobody: keep them small)
MAX_NOTEBOOK_BYTES = 200 * 2**20
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class Intake:
    """What was found in one student's folder."""

    student: str
    folder: Path
    gradable: bool = True
    problems: list[str] = field(default_factory=list)
    deleted_cells: dict[str, list[str]] = field(default_factory=dict)  # notebook -> grade_ids


def inspect_submission(folder: Path, assignment_id: str, notebook_names: list[str],
                       source_cells: dict[str, list[str]]) -> Intake:
    """Inspect a student's ``folder`` for the notebooks ``notebook_names`` (e.g. ``["a3_cifar"]``).

    The files may sit in ``folder`` itself or, as in nbgrader's own ``submitted/`` layout, in
    ``folder/<assignment_id>/``. ``source_cells`` maps each notebook name to the graded cell ids
    of the source version.
    """
    nested = folder / assignment_id
    intake = Intake(student=folder.name, folder=nested if nested.is_dir() else folder)
    if not STUDENT_ID.match(folder.name):
        intake.gradable = False
        intake.problems.append(f"folder name {folder.name!r} is not a usable student id "
                               "(letters, digits, '_', '-', '.')")
        return intake
    for name in notebook_names:
        path = intake.folder / f"{name}.ipynb"
        if not path.exists():
            found = sorted(p.name for p in intake.folder.glob("*.ipynb"))
            intake.gradable = False
            intake.problems.append(f"no {path.name} handed in (found: {found or 'no notebook'}); "
                                   "submit the assignment's notebook under its original name")
            continue
        problem = _unreadable(path)
        if problem:
            intake.gradable = False
            intake.problems.append(problem)
            continue
        present = set(graded_cell_ids(read_notebook(path)))
        deleted = [cell for cell in source_cells[name] if cell not in present]
        if deleted:
            intake.deleted_cells[name] = deleted
            intake.problems.append(f"graded cells deleted from {path.name}, scored 0: "
                                   + ", ".join(deleted)
                                   + " (copy them back from the starter notebook)")
    return intake


def _unreadable(path: Path) -> str | None:
    """Why nbgrader cannot read the notebook at ``path``, or ``None``."""
    data = read_regular_file(path, MAX_NOTEBOOK_BYTES)  # never follow a handed-in link
    if data is None:
        return (f"{path.name} is not a plain file (a link?) or is larger than "
                f"{MAX_NOTEBOOK_BYTES // 2**20} MB: hand in the notebook Jupyter saved")
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return f"{path.name} is not a text file: hand in the .ipynb that Jupyter saved"
    except json.JSONDecodeError as error:
        return (f"{path.name} is not valid JSON (line {error.lineno}, column {error.colno}): "
                "the file is damaged or was edited outside Jupyter; open it in JupyterLab, "
                "save it and hand it in again")
    try:
        nbformat.validate(nbformat.reads(json.dumps(raw), as_version=4))
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        return (f"{path.name} is not a valid notebook ({type(error).__name__}: "
                f"{str(error).splitlines()[0][:200]}); open it in JupyterLab, save it and hand it "
                "in again")
    return None

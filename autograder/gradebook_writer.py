"""Writing grades into nbgrader's gradebook: the grading process is its only writer.

For every graded cell of a submitted notebook:

- a test cell gets the judges' points as its ``auto_score`` and needs no manual grade;
- a written answer (a graded solution cell) waits for a TA, unless it is unchanged from the
  starter: then it scores 0 (nbgrader's own rule, ``nbgrader.utils.determine_grade``);
- a graded cell the student deleted scores 0 and waits for nobody.

A TA's manual score already in the gradebook is kept (formgrader shows both). A student who
could not be graded has no submission row at all, so formgrader never lists a stale "needs
manual grade" for them.
"""

import warnings
from datetime import datetime

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_solution, is_task
from sqlalchemy.exc import SAWarning

from autograder.judging.verdicts import CellVerdict
from autograder.notebook_cells import grade_id, is_test_cell


def write_grades(db_url: str, assignment_id: str, student: str, notebook_name: str,
                 graded: nbformat.NotebookNode, verdicts: dict[str, CellVerdict],
                 deleted: list[str], handed_in: datetime) -> None:
    """Record one notebook's grades: ``verdicts`` of its test cells, its written answers as
    nbgrader would, and zero for its ``deleted`` graded cells; the submission's time is
    ``handed_in`` (:mod:`autograder.submission_time`)."""
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student)
        with warnings.catch_warnings():  # nbgrader's first write of a submission, SQLAlchemy 2
            warnings.filterwarnings("ignore", message=".*not in session", category=SAWarning)
            gb.update_or_create_submission(assignment_id, student, timestamp=handed_in)
        for cell in graded.cells:
            name = grade_id(cell)
            if name is None:
                continue
            if is_grade(cell):
                grade = gb.find_grade(name, notebook_name, assignment_id, student)
                if is_test_cell(cell):
                    grade.auto_score = verdicts[name].points
                else:
                    grade.auto_score, _ = determine_grade(cell)
                grade.needs_manual_grade = grade.auto_score is None or grade.manual_score is not None
            if is_solution(cell) or is_task(cell):
                comment = gb.find_comment(name, notebook_name, assignment_id, student)
                unchanged = cell.metadata.nbgrader.get("checksum") == compute_checksum(cell)
                comment.auto_comment = "No response." if unchanged and not is_task(cell) else None
        for name in deleted:
            grade = gb.find_grade(name, notebook_name, assignment_id, student)
            grade.auto_score, grade.manual_score, grade.needs_manual_grade = 0.0, None, False
        gb.db.commit()


def forget_submission(db_url: str, assignment_id: str, student: str) -> None:
    """Remove a student's submission of ``assignment_id`` (one that could not be graded)."""
    with Gradebook(db_url) as gb:
        try:
            gb.remove_submission(assignment_id, student)
        except MissingEntry:
            pass

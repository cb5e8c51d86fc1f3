"""Scoring handed-in files again outside the student's kernel.

Code run inside the kernel during autograde could, in principle, tamper with a check. For the
cells whose points come from files (see ``OUTSIDE_KERNEL`` in a check module), the grading
process recomputes the points from the submitted copy and writes them to the gradebook.
"""

from nbgrader.api import Gradebook, MissingEntry

from autograder.checks.registry import outside_kernel_scores
from autograder.course import WorkCourse


def rescore_outside_kernel(course: WorkCourse, assignment_id: str, student: str) -> list[str]:
    """Re-score the file-graded cells of one student; return notes on any disagreement."""
    scorers = outside_kernel_scores(assignment_id)
    notes = []
    if not scorers:
        return notes
    folder = course.submitted(student, assignment_id)
    with Gradebook(course.db_url) as gb:
        submission = gb.find_submission(assignment_id, student)
        for notebook in submission.notebooks:
            for grade_id, score in scorers.items():
                try:
                    grade = gb.find_grade(grade_id, notebook.name, assignment_id, student)
                except MissingEntry:
                    continue
                try:
                    points = min(float(score(folder)), grade.max_score)
                except Exception as error:  # an unreadable file scores 0, never stops grading
                    points = 0.0
                    notes.append(f"{grade_id}: {error}")
                kernel_points = grade.auto_score
                if kernel_points is not None and abs(kernel_points - points) > 1e-6:
                    notes.append(f"{grade_id}: the notebook reported {kernel_points:g} points, "
                                 f"the handed-in files score {points:g}; kept {points:g}")
                grade.auto_score = points
                grade.needs_manual_grade = False
        gb.db.commit()
    return notes

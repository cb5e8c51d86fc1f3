"""The grade table: one row per student, points per graded cell, read from nbgrader's gradebook."""

import pandas as pd
from nbgrader.api import Gradebook, MissingEntry

from autograder.course import WorkCourse
from autograder.intake import Intake

FIXED_COLUMNS = ["student", "status", "reason", "total", "max_total", "manual_pending"]


def cell_max_points(course: WorkCourse, assignment_id: str,
                    order: list[str] | None = None) -> dict[str, float]:
    """Max points of every graded cell of the assignment (in ``order`` when given)."""
    with Gradebook(course.db_url) as gb:
        assignment = gb.find_assignment(assignment_id)
        points = {cell.name: cell.max_score for notebook in assignment.notebooks
                  for cell in notebook.grade_cells}
    order = [name for name in order or [] if name in points]
    return {name: points[name] for name in order + sorted(set(points) - set(order))}


def grade_table(course: WorkCourse, assignment_id: str, intakes: list[Intake],
                outcomes: dict, cell_order: list[str]) -> pd.DataFrame:
    """Rows for graded students come from the gradebook; the others get zeros and the reason.

    Cell columns follow ``cell_order`` (the source notebook's order).
    """
    max_points = cell_max_points(course, assignment_id, cell_order)
    rows = []
    with Gradebook(course.db_url) as gb:
        for intake in intakes:
            outcome = outcomes.get(intake.student)
            problems = outcome.problems if outcome else intake.problems
            row = {"student": intake.student, "reason": "; ".join(problems),
                   "max_total": sum(max_points.values()), **dict.fromkeys(max_points, 0.0)}
            feedback = course.feedback(intake.student, assignment_id)
            row["feedback"] = ";".join(str(p) for p in sorted(feedback.glob("*.html")))
            if outcome is not None and outcome.autograded:
                row.update(_gradebook_points(gb, assignment_id, intake.student))
                row["status"] = "graded"
            else:
                row.update(status="not graded", total=0.0, manual_pending=0)
            rows.append(row)
    columns = FIXED_COLUMNS + list(max_points) + ["feedback"]
    return pd.DataFrame(rows, columns=columns)


def _gradebook_points(gb: Gradebook, assignment_id: str, student: str) -> dict:
    try:
        submission = gb.find_submission(assignment_id, student)
    except MissingEntry:
        return {"total": 0.0, "manual_pending": 0}
    points, pending = {}, 0
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            points[grade.name] = float(grade.score)
            pending += bool(grade.needs_manual_grade)
    return {**points, "total": float(submission.score), "manual_pending": pending}

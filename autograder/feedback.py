"""Feedback for every student: nbgrader's page for a graded notebook, and for a notebook that
could not be graded, a page of its own that says why and what to do.

Feedback never shows a hidden test's code or a traceback from a test cell (see
:class:`autograder.nbgrader_plugins.HideTestTracebacks` and ``nbgrader_config.py``).
"""

import html

from autograder.course import WorkCourse

NOT_GRADED_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{assignment}: not graded</title>
<style>body {{ font-family: sans-serif; max-width: 46em; margin: 2em auto; line-height: 1.5; }}
li {{ margin-bottom: .5em; }}</style></head>
<body><h1>{assignment}: your notebook could not be graded</h1>
<p>Nothing in it earned points, because:</p>
<ul>{reasons}</ul>
<p>What to do: fix what is said above, check that your notebook opens and runs from top to bottom
in JupyterLab, save it, and hand in the folder again (the notebook under its original name, with
the files it wrote).</p></body></html>
"""


def write_feedback(course: WorkCourse, assignment_id: str, student: str) -> str | None:
    """nbgrader's feedback page of a graded student; a problem in words if it failed."""
    result = course.nbgrader("generate_feedback", assignment_id, "--student", student, "--force")
    if result.returncode == 0:
        return None
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "Error" in line]
    return "feedback could not be generated: " + (lines[-1].strip() if lines else "unknown error")


def write_not_graded_page(course: WorkCourse, assignment_id: str, student: str,
                          reasons: list[str]) -> None:
    """A feedback page for a student whose notebook was not graded, giving every reason."""
    folder = course.feedback(student, assignment_id)
    folder.mkdir(parents=True, exist_ok=True)
    items = "".join(f"<li>{html.escape(reason)}</li>" for reason in reasons) or \
        "<li>the notebook could not be run</li>"
    (folder / f"{assignment_id}.html").write_text(
        NOT_GRADED_PAGE.format(assignment=html.escape(assignment_id), reasons=items))

"""The summary at the top of a feedback page: every graded cell by name with its result in words
("passed", the first reason it failed, "waiting for a TA"), and the points so far.

:class:`FeedbackSummary` runs with the feedback preprocessors, after nbgrader's GetGrades and
:class:`autograder.nbgrader_plugins.HideTestTracebacks`, and leaves the summary in
``resources["vislab_summary"]``; the page's template (``autograder/templates/vislab_feedback``)
shows it where nbgrader's would list "Test cell (Score: ...)" and "Written response (Score: 0.0 /
4.0)" for an answer no TA has graded yet.
"""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.notebook_cells import grade_id, is_test_cell

#: the longest reason a summary line repeats (the cell itself shows all of it)
MAX_REASON = 160
PASSED = "Hidden check passed"
FAILED = "Hidden check failed: "


def _words(cell) -> str:
    """What a test cell's outputs say of it, in one line."""
    for output in reversed(cell.get("outputs", [])):
        if output.output_type == "stream" and output.text.startswith(PASSED):
            return "passed"
        if output.output_type == "error" and output.traceback:
            reason = output.traceback[0].removeprefix(FAILED)
            return reason if len(reason) <= MAX_REASON else reason[:MAX_REASON - 3] + "..."
    return "did not run"


class FeedbackSummary(NbGraderPreprocessor):
    """Put ``{"rows": [{"grade_id", "name", "result", "waiting"}], "pending": points}`` in
    ``resources["vislab_summary"]`` (see the module)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        rows = []
        with Gradebook(info["db_url"]) as gradebook:
            for cell in nb.cells:
                metadata = cell.metadata.get("nbgrader", {})
                if not metadata.get("grade"):
                    continue
                name, points = grade_id(cell), metadata.get("points", 0)
                score = f"{metadata.get('score') or 0:g} / {points:g} points"
                if is_test_cell(cell):
                    words = _words(cell)
                    if words == "passed" and (metadata.get("score") or 0) < points:
                        words = "partial credit"
                    rows.append({"grade_id": name, "name": f"check {name}", "waiting": 0,
                                 "result": f"{score}, {words}"})
                    continue
                grade = gradebook.find_grade(name, info["notebook"], info["assignment"],
                                             info["student"])
                waiting = grade.needs_manual_grade and grade.manual_score is None
                rows.append({"grade_id": name, "name": f"written answer {name}",
                             "waiting": points if waiting else 0,
                             "result": f"waiting for a TA ({points:g} points)" if waiting
                             else score})
        resources["vislab_summary"] = {"rows": rows,
                                       "pending": sum(row["waiting"] for row in rows)}
        return nb, resources

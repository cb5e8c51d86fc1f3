"""The summary at the top of a feedback page: every graded cell by name with its result in words
("passed", the first reason it failed, "waiting for a TA", "not answered"), the points so far, and
what was wrong with the hand-in (a deleted test cell, a missing file, where the kernel died).

:class:`FeedbackSummary` runs with the feedback preprocessors, after nbgrader's GetGrades and
:class:`autograder.nbgrader_plugins.HideTestTracebacks`, and leaves the summary in
``resources["vislab_summary"]``; the page's template (``autograder/templates/vislab_feedback``)
shows it where nbgrader's would list "Test cell (Score: ...)" and "Written response (Score: 0.0 /
4.0)" for an answer no TA has graded yet, and in each graded cell's heading.
"""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.graded_notebook import VERDICT_FAILED, VERDICT_PASSED
from autograder.nbgrader_plugins import without_server_paths
from autograder.notebook_cells import grade_id, is_test_cell

#: the longest reason a summary line repeats (the cell itself shows all of it)
MAX_REASON = 160


def _words(cell) -> str:
    """What a test cell's verdict (its last output, :func:`autograder.graded_notebook.with_verdicts`)
    says, in one line."""
    verdict = cell.outputs[-1] if cell.get("outputs") else None
    if verdict is not None and verdict.output_type == "stream" \
            and verdict.text.startswith(VERDICT_PASSED):
        return "passed"
    if verdict is not None and verdict.output_type == "error" and verdict.traceback:
        reason = verdict.traceback[0].removeprefix(VERDICT_FAILED)
        return reason if len(reason) <= MAX_REASON else reason[:MAX_REASON - 3] + "..."
    return "did not run"


class FeedbackSummary(NbGraderPreprocessor):
    """Put ``{"rows": [{"grade_id", "name", "result", "waiting"}], "by_grade_id": {grade_id:
    row}, "problems": [what was wrong with the hand-in], "pending": points}`` in
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
                got = metadata.get("score") or 0
                score = f"{got:g} / {points:g} points"
                if is_test_cell(cell):
                    words = _words(cell)
                    if words == "passed" and got < points:
                        words = "partial credit"
                    rows.append({"grade_id": name, "name": f"check {name}", "waiting": 0,
                                 "result": f"{score}, {words}"})
                    continue
                grade = gradebook.find_grade(name, info["notebook"], info["assignment"],
                                             info["student"])
                ungraded = grade.manual_score is None
                waiting = grade.needs_manual_grade and ungraded
                # nbgrader scores an answer left as the starter gave it 0, with no TA needed
                result = f"waiting for a TA ({points:g} points)" if waiting else \
                    f"{score}, not answered" if ungraded and not got else score
                rows.append({"grade_id": name, "name": f"written answer {name}",
                             "waiting": points if waiting else 0, "result": result})
        problems = nb.metadata.get("vislab", {}).get("problems", [])
        resources["vislab_summary"] = {"rows": rows,
                                       "problems": [without_server_paths(p) for p in problems],
                                       "by_grade_id": {row["grade_id"]: row for row in rows},
                                       "pending": sum(row["waiting"] for row in rows)}
        return nb, resources

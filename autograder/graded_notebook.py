"""The notebook that is executed for grading, and the verdicts written back into it.

:func:`notebook_to_grade` starts from the student's notebook and puts back, from the source
version, every cell students must not change (test cells with their hidden part, locked cells),
as nbgrader's autograde does. What a student did to those cells is said in words:

- a test cell that was edited is graded with its original code;
- a test cell that appears more than once (a copy-paste) is graded once, at its first place; the
  copies run as ordinary cells and carry no points.

:func:`with_verdicts` adds to each test cell one output with the judges' verdict, in words: the
feedback and formgrader show it where the cell is.
"""

import copy
import re
from dataclasses import dataclass, field

import nbformat
from nbgrader.utils import is_grade, is_locked, is_solution

from autograder.judging.verdicts import CellVerdict
from autograder.notebook_cells import grade_id, is_test_cell

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                           re.S | re.M)


@dataclass
class NotebookToGrade:
    """The notebook to execute, and notes in words about test cells that were changed."""

    nb: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)


def visible_part(source: str) -> str:
    """A test cell's source as students see it: without its hidden region."""
    return HIDDEN_REGION.sub("", source)


def _is_restored(cell) -> bool:
    """Cells whose source and metadata come from the source notebook: tests and locked cells."""
    return (is_grade(cell) or is_locked(cell)) and not is_solution(cell)


def notebook_to_grade(submitted: nbformat.NotebookNode,
                      source: nbformat.NotebookNode) -> NotebookToGrade:
    """``submitted`` with its test and locked cells taken from ``source`` (both unchanged)."""
    originals = {grade_id(cell): cell for cell in source.cells if grade_id(cell) and _is_restored(cell)}
    result = NotebookToGrade(copy.deepcopy(submitted))
    seen: dict[str, int] = {}
    for cell in result.nb.cells:
        wanted = grade_id(cell)
        if wanted not in originals:
            continue
        seen[wanted] = seen.get(wanted, 0) + 1
        original = originals[wanted]
        if seen[wanted] > 1:
            del cell.metadata["nbgrader"]  # a copy runs as an ordinary cell
            continue
        if is_test_cell(original) and cell.source.strip() not in (
                visible_part(original.source).strip(), original.source.strip()):
            result.notes.append(f"test cell {wanted} was edited: it was graded with its original "
                                "code")
        cell.source, cell.cell_type = original.source, original.cell_type
        cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
        if cell.cell_type == "markdown":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    for wanted, count in seen.items():
        if count > 1:
            result.notes.append(f"{wanted} appears {count} times in the notebook (a copied cell?): "
                                "it was graded once, at its first place")
    return result


def with_verdicts(nb: nbformat.NotebookNode,
                  verdicts: dict[str, CellVerdict]) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose test cells end with their verdict in words."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        verdict = verdicts.get(grade_id(cell)) if is_test_cell(cell) else None
        if verdict is not None:
            cell.outputs.append(verdict_output(verdict))
    return nb


def verdict_output(verdict: CellVerdict) -> nbformat.NotebookNode:
    """One output: the passed checks and the points, or each failed check and why."""
    score = f"{verdict.points:g} of {verdict.max_points:g} points"
    if not verdict.failures:
        names = ", ".join(outcome.judge.removeprefix("test_") for outcome in verdict.outcomes)
        return nbformat.v4.new_output("stream", name="stdout",
                                      text=f"Hidden check passed: {names} ({score})\n")
    lines = [f"Hidden check failed: {outcome.judge.removeprefix('test_')}: {outcome.message}"
             for outcome in verdict.failures]
    return nbformat.v4.new_output("error", ename="CheckFailed", evalue=f"{score}",
                                  traceback=[*lines, f"({score})"])

"""The notebook that is executed for grading, and the verdicts written back into it.

:func:`notebook_to_grade` starts from the student's notebook and puts back, from the source
version, every cell students must not change (test cells with their hidden part, locked cells),
as nbgrader's autograde does. What a student did to those cells is said in words:

- a test cell that was edited is graded with its original code;
- a test cell that appears more than once (a copy-paste) is graded once, at its first place; the
  copies run as ordinary cells and carry no points.

Grading does only what judging needs. A code cell the source notebook marks
``"vislab": {"not_graded": true}`` (in the cell's metadata; see ``docs/authoring.md``) is not
re-executed: plots, timing, widgets, inference that writes a CSV the judges read from the
handed-in files. The student's cell keeps its code and the outputs the student's own run saved,
after a note that says so, and the sandbox's runner skips it
(``autograder.sandbox.runner.not_re_run``). Only the source decides: a marker in the
student's copy is removed, and test cells are never skipped. The student's cell is found by its
grade_id, or, for a cell nbgrader does not track, by having exactly the source cell's code.

Nor does grading draw figures: the graded kernel starts with :data:`KERNEL_ARGS`, so a figure
shows as its one-line text (``<Figure size 640x480 with 1 Axes>``) and is never rendered to an
image, neither for the inline display nor by pyplot's own drawing after each cell
(:mod:`autograder.undrawn_figures`). :func:`with_saved_figures` puts back, in each re-run cell
that is not a test, the figures the student's own run saved there, after a note that says so
(:attr:`NotebookToGrade.saved_figures` keeps them).

:func:`with_verdicts` adds to each test cell one output with the judges' verdict, in words: the
feedback and formgrader show it where the cell is.
"""

import copy
import html
import json
import re
from dataclasses import dataclass, field

import nbformat
from nbgrader.utils import is_grade, is_locked, is_solution

from autograder.judging.verdicts import CellVerdict
from autograder.notebook_cells import grade_id, is_test_cell
from autograder.sandbox.limits import Limits

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                           re.S | re.M)
#: cell metadata key of the marker ``"vislab": {"not_graded": true}``
MARKER_KEY, NOT_GRADED = "vislab", "not_graded"
SAVED_NOTE = "not re-run while grading: these are the outputs your own run saved"
NONE_SAVED_NOTE = "not re-run while grading: your own run saved no outputs for this cell"
DROPPED_NOTE = ("not re-run while grading: the outputs your own run saved were left out ({why})")
#: the graded kernel's options: figures are shown as text, never rendered
KERNEL_ARGS = ["--InlineBackend.figure_formats=set()",
               "--IPKernelApp.exec_lines=import autograder.undrawn_figures"]
FIGURES_NOTE = "figures are not drawn while grading: these are the figures your own run saved"
NO_FIGURES_NOTE = "figures are not drawn while grading, and your own run saved none for this cell"
FIGURES_DROPPED_NOTE = ("figures are not drawn while grading; the figures your own run saved "
                        "were left out ({why})")
#: the text IPython shows for a figure it does not render
FIGURE_TEXT = re.compile(r"<Figure size \d+(\.\d+)?x\d+(\.\d+)? with \d+ Axes>")


@dataclass
class NotebookToGrade:
    """The notebook to execute, notes in words about test cells that were changed, and the
    figures the student's run saved in the cells that are re-run: cell index -> (note,
    display_data outputs), for :func:`with_saved_figures`."""

    nb: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)
    saved_figures: dict[int, tuple[str, list]] = field(default_factory=dict)


def visible_part(source: str) -> str:
    """A test cell's source as students see it: without its hidden region."""
    return HIDDEN_REGION.sub("", source)


def _is_restored(cell) -> bool:
    """Cells whose source and metadata come from the source notebook: tests and locked cells."""
    return (is_grade(cell) or is_locked(cell)) and not is_solution(cell)


@dataclass(frozen=True)
class NotGraded:
    """The cells a source notebook marks as not re-run while grading."""

    grade_ids: frozenset[str]  # marked cells nbgrader tracks
    sources: frozenset[str]  # the code (stripped) of marked cells it does not track


def not_graded_cells(source: nbformat.NotebookNode) -> NotGraded:
    """The cells ``source`` marks ``"vislab": {"not_graded": true}``.

    ``ValueError`` for a marker grading cannot honour: on a test cell (tests always run), on a
    cell that is not code, or not exactly ``true``.
    """
    grade_ids, sources = set(), set()
    for index, cell in enumerate(source.cells):
        marker = cell.metadata.get(MARKER_KEY, {})
        if not isinstance(marker, dict) or NOT_GRADED not in marker:
            continue
        name = grade_id(cell) or f"cell {index}"
        if marker[NOT_GRADED] is not True:
            raise ValueError(f"{name}: {MARKER_KEY}.{NOT_GRADED} must be true, not "
                             f"{marker[NOT_GRADED]!r}")
        if cell.cell_type != "code" or is_test_cell(cell):
            raise ValueError(f"{name} is marked {NOT_GRADED}, but only code cells that are not "
                             "tests can be: test cells always run")
        if grade_id(cell):
            grade_ids.add(grade_id(cell))
        else:
            sources.add(cell.source.strip())
    return NotGraded(frozenset(grade_ids), frozenset(sources))


def notebook_to_grade(submitted: nbformat.NotebookNode, source: nbformat.NotebookNode,
                      max_saved_output_bytes: int = Limits.max_output_bytes_per_cell,
                      ) -> NotebookToGrade:
    """``submitted`` with its test and locked cells taken from ``source`` (both unchanged), and
    the cells ``source`` marks not to re-run marked so (see the module docstring); the
    outputs such a cell keeps are at most ``max_saved_output_bytes`` (as JSON)."""
    originals = {grade_id(cell): cell for cell in source.cells if grade_id(cell) and _is_restored(cell)}
    not_graded = not_graded_cells(source)
    result = NotebookToGrade(copy.deepcopy(submitted))
    for cell in result.nb.cells:
        _drop_marker(cell)  # only the source marks a cell
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
    for index, cell in enumerate(result.nb.cells):
        if cell.cell_type != "code" or is_test_cell(cell):
            continue
        if (grade_id(cell) in not_graded.grade_ids if grade_id(cell)
                else cell.source.strip() in not_graded.sources):
            _keep_saved_outputs(cell, max_saved_output_bytes)
        else:
            result.saved_figures[index] = _figures(cell.get("outputs", []),
                                                   max_saved_output_bytes)
    return result


def _drop_marker(cell) -> None:
    marker = cell.metadata.get(MARKER_KEY)
    if isinstance(marker, dict):
        marker.pop(NOT_GRADED, None)


def _keep_saved_outputs(cell, max_bytes: int) -> None:
    """Mark ``cell`` not to be re-run; its outputs: a note, then the student's saved ones."""
    cell.metadata.setdefault(MARKER_KEY, {})[NOT_GRADED] = True
    saved = cell.get("outputs", [])
    note = SAVED_NOTE if saved else NONE_SAVED_NOTE
    size = len(json.dumps(saved))
    if size > max_bytes:
        note, saved = DROPPED_NOTE.format(why=f"{size:,} bytes, over the {max_bytes:,} byte "
                                          "limit per cell"), []
    elif not _valid_outputs(saved):
        note, saved = DROPPED_NOTE.format(why="they are not valid notebook outputs"), []
    cell.outputs = [note_output(note), *saved]


def _is_figure(output) -> bool:
    return output.get("output_type") in ("display_data", "execute_result") and isinstance(
        output.get("data"), dict) and any(str(kind).startswith("image/") for kind in output["data"])


def _figures(outputs: list, max_bytes: int) -> tuple[str, list]:
    """(note, figures) of a re-run cell: its saved outputs that show an image, as display_data
    holding only their images and their text (no HTML or script comes along)."""
    figures = [nbformat.v4.new_output(
        "display_data", data={kind: value for kind, value in output["data"].items()
                              if str(kind).startswith("image/") or kind == "text/plain"},
        metadata=output.get("metadata", {}))
        for output in outputs if isinstance(output, dict) and _is_figure(output)]
    if not figures:
        return NO_FIGURES_NOTE, []
    size = len(json.dumps(figures))
    if size > max_bytes:
        return FIGURES_DROPPED_NOTE.format(why=f"{size:,} bytes, over the {max_bytes:,} byte "
                                           "limit per cell"), []
    if not _valid_outputs(figures):
        return FIGURES_DROPPED_NOTE.format(why="they are not valid notebook outputs"), []
    return FIGURES_NOTE, figures


def _is_figure_text(output) -> bool:
    """An output the graded kernel made for a figure it did not draw."""
    data = output.get("data", {})
    return output.get("output_type") in ("display_data", "execute_result") and set(data) == {
        "text/plain"} and FIGURE_TEXT.fullmatch(data["text/plain"]) is not None


def with_saved_figures(nb: nbformat.NotebookNode,
                       saved_figures: dict[int, tuple[str, list]]) -> nbformat.NotebookNode:
    """``nb`` (executed) where each cell that showed a figure as text gets, in place of that
    text, a note and the figures the student's own run saved (``saved_figures`` from
    :attr:`NotebookToGrade.saved_figures`). A cell that did not run has no outputs, so it is
    left as it is."""
    for index, (note, figures) in saved_figures.items():
        cell = nb.cells[index]
        if not any(map(_is_figure_text, cell.outputs)):
            continue
        cell.outputs = [output for output in cell.outputs if not _is_figure_text(output)]
        cell.outputs += [note_output(note), *copy.deepcopy(figures)]
    return nb


def _valid_outputs(outputs: list) -> bool:
    try:
        nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            outputs=outputs)]))
    except (nbformat.ValidationError, ValueError, TypeError, KeyError, AttributeError):
        return False
    return True


def note_output(text: str) -> nbformat.NotebookNode:
    """An output that says ``text`` in words, set apart from the cell's own outputs."""
    return nbformat.v4.new_output(
        "display_data", data={"text/plain": f"[{text}]",
                              "text/html": f'<p style="color: #555; font-style: italic">'
                                           f"{html.escape(text)}</p>"},
        metadata={MARKER_KEY: {"note": NOT_GRADED}})


def with_verdicts(nb: nbformat.NotebookNode, verdicts: dict[str, CellVerdict],
                  problems: list[str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose test cells end with their verdict in words, and whose metadata
    lists what was wrong with the hand-in (``nb.metadata.vislab.problems``: a deleted test cell,
    a missing file, the cell that was running when the kernel died...), for its feedback page."""
    nb = copy.deepcopy(nb)
    nb.metadata.setdefault("vislab", {})["problems"] = list(problems)
    for cell in nb.cells:
        verdict = verdicts.get(grade_id(cell)) if is_test_cell(cell) else None
        if verdict is not None:
            cell.outputs.append(verdict_output(verdict))
    return nb


#: how a verdict output begins: all checks of the cell passed / one line per failed check
VERDICT_PASSED = "Hidden check passed: "
VERDICT_FAILED = "Hidden check failed: "


def verdict_output(verdict: CellVerdict) -> nbformat.NotebookNode:
    """One output: the passed checks and the points, or each failed check and why."""
    score = f"{verdict.points:g} of {verdict.max_points:g} points"
    if not verdict.failures:
        names = ", ".join(outcome.judge.removeprefix("test_") for outcome in verdict.outcomes)
        return nbformat.v4.new_output("stream", name="stdout",
                                      text=f"{VERDICT_PASSED}{names} ({score})\n")
    lines = [f"{VERDICT_FAILED}{outcome.judge.removeprefix('test_')}: {outcome.message}"
             for outcome in verdict.failures]
    return nbformat.v4.new_output("error", ename="CheckFailed", evalue=f"{score}",
                                  traceback=[*lines, f"({score})"])

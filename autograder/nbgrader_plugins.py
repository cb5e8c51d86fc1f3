"""Five nbgrader preprocessors of the kit's course configuration (``nbgrader_config.py``).

- :class:`ClearHiddenTestsOfTestCells` removes the hidden regions from test cells only, when
  feedback is generated: a student's own cell that holds the marker text (say an unmatched
  ``### BEGIN HIDDEN TESTS``) is the student's text, and must not stop their feedback page.
- :class:`HideTestTracebacks` runs while feedback is generated. A test cell that failed shows
  its verdict in words only: no stack, no source lines, so neither a hidden test's code nor the
  inside of a check reaches a student.
- :class:`RefuseAutograde` stops plain ``nbgrader autograde``: grading must go through
  ``python -m autograder grade``, which runs each submission in a sandbox and judges outside.
- :class:`HideServerPaths` runs while feedback is generated: the tracebacks and warnings of the
  student's own cells name the kit's and Python's files without the grading machine's folders.
- :class:`FitFiguresToPage` adds a style to every feedback page: figures shrink to the page's
  width (a 12-column image grid was cut off on the right), long output lines scroll.
"""

import re
from pathlib import Path

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from autograder.notebook_cells import is_test_cell
from vislab.paths import REPO_ROOT

REFUSAL = ("grade with `python -m autograder grade <assignment> --submissions DIR`: it runs each "
           "submission in a sandbox and judges the hidden checks outside the student's kernel. "
           "Plain `nbgrader autograde` would run student code unsandboxed and cannot judge them.")


class ClearHiddenTestsOfTestCells(ClearHiddenTests):
    """nbgrader's ClearHiddenTests, applied to test cells (restored from the source) only."""

    def preprocess_cell(self, cell, resources, cell_index):
        if is_test_cell(cell):
            return super().preprocess_cell(cell, resources, cell_index)
        return cell, resources


class HideTestTracebacks(NbGraderPreprocessor):
    """Replace the traceback of every error in a test cell by the student's words for it."""

    def preprocess_cell(self, cell, resources, cell_index):
        if is_test_cell(cell):
            for output in cell.outputs:
                if output.output_type == "error" and output.ename != "CheckFailed":
                    output.traceback = [student_message(output.ename, output.evalue)]
        return cell, resources


#: (pattern, replacement) of the grading machine's folders in a traceback or a warning
SERVER_PATHS = [
    (re.compile(r"(?:/[^/\s\"'<>]+)+/site-packages/"), "<site-packages>/"),
    (re.compile(r"(?:/[^/\s\"'<>]+)+/lib/python3\.\d+/"), "<python>/"),
    (re.compile(re.escape(f"{REPO_ROOT}/")), ""),
    (re.compile(r"/sandbox/work/"), ""),
]


def without_server_paths(text: str) -> str:
    for pattern, replacement in SERVER_PATHS:
        text = pattern.sub(replacement, text)
    return text


class HideServerPaths(NbGraderPreprocessor):
    """Remove the grading machine's folders from the errors and stderr of every code cell."""

    def preprocess_cell(self, cell, resources, cell_index):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [without_server_paths(line) for line in output.traceback]
            elif output.output_type == "stream" and output.name == "stderr":
                output.text = without_server_paths(output.text)
        return cell, resources


#: the style FitFiguresToPage adds (the feedback template puts each in a <style> element); the
#: page formgrader shows a submission on includes the same file
FIT_TO_PAGE_CSS = (Path(__file__).parent / "templates" / "formgrade" /
                   "fit_figures_to_page.css").read_text()


class FitFiguresToPage(NbGraderPreprocessor):
    """Add :data:`FIT_TO_PAGE_CSS` to the page's inlined styles."""

    def preprocess(self, nb, resources):
        resources.setdefault("inlining", {}).setdefault("css", []).append(FIT_TO_PAGE_CSS)
        return nb, resources


class RefuseAutograde(NbGraderPreprocessor):
    """Fail ``nbgrader autograde`` with what to run instead."""

    def preprocess(self, nb, resources):
        raise RuntimeError(REFUSAL)


def student_message(ename: str, evalue: str) -> str:
    """The one line a student sees for an error raised in a test cell."""
    if ename == "NotImplementedError":
        return "Not done yet: a cell this test depends on still raises NotImplementedError."
    if ename == "CellTimeoutError":
        return "This cell ran out of time while grading: look for an endless loop or for training " \
               "that runs under nbgrader (load your saved results instead)."
    return f"{ename}: {evalue}" if evalue else ename

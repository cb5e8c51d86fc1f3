"""Two nbgrader preprocessors that make grades and feedback fair to students.

- :class:`StderrIsNotAnError` runs right after execution during autograde. nbgrader zeroes a
  test cell that printed anything on stderr, so a harmless torch ``UserWarning`` would cost a
  student the points of a passing cell. Stderr text is kept, relabelled as stdout, so the
  warning stays visible and only real errors count.
- :class:`HideTestTracebacks` runs while feedback is generated. A test cell that failed shows
  the error's name and message only: no stack, no source lines, so neither a hidden test's code
  nor the inside of a check reaches a student.
"""

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution

STDERR_NOTE = "[warning printed on stderr; it does not affect your grade]\n"


class StderrIsNotAnError(NbGraderPreprocessor):
    """Relabel stderr stream outputs as stdout so that only real errors zero a cell."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
                    output.text = STDERR_NOTE + output.text
        return cell, resources


class HideTestTracebacks(NbGraderPreprocessor):
    """Replace the traceback of every error in a test cell by its name and message."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [student_message(output.ename, output.evalue)]
        return cell, resources


def student_message(ename: str, evalue: str) -> str:
    """The one line a student sees for an error raised in a test cell."""
    if ename == "CheckFailed":
        return f"Hidden check failed: {evalue}"
    if ename == "NotImplementedError":
        return "Not done yet: a cell this test depends on still raises NotImplementedError."
    if ename == "CellTimeoutError":
        return "This cell ran out of time while grading: look for an endless loop or for training " \
               "that runs under nbgrader (load your saved results instead)."
    return f"{ename}: {evalue}" if evalue else ename

"""The notebook to grade: cells the source marks ``"vislab": {"not_graded": true}`` keep the
student's code and saved outputs after a note and are not executed; only the source can mark."""

import copy
import os

import nbformat
import pytest

from autograder.graded_notebook import (
    FIGURES_NOTE,
    KERNEL_ARGS,
    NO_FIGURES_NOTE,
    NONE_SAVED_NOTE,
    SAVED_NOTE,
    not_graded_cells,
    notebook_to_grade,
    with_saved_figures,
)
from autograder.notebook_cells import (
    find_cell,
    grade_id,
    is_test_cell,
    read_notebook,
    source_notebook,
)
from autograder.sample_classes import SAMPLES
from autograder.sandbox import runner

ASSIGNMENTS = ["a1_multilabel", "a2_bn_folding", "a3_cifar", "a4_detection"]
PLOT = "import matplotlib\nprint('drawing a slow plot')"


def _cell(source, grade_id=None, solution=False, points=None, marked=False):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade": points is not None, "solution": solution,
                                     "locked": not solution, "grade_id": grade_id,
                                     "schema_version": 3,
                                     **({"points": points} if points else {})}
    if marked:
        cell.metadata["vislab"] = {"not_graded": True}
    return cell


def _source():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("x = 1", "setup"),
        _cell("def answer():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION",
              "answer", solution=True),
        _cell(PLOT, marked=True),  # untracked: found by its code
        _cell("write_csv('predictions.csv')", "write_csv", marked=True),  # locked
        _cell("best = max(scores)\nwrite_csv(best)", "pick_best", solution=True, marked=True),
        _cell("assert answer() == 42\n### BEGIN HIDDEN TESTS\nrecord(answer())\n"
              "### END HIDDEN TESTS", "test_answer", points=2),
    ]
    return nb


def _stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _submitted():
    """The student's run of the source: its code, each code cell with a saved output, and the
    markers the starter carries (generated from the source)."""
    nb = copy.deepcopy(_source())
    nb.cells[5].source = "assert answer() == 42"  # as released: hidden part removed
    nb.cells[4].source = "best = min(scores)\nwrite_csv(best)"  # the student's own code
    for index, cell in enumerate(nb.cells):
        cell.outputs = [_stream(f"saved output of cell {index}\n")]
        cell.execution_count = index + 1
    return nb


def _note(cell) -> str:
    return cell.outputs[0]["data"]["text/plain"]


def test_a_marked_cell_keeps_its_code_and_the_students_saved_outputs_after_a_note():
    graded = notebook_to_grade(_submitted(), _source()).nb
    for index in (2, 3, 4):
        cell = graded.cells[index]
        assert runner.not_re_run(cell), index
        assert SAVED_NOTE in _note(cell)
        assert cell.outputs[1] == _stream(f"saved output of cell {index}\n")
        assert cell.execution_count == index + 1
    assert graded.cells[4].source == "best = min(scores)\nwrite_csv(best)", "the student's code"
    assert graded.cells[3].source == "write_csv('predictions.csv')", "a locked cell: the source's"
    assert nbformat.validate(graded) is None


def test_unmarked_cells_and_test_cells_are_not_marked():
    graded = notebook_to_grade(_submitted(), _source()).nb
    for index in (0, 1, 5):
        assert not runner.not_re_run(graded.cells[index]), index
    assert "BEGIN HIDDEN TESTS" in graded.cells[5].source, "the test cell is restored"


def test_a_marker_the_student_set_is_ignored():
    submitted = _submitted()
    for cell in submitted.cells:  # the student marks everything, the test cell too
        cell.metadata["vislab"] = {"not_graded": True, "mine": 1}
    source = _source()
    for cell in source.cells:
        cell.metadata.pop("vislab", None)  # ... and the source marks nothing
    graded = notebook_to_grade(submitted, source).nb
    assert not [cell for cell in graded.cells if runner.not_re_run(cell)]
    assert graded.cells[0].metadata["vislab"] == {"mine": 1}, "other metadata is left alone"
    assert graded.cells[0].outputs == [_stream("saved output of cell 0\n")], \
        "unmarked: the runner clears these outputs and runs the cell"


def test_an_edited_copy_of_an_untracked_marked_cell_runs():
    submitted = _submitted()
    submitted.cells[2].source = PLOT + "\nsecret = 1"
    graded = notebook_to_grade(submitted, _source()).nb
    assert not runner.not_re_run(graded.cells[2])


def test_a_marked_cell_without_saved_outputs_says_so():
    submitted = _submitted()
    submitted.cells[3].outputs = []
    cell = notebook_to_grade(submitted, _source()).nb.cells[3]
    assert [_note(cell)] == [f"[{NONE_SAVED_NOTE}]"]


def test_saved_outputs_over_the_cap_are_left_out_with_a_note():
    submitted = _submitted()
    submitted.cells[2].outputs = [_stream("x" * 5000)]
    cell = notebook_to_grade(submitted, _source(), max_saved_output_bytes=1000).nb.cells[2]
    assert len(cell.outputs) == 1 and "over the 1,000 byte limit" in _note(cell)


def test_the_source_cannot_mark_a_test_cell():
    source = _source()
    source.cells[5].metadata["vislab"] = {"not_graded": True}
    with pytest.raises(ValueError, match="test_answer .*test cells always run"):
        notebook_to_grade(_submitted(), source)


def test_the_runner_does_not_execute_a_marked_cell(tmp_path, monkeypatch):
    """The runner (here without a sandbox) skips the marked cells and keeps their outputs."""
    submitted = _submitted()
    submitted.cells = submitted.cells[:3] + [_cell("print(x + 1)")]
    submitted.cells[2].source = PLOT
    submitted.cells[1].source = "x = 41"
    source = copy.deepcopy(submitted)
    source.cells[2].metadata["vislab"] = {"not_graded": True}
    for cell in source.cells:
        cell.outputs = []
    notebook = tmp_path / "graded.ipynb"
    nbformat.write(notebook_to_grade(submitted, source).nb, notebook)
    (tmp_path / "state").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    started, ready = os.pipe()
    assert runner.main(["--notebook", str(notebook), "--state", str(tmp_path / "state"),
                        "--cell-timeout-s", "60", "--notebook-timeout-s", "120",
                        "--max-output-bytes", "100000", "--ready-fd", str(ready)]) == 0
    os.close(started)
    executed = nbformat.read(tmp_path / "state" / "executed.ipynb", as_version=4)
    assert executed.cells[3].outputs[0]["text"] == "42\n", "the cells around it ran"
    assert executed.cells[1].outputs == [], "an unmarked cell's saved outputs are cleared"
    plot = executed.cells[2]
    assert SAVED_NOTE in _note(plot) and plot.outputs[1] == _stream("saved output of cell 2\n")
    assert "drawing a slow plot" not in str(plot.outputs), "the marked cell did not run"


DRAW = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nprint('drawn')"
PNG = "iVBORw0KGgo="  # what a saved figure holds (base64); never decoded here


def _figure(text="<Figure size 640x480 with 1 Axes>"):
    return nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": text})


def _run_unsandboxed(tmp_path, monkeypatch, nb) -> nbformat.NotebookNode:
    """``nb`` executed by the runner as grading runs it (kernel options included), no sandbox."""
    notebook = tmp_path / "graded.ipynb"
    nbformat.write(nb, notebook)
    (tmp_path / "state").mkdir()
    monkeypatch.chdir(tmp_path)
    started, ready = os.pipe()
    assert runner.main(["--notebook", str(notebook), "--state", str(tmp_path / "state"),
                        "--cell-timeout-s", "60", "--notebook-timeout-s", "120",
                        "--max-output-bytes", "100000", "--ready-fd", str(ready),
                        *(f"--kernel-arg={arg}" for arg in KERNEL_ARGS)]) == 0
    os.close(started)
    return nbformat.read(tmp_path / "state" / "executed.ipynb", as_version=4)


def test_figures_are_not_drawn_and_the_students_saved_ones_take_their_place(tmp_path, monkeypatch):
    submitted = nbformat.v4.new_notebook(cells=[
        _cell(DRAW, "plot_a", solution=True), _cell(DRAW, "plot_b", solution=True),
        _cell(DRAW + "\nassert True", "test_plot", points=1), _cell("print('no figure')")])
    source = copy.deepcopy(submitted)
    submitted.cells[0].outputs = [_stream("drawn\n"), _figure()]
    submitted.cells[2].outputs = [_figure()]
    submitted.cells[3].outputs = [_figure()]
    to_grade = notebook_to_grade(submitted, source)
    executed = _run_unsandboxed(tmp_path, monkeypatch, to_grade.nb)
    drawn = [output for cell in executed.cells for output in cell.outputs
             if output.output_type == "display_data"]
    assert [list(output.data) for output in drawn] == [["text/plain"]] * 3, \
        "each figure is shown as its text, never rendered"
    graded = with_saved_figures(executed, to_grade.saved_figures)
    plot_a, plot_b, test_plot, no_figure = graded.cells
    assert plot_a.outputs[0] == _stream("drawn\n")
    assert _note(nbformat.from_dict({"outputs": plot_a.outputs[1:]})) == f"[{FIGURES_NOTE}]"
    assert plot_a.outputs[2].data["image/png"] == PNG and len(plot_a.outputs) == 3
    assert [output.get("data", {}).get("text/plain") for output in plot_b.outputs] == \
        [None, f"[{NO_FIGURES_NOTE}]"], "no figure saved there: the note says so"
    assert "image/png" not in str(test_plot.outputs), "a test cell shows only what grading ran"
    assert no_figure.outputs == [_stream("no figure\n")], "a cell without a figure is left alone"
    assert nbformat.validate(graded) is None


def test_a_graded_kernel_never_draws_a_figure_unless_the_code_asks(tmp_path, monkeypatch):
    """pyplot draws every new figure after its cell under IPython; the graded kernel does not
    (``autograder.undrawn_figures``), while ``savefig`` still draws."""
    make = ("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\ndraws = []\n"
            "fig.canvas.mpl_connect('draw_event', draws.append)\nax.plot([1, 2])")
    nb = nbformat.v4.new_notebook(cells=[
        _cell(make), _cell("print(len(draws))"),
        _cell("fig.savefig('figure.png')\nprint(len(draws))")])
    executed = _run_unsandboxed(tmp_path, monkeypatch, nb)
    assert [cell.outputs[-1].get("text") for cell in executed.cells[1:]] == ["0\n", "1\n"]
    assert (tmp_path / "figure.png").stat().st_size > 0


def test_a_saved_figure_brings_only_its_images_and_text():
    submitted = nbformat.v4.new_notebook(cells=[_cell(DRAW, "plot", solution=True)])
    figure = _figure()
    figure.data["text/html"] = "<script>alert(1)</script>"
    submitted.cells[0].outputs = [figure]
    _, [kept] = notebook_to_grade(submitted, copy.deepcopy(submitted)).saved_figures[0]
    assert set(kept.data) == {"image/png", "text/plain"}


def test_saved_figures_over_the_cap_are_left_out_with_a_note():
    submitted = nbformat.v4.new_notebook(cells=[_cell(DRAW, "plot", solution=True)])
    submitted.cells[0].outputs = [_figure(), _figure()]
    to_grade = notebook_to_grade(submitted, copy.deepcopy(submitted), max_saved_output_bytes=150)
    note, figures = to_grade.saved_figures[0]
    assert figures == [] and "over the 150 byte limit" in note


def test_a_cell_that_did_not_run_gets_no_saved_figures():
    submitted = nbformat.v4.new_notebook(cells=[_cell(DRAW, "plot", solution=True)])
    submitted.cells[0].outputs = [_figure()]
    to_grade = notebook_to_grade(submitted, copy.deepcopy(submitted))
    executed = copy.deepcopy(to_grade.nb)
    executed.cells[0].outputs, executed.cells[0].execution_count = [], None
    assert with_saved_figures(executed, to_grade.saved_figures).cells[0].outputs == []


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_each_cell_an_assignment_marks_is_found_in_its_reference_submission(assignment_id):
    source = read_notebook(source_notebook(assignment_id))
    marked = not_graded_cells(source)  # no marker on a test cell
    sample = read_notebook(SAMPLES / assignment_id / f"{assignment_id}.ipynb")
    graded = notebook_to_grade(sample, source).nb
    skipped = [cell for cell in graded.cells if runner.not_re_run(cell)]
    assert len(skipped) == len(marked.grade_ids) + len(marked.sources)
    for name in marked.grade_ids:
        assert runner.not_re_run(find_cell(graded, name)), name
    assert all(SAVED_NOTE in _note(cell) for cell in skipped), "the reference saved outputs"
    assert not [grade_id(cell) for cell in skipped if is_test_cell(cell)]

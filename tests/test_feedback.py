"""Feedback written in the grading process: the page `nbgrader generate_feedback` writes, without
a process per student; a cell not re-run while grading shows the student's saved outputs."""

import re
import shutil
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import TINY_ID, _cell, write_tiny_assignment
from nbconvert import HTMLExporter

from autograder.course import WorkCourse
from autograder.feedback import write_feedback
from autograder.feedback_exporter import NO_DESCRIPTION, FeedbackHTMLExporter, ImageAltText
from autograder.grade import grade_class
from autograder.graded_notebook import SAVED_NOTE
from autograder.nbgrader_plugins import FIT_TO_PAGE_CSS, HideServerPaths
from vislab.paths import REPO_ROOT

PLOT = 'print("this ran " + "while grading")'
ANSWER = "Why?\n\n=== BEGIN MARK SCHEME ===\nAny reason.\n=== END MARK SCHEME ==="
MATHS = r"The sum is $a + b$; in a matrix: $$I = \begin{bmatrix} 1 & 0 \\ 3 & 2 \end{bmatrix}$$"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The tiny assignment with a marked cell, graded for one student who ran it."""
    tmp_path = tmp_path_factory.mktemp("feedback")
    assignments, checks = write_tiny_assignment(tmp_path)
    source_path = assignments / TINY_ID / f"{TINY_ID}.ipynb"
    source = nbformat.read(source_path, as_version=4)
    plot = nbformat.v4.new_code_cell(PLOT, metadata={"vislab": {"not_graded": True}})
    source.cells.insert(3, plot)
    source.cells.insert(1, nbformat.v4.new_markdown_cell(MATHS))
    source.cells.append(_cell("markdown", ANSWER, "why_answer", points=2, solution=True))
    nbformat.write(source, source_path)
    submitted = nbformat.read(source_path, as_version=4)
    submitted.cells[-1].source = "Because a student wrote this."
    submitted.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                         text="my own run drew this\n")]
    (tmp_path / "class" / "student").mkdir(parents=True)
    nbformat.write(submitted, tmp_path / "class" / "student" / f"{TINY_ID}.ipynb")
    workdir = tmp_path / "work"
    table = grade_class(TINY_ID, tmp_path / "class", workdir, workers=1, progress=False,
                        assignments_dir=assignments, checks_dir=checks, demo_key=True)
    assert table.loc[0, "total"] == 4.5, table.loc[0, "reason"]
    return WorkCourse(workdir.resolve())


def _page(course: WorkCourse, student: str = "student") -> str:
    return (course.feedback(student, TINY_ID) / f"{TINY_ID}.html").read_text()


def test_a_cell_not_re_run_shows_the_students_saved_outputs_after_the_note(graded):
    page = _page(graded)
    assert SAVED_NOTE in page and "my own run drew this" in page
    assert "this ran while grading" not in page
    assert "BEGIN HIDDEN TESTS" not in page and "autograder.checks" not in page


def test_the_page_is_nbgrader_generate_feedbacks_with_the_kits_summary_on_top(graded):
    in_process = _page(graded)
    result = graded.nbgrader("generate_feedback", TINY_ID, "--student", "student", "--force")
    assert result.returncode == 0, result.stderr[-2000:]
    nbgraders = _page(graded)
    cells = 'id="notebook-container">'
    as_html_exporter_writes = str(BeautifulSoup(in_process, features="html.parser"))
    assert _without_headings(as_html_exporter_writes.split(cells, 1)[1]) == \
        _without_headings(nbgraders.split(cells, 1)[1])
    assert "check test_add</a>" in in_process and "Test cell</a>" in nbgraders
    assert write_feedback(graded, TINY_ID, "student") is None  # the kit's page again


def _without_headings(cells_html: str) -> str:
    """The cells of a feedback page without the headings of graded cells (and their anchors)."""
    headings = re.compile(r'(<a name="[^"]*"></a>)*<div class="panel-heading">.*?</div>', re.S)
    return headings.sub("", cells_html)


def test_each_graded_cell_is_headed_by_its_name_and_result_in_words(graded):
    page = _page(graded)
    assert re.search(r'Check test_add</span>\s*<span class="vislab-result">'
                     r'2 / 2 points, passed', page)
    assert re.search(r'Written answer why_answer</span>\s*<span class="vislab-result">'
                     r'waiting for a TA \(2 points\)', page)
    assert "Score:" not in page and "0 / 2 points" not in page


def test_feedback_is_written_again_and_a_failure_is_said_in_words(graded):
    shutil.rmtree(graded.feedback("student", TINY_ID))
    assert write_feedback(graded, TINY_ID, "student") is None
    assert SAVED_NOTE in _page(graded)
    problem = write_feedback(graded, TINY_ID, "nobody")
    assert problem.startswith("feedback could not be generated: ") and "nobody" in problem


def test_maths_is_mathml_that_needs_no_network(graded):
    page = _page(graded)
    assert page.count("<math") == 2 and "<mtable>" in page
    assert "begin{bmatrix}" not in page and "$$I" not in page and "$a + b$" not in page


def test_figures_shrink_to_the_page(graded):
    assert FIT_TO_PAGE_CSS.strip() in _page(graded)


def test_a_students_traceback_names_no_folder_of_the_grading_machine():
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[
        f"File {REPO_ROOT}/vislab/training.py:88, in fit",
        f'File "{sys.prefix}/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1',
        "File /sandbox/work/helper.py:3"])
    warning = nbformat.v4.new_output("stream", name="stderr",
                                     text=f"{sys.prefix}/lib/python3.11/site-packages/x.py: Warn")
    cell = nbformat.v4.new_code_cell("fit(...)", outputs=[error, warning])
    cell, _ = HideServerPaths().preprocess_cell(cell, {}, 0)
    shown = "\n".join(cell.outputs[0].traceback) + cell.outputs[1].text
    assert str(REPO_ROOT) not in shown and sys.prefix not in shown and "/sandbox" not in shown
    assert "vislab/training.py:88" in shown and "<site-packages>/torch/nn" in shown


def test_the_summary_names_each_check_with_its_points(graded):
    page = _page(graded)
    assert 'check test_add</a>: 2 / 2 points, passed' in page and "Test cell</a>" not in page
    assert 'check test_partial</a>: 1.5 / 3 points, partial credit' in page


def _page_of(exporter, nb) -> str:
    return exporter.from_notebook_node(nb)[0]


def test_the_feedback_exporter_writes_what_html_exporter_writes_without_reparsing_it():
    """Every PNG/JPEG gets alt text (its own text, else nbconvert's placeholder); after that,
    BeautifulSoup's pass of nbconvert's HTMLExporter changes nothing but the formatting."""
    png, jpeg = "iVBORw0KGgo=", "/9j/4AAQ"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title\n\nSome *text* and `code`."),
        nbformat.v4.new_code_cell("plot()", outputs=[
            nbformat.v4.new_output("display_data", data={
                "image/png": png, "text/plain": "<Figure size 640x480 with 1 Axes>"}),
            nbformat.v4.new_output("display_data", data={"image/jpeg": jpeg}),
            nbformat.v4.new_output("stream", name="stdout", text="done\n")])])
    nb.metadata["language_info"] = {"name": "python"}
    ours = _page_of(FeedbackHTMLExporter(template_name="classic"), nb)  # feedback's template base
    reference = HTMLExporter(template_name="classic")
    reference.register_preprocessor(ImageAltText(parent=reference), enabled=True)
    assert str(BeautifulSoup(ours, features="html.parser")) == _page_of(reference, nb)
    assert 'alt="&lt;Figure size 640x480 with 1 Axes&gt;"' in ours
    assert f'alt="{NO_DESCRIPTION}"' in ours
    assert '<span class="n">plot</span>' in ours, "code is highlighted"

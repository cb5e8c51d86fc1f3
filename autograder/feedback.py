"""Feedback for every student: nbgrader's page for a graded notebook, and for a notebook that
could not be graded, a page of its own that says why and what to do.

The graded page is written in this process, with no ``nbgrader generate_feedback`` process per
student: nbgrader's own ``GenerateFeedback`` converter, configured from the work folder's
``nbgrader_config.py`` (so with the course's feedback preprocessors, template and gradebook),
converts ``autograded/<student>/<id>/*.ipynb`` into ``feedback/<student>/<id>/*.html`` the way
``nbgrader generate_feedback <id> --student <student> --force`` does, without its process
start, its imports and its change of working directory (so it is safe in a thread). Each
thread keeps one converter per course configuration.

Feedback never shows a hidden test's code or a traceback from a test cell (see
:class:`autograder.nbgrader_plugins.HideTestTracebacks` and ``nbgrader_config.py``).
"""

import html
import threading
from pathlib import Path

import nbgrader
from nbconvert.writers import FilesWriter
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.course import CONFIG_FILE, WorkCourse
from autograder.feedback_exporter import FeedbackHTMLExporter

#: the feedback page's template: nbgrader's, with the kit's summary (autograder/templates/)
TEMPLATE = "vislab_feedback"
KIT_TEMPLATES = Path(__file__).parent / "templates"
NBGRADER_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"

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

_converters = threading.local()


def write_feedback(course: WorkCourse, assignment_id: str, student: str) -> str | None:
    """nbgrader's feedback page of a graded student; a problem in words if it failed."""
    try:
        write_feedback_pages(course, assignment_id, student)
    except Exception as error:  # noqa: BLE001 (any failure is reported, never stops grading)
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        return f"feedback could not be generated: {type(error).__name__}" + \
            (f": {first_line}" if first_line else "")
    return None


def write_feedback_pages(course: WorkCourse, assignment_id: str, student: str) -> list[Path]:
    """Convert every autograded notebook of ``student`` into its feedback page (replacing an
    earlier one); return the pages. Raises what nbgrader raises; a page that failed is removed."""
    converter = feedback_converter(course)
    source = Path(converter._format_source(assignment_id, student))
    dest = Path(converter._format_dest(assignment_id, student))
    notebooks = sorted(source.glob(f"{converter.coursedir.notebook_id}.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no autograded notebook in {source}")
    pages = [dest / f"{notebook.stem}{converter.exporter.file_extension}" for notebook in notebooks]
    for page in pages:
        page.unlink(missing_ok=True)  # --force
    # the writer makes its folder only when its folder changes: not for the same student again
    dest.mkdir(mode=0o755, parents=True, exist_ok=True)
    converter.coursedir.assignment_id, converter.coursedir.student_id = assignment_id, student
    converter.notebooks = [str(notebook) for notebook in notebooks]  # what the hooks are told
    try:
        converter.run_pre_convert_hook()
        converter.init_assignment(assignment_id, student)  # the files next to the notebook
        for notebook in notebooks:
            converter.convert_single_notebook(str(notebook))
        converter.set_permissions(assignment_id, student)
        converter.run_post_convert_hook()
    except BaseException:
        for page in pages:
            page.unlink(missing_ok=True)
        raise
    return pages


def feedback_converter(course: WorkCourse) -> GenerateFeedback:
    """This thread's ``GenerateFeedback`` for ``course`` (remade when its config changes)."""
    text = (course.root / CONFIG_FILE).read_text()
    cache = _converters.__dict__.setdefault("by_course", {})
    key = (str(course.root), text)
    if key not in cache:
        cache.clear()  # one course at a time per thread
        cache[key] = _new_converter(course.root)
    return cache[key]


def _new_converter(root: Path) -> GenerateFeedback:
    """What ``nbgrader generate_feedback`` builds in ``root``: the converter with the course's
    config, its HTML exporter (:class:`FeedbackHTMLExporter`, nbconvert's without its last
    pass) with the configured preprocessors, and its writer; the page's template is the kit's,
    nbgrader's with a summary at the top (:mod:`autograder.feedback_summary`).
    It is set here, not in the course config, where formgrader would take it for its own pages
    (the course config names the folders both templates are found in)."""
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    config.HTMLExporter.template_name = TEMPLATE
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    searched = Config()  # the kit's template extends nbgrader's by its path under it
    searched.HTMLExporter.extra_template_paths = [
        *converter.config.HTMLExporter.extra_template_paths, str(NBGRADER_TEMPLATES)]
    converter.update_config(searched)
    converter.exporter = FeedbackHTMLExporter(parent=converter, config=converter.config)
    for preprocessor in converter.preprocessors:
        converter.exporter.register_preprocessor(preprocessor)
    converter.writer = FilesWriter(parent=converter, config=converter.config)
    return converter


def write_not_graded_page(course: WorkCourse, assignment_id: str, student: str,
                          reasons: list[str]) -> None:
    """A feedback page for a student whose notebook was not graded, giving every reason."""
    folder = course.feedback(student, assignment_id)
    folder.mkdir(parents=True, exist_ok=True)
    items = "".join(f"<li>{html.escape(reason)}</li>" for reason in reasons) or \
        "<li>the notebook could not be run</li>"
    (folder / f"{assignment_id}.html").write_text(
        NOT_GRADED_PAGE.format(assignment=html.escape(assignment_id), reasons=items))

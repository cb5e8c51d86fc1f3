"""autograder.regenerate_sample: what a regenerated reference submission keeps of its run."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder import regenerate_sample
from autograder.regenerate_sample import WIDGET, copy_text, without_widget_views


def test_widget_views_go_and_what_was_saved_beside_them_stays():
    cell = new_code_cell("browser")
    cell.outputs = [
        new_output("display_data", data={WIDGET: {"model_id": "a"}, "image/png": "iVBOR",
                                         "text/plain": "the ten best images"}),
        new_output("display_data", data={WIDGET: {"model_id": "b"}}),
        new_output("stream", name="stdout", text="done\n"),
    ]
    nb = without_widget_views(new_notebook(cells=[cell]))
    outputs = nb.cells[0].outputs
    assert [output.output_type for output in outputs] == ["display_data", "stream"]
    assert set(outputs[0].data) == {"image/png", "text/plain"}


def _write(folder, cells):
    folder.mkdir(parents=True)
    nbformat.write(new_notebook(cells=cells), folder / "a9.ipynb")


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setattr(regenerate_sample, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(regenerate_sample, "SAMPLES", tmp_path / "samples")
    trained = new_code_cell("fit()")
    trained.outputs = [new_output("stream", name="stdout", text="val_accuracy 0.91\n")]
    _write(tmp_path / "samples" / "a9", [new_markdown_cell("Expect 37%."), trained])
    return tmp_path


def test_text_only_takes_the_solutions_markdown_and_keeps_the_outputs(course):
    _write(course / "solutions" / "a9", [new_markdown_cell("Expect 82%."), new_code_cell("fit()")])
    copy_text("a9")
    sample = nbformat.read(course / "samples" / "a9" / "a9.ipynb", as_version=4)
    assert sample.cells[0].source == "Expect 82%."
    assert sample.cells[1].outputs[0].text == "val_accuracy 0.91\n"


def test_text_only_refuses_when_the_code_changed(course):
    _write(course / "solutions" / "a9", [new_markdown_cell("Expect 82%."),
                                         new_code_cell("fit(num_epochs=3)")])
    with pytest.raises(SystemExit, match="regenerate_sample a9"):
        copy_text("a9")

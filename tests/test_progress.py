"""Progress bars: in an executed notebook the saved outputs keep one finished line per bar, never a
frozen ``0%`` widget, and nothing for an inner bar (``leave=False``). Run in a real kernel with
nbclient, which applies display updates to the saved notebook as JupyterLab does."""

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from autograder.regenerate_sample import WIDGET
from autograder.sample_classes import SAMPLES
from vislab.a1_multilabel.scenes import draw_scenes
from vislab.paths import REPO_ROOT

CELLS = [
    """from vislab.progress import progress_bar
for _ in progress_bar(range(3), desc="epochs", unit="epoch"):
    for _ in progress_bar(range(4), desc="train", leave=False):
        pass""",
    """bar = progress_bar(range(10), desc="stopped")
for step in bar:
    if step == 3:
        break
bar.close()""",
]


def _executed(tmp_path) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(source) for source in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    nbformat.write(nb, tmp_path / "executed.ipynb")
    return nbformat.read(tmp_path / "executed.ipynb", as_version=4)


def _texts(cell) -> list[str]:
    assert not [out for out in cell.outputs if WIDGET in out.get("data", {})], \
        "a widget output was saved"
    return [out.data["text/plain"] for out in cell.outputs if "data" in out]


def test_a_saved_notebook_keeps_each_finished_bar_as_one_line(tmp_path):
    nested, stopped = (_texts(cell) for cell in _executed(tmp_path).cells)
    finished = [text for text in nested if text]
    assert len(finished) == 1 and finished[0].startswith("epochs: 100%") \
        and "3/3" in finished[0], nested
    assert nested.count("") == len(nested) - 1 == 3, "an inner bar (leave=False) leaves nothing"
    assert len(stopped) == 1 and stopped[0].startswith("stopped:  30%"), stopped


def test_drawing_an_embedded_set_shows_progress(capsys):
    images, labels = draw_scenes(np.random.default_rng(0), 3)
    assert images.shape[0] == labels.shape[0] == 3
    assert "drawing scenes" in capsys.readouterr().err


def test_no_reference_submission_keeps_a_frozen_progress_bar():
    """The committed samples show finished bars (as progress_bar leaves them), never a widget
    view, which a saved notebook and its feedback page show as a frozen "0%"."""
    for sample in sorted(SAMPLES.glob("*/*.ipynb")):
        notebook = nbformat.read(sample, as_version=4)
        widgets = [output for cell in notebook.cells for output in cell.get("outputs", [])
                   if WIDGET in output.get("data", {})]
        assert widgets == [], f"{sample.name} keeps {len(widgets)} widget views"

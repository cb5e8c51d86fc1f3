"""a1's image browser: a live widget, and in a saved notebook the picture and the report it showed
(what a feedback page renders) instead of ``VBox(children=...)``."""

import base64

import nbformat
import torch
from nbconvert import HTMLExporter

from vislab.a1_multilabel.browser import class_browser

CLASSES = ["cat", "dog", "tree"]


def _browser():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(6, 4, 16, 16, generator=generator)
    scores = torch.rand(6, 3, generator=generator)
    labels = (torch.rand(6, 3, generator=generator) > 0.5).long()

    def tail_accuracy(scores, labels, t):
        return torch.full((scores.shape[1],), 0.5)

    return class_browser(lambda i: images[i], scores, labels, CLASSES, tail_accuracy, k=2)


def test_the_saved_output_holds_the_picture_and_the_report():
    bundle = _browser()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # live: the widget
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert bundle["text/plain"].startswith("cat: ") and "Tailacc(t) = 0.500" in bundle["text/plain"]
    assert "VBox" not in bundle["text/plain"] and "<b>" not in bundle["text/plain"]


def test_a_feedback_page_shows_the_picture_not_the_widget_repr():
    bundle = _browser()._repr_mimebundle_()
    output = nbformat.v4.new_output("display_data", data=bundle)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("class_browser(...)",
                                                                   outputs=[output])])
    page, _ = HTMLExporter().from_notebook_node(nb)
    assert f"data:image/png;base64,{bundle['image/png'][:200]}" in page
    assert "VBox(children" not in page

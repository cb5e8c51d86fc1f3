"""a1's image browser: a live widget, and in a saved notebook the picture and the report it showed
(what a feedback page renders) instead of ``VBox(children=...)``."""

import base64

import nbformat
import torch
from nbconvert import HTMLExporter

from vislab.a1_multilabel.browser import BROWSER_DPI, class_browser, top_bottom_figure

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


def test_the_true_labels_are_at_least_9_pixels_at_the_browsers_resolution():
    generator = torch.Generator().manual_seed(1)
    images, scores = torch.rand(6, 3, 16, 16, generator=generator), torch.rand(6, 3)
    labels = torch.ones(6, 3, dtype=torch.long)
    fig = top_bottom_figure(lambda i: images[i], scores, labels, CLASSES, 0, k=3)
    label_texts = [text for ax in fig.axes for text in ax.texts if "cat" in text.get_text()]
    assert len(label_texts) == 6
    assert min(text.get_fontsize() for text in label_texts) * BROWSER_DPI / 72 >= 9

"""Browsing a multi-label model's best and worst cases: top-k and bottom-k images of one class.

:func:`top_bottom_figure` draws the ``k`` validation images a model scores highest for a class
and the ``k`` it scores lowest, each titled with its score and whether the class is really in
it (``+``/``-``), with the image's true labels below. :func:`class_browser` wraps it in
ipywidgets: a class menu, a band menu (RGB or NIR when there is one) and a threshold slider
that reports the tail accuracy at that threshold (computed by the function the student wrote).
The figure is sent to the widget as a PNG image (no Output widget: nothing to capture). A saved
notebook keeps that picture and the report as text next to the widget, which is what a viewer
without the live widget shows (a feedback page, nbconvert), instead of ``VBox(children=...)``.
"""

import base64
import html
import io
import re
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch


def top_and_bottom(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions of the ``k`` highest scores (highest first) and the ``k`` lowest (lowest first).

    ``scores`` is Tensor[N] for one class; ``k`` larger than N gives all N. Ties keep input order.

    >>> top_and_bottom(torch.tensor([0.2, 0.9, 0.5, 0.1]), 2)
    (tensor([1, 2]), tensor([3, 0]))
    """
    order = torch.argsort(scores, descending=True, stable=True)
    k = min(k, len(scores))
    return order[:k], torch.argsort(scores, stable=True)[:k]


def _panel(image: torch.Tensor, band: str) -> tuple[torch.Tensor, str | None]:
    """(H, W, 3) RGB or (H, W) NIR for ``imshow``, and the colour map."""
    if band == "nir":
        if image.shape[0] < 4:
            raise ValueError(f"band 'nir' needs 4-band images, these have {image.shape[0]}")
        return image[3], "gray"
    return image[:3].permute(1, 2, 0), None


ImageAt = Callable[[int], torch.Tensor]
#: resolution of the browser's picture, and the size of the true labels under each image in it
#: (8.5 pt: 9.4 px)
BROWSER_DPI = 80
LABEL_POINTS = 8.5


def top_bottom_figure(image_at: ImageAt, scores: torch.Tensor, labels: torch.Tensor,
                      classes: Sequence[str], class_index: int, k: int = 10, band: str = "rgb"):
    """The top-``k`` and bottom-``k`` images of class ``class_index``.

    ``image_at(i)`` gives image ``i`` as Tensor[bands, H, W] in [0, 1] (RGB first, NIR fourth
    when there is one), so only the 2k shown images are read; ``scores`` Tensor[N, C]
    (probabilities) and ``labels`` Tensor[N, C] (0/1) are in the same order. Returns the Figure.
    """
    if band not in ("rgb", "nir"):
        raise ValueError(f"band must be 'rgb' or 'nir', got {band!r}")
    top, bottom = top_and_bottom(scores[:, class_index], k)
    fig, axes = plt.subplots(2, k, figsize=(1.55 * k, 6.8), squeeze=False)
    for row, (name, positions) in enumerate([("top", top), ("bottom", bottom)]):
        for column, ax in enumerate(axes[row]):
            ax.axis("off")
            if column >= len(positions):
                continue
            i = positions[column].item()
            picture, cmap = _panel(image_at(i), band)
            ax.imshow(picture, cmap=cmap, vmin=0, vmax=1)
            mark = "+" if labels[i, class_index] == 1 else "-"
            ax.set_title(f"{scores[i, class_index]:.3f} {mark}", fontsize=9,
                         color="green" if mark == "+" else "red")
            true = [classes[c] for c in torch.nonzero(labels[i]).flatten().tolist()]
            ax.text(0.5, -0.04, "\n".join(true[:4]) + ("\n..." if len(true) > 4 else ""),
                    transform=ax.transAxes, ha="center", va="top", fontsize=LABEL_POINTS)
        axes[row][0].text(-0.15, 0.5, name, transform=axes[row][0].transAxes, rotation=90,
                          ha="right", va="center", fontsize=11)
    fig.suptitle(f"{classes[class_index]}: highest and lowest scores (+ = really in the image)")
    fig.tight_layout()
    # room for up to five lines of true labels under each row
    fig.subplots_adjust(hspace=0.85, bottom=0.17)
    return fig


class _Browser(widgets.VBox):
    """The browser's box; its output also holds the picture and the report it shows now."""

    def __init__(self, children, picture: widgets.Image, report: widgets.HTML):
        super().__init__(children)
        self._picture, self._report = picture, report

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self._picture.value).decode()
        bundle["text/plain"] = html.unescape(re.sub(r"<[^>]+>", "", self._report.value))
        return bundle


def class_browser(image_at: ImageAt, scores: torch.Tensor, labels: torch.Tensor,
                  classes: Sequence[str],
                  tail_accuracy: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor],
                  k: int = 10) -> widgets.Widget:
    """A widget: pick a class (and band), see its top/bottom-``k`` images and Tailacc(t).

    ``image_at``, ``scores``, ``labels`` as in :func:`top_bottom_figure`;
    ``tail_accuracy(scores, labels, t) -> Tensor[C]`` is the student's function.
    """
    bands = ["rgb", "nir"] if image_at(0).shape[0] >= 4 else ["rgb"]
    pick_class = widgets.Dropdown(options=[(name, i) for i, name in enumerate(classes)],
                                  description="class")
    pick_band = widgets.ToggleButtons(options=bands, description="band")
    threshold = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="t",
                                    continuous_update=False)
    report, picture = widgets.HTML(), widgets.Image(format="png")

    def update(_=None):
        c, t = pick_class.value, threshold.value
        above = int((scores[:, c] > t).sum())
        value = float(tail_accuracy(scores, labels, t)[c])
        report.value = (f"<b>{classes[c]}</b>: {above} validation images score above t = "
                        f"{t:.2f}; Tailacc(t) = {value:.3f} (NaN: none above t)")
        figure = top_bottom_figure(image_at, scores, labels, classes, c, k, pick_band.value)
        png = io.BytesIO()
        figure.savefig(png, format="png", dpi=BROWSER_DPI)
        plt.close(figure)
        picture.value = png.getvalue()

    for control in (pick_class, pick_band, threshold):
        control.observe(update, names="value")
    update()
    return _Browser([widgets.HBox([pick_class, pick_band]), threshold, report, picture], picture,
                    report)

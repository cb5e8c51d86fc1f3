"""Drawing digit boxes: the label conventions, and true and predicted boxes over images.

Boxes are drawn with ``torchvision.utils.draw_bounding_boxes`` on images enlarged ``ZOOM`` times
(a 48 x 60 image is too small for readable lines). Every function returns a matplotlib
``Figure``. True boxes are green, predicted ones red with ``class score`` written above them.
"""

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from torchvision.utils import draw_bounding_boxes

from vislab.data.inf265_labels import GRID_COLS, GRID_ROWS, IMAGE_HEIGHT, IMAGE_WIDTH

ZOOM = 4
TRUE_COLOR, PREDICTED_COLOR = "lime", "red"


def draw_boxes(image: torch.Tensor, target: dict | None = None,
               prediction: dict | None = None) -> torch.Tensor:
    """One image (``Tensor[1, H, W]`` in [0, 1]) with boxes, as ``Tensor[3, ZOOM H, ZOOM W]``.

    ``target`` and ``prediction`` hold pixel xyxy ``boxes`` and ``labels`` (a prediction also
    ``scores``), as in torchvision's detection models.
    """
    grey = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    canvas = grey.repeat(3, 1, 1).repeat_interleave(ZOOM, 1).repeat_interleave(ZOOM, 2)
    if target is not None and len(target["boxes"]):
        canvas = draw_bounding_boxes(canvas, target["boxes"].float() * ZOOM,
                                     colors=TRUE_COLOR, width=2)
    if prediction is not None and len(prediction["boxes"]):
        captions = [f"{int(label)} {float(score):.2f}" for label, score
                    in zip(prediction["labels"], prediction["scores"], strict=True)]
        boxes = prediction["boxes"].float().clamp(min=0) * ZOOM
        canvas = draw_bounding_boxes(canvas, boxes, labels=captions, colors=PREDICTED_COLOR,
                                     width=2, label_colors="yellow")
    return canvas


def show_detections(images: torch.Tensor, targets: Sequence[dict] | None = None,
                    predictions: Sequence[dict] | None = None,
                    titles: Sequence[str] | None = None, ncols: int = 4):
    """A grid of images (``Tensor[N, 1, H, W]``) with true (green) and predicted (red) boxes."""
    count = len(images)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.8 * nrows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        drawn = draw_boxes(images[index], targets[index] if targets is not None else None,
                           predictions[index] if predictions is not None else None)
        ax.imshow(drawn.permute(1, 2, 0))
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    fig.tight_layout()
    return fig


def plot_label_convention(image: torch.Tensor, label: torch.Tensor):
    """How ``[p, x, y, w, h, c]`` describes the digit of ``image`` (``Tensor[1, 48, 60]``)."""
    p, x, y, w, h, c = label.tolist()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    ax.imshow(image[0], cmap="gray", extent=(0, IMAGE_WIDTH, IMAGE_HEIGHT, 0))
    cx, cy, bw, bh = x * IMAGE_WIDTH, y * IMAGE_HEIGHT, w * IMAGE_WIDTH, h * IMAGE_HEIGHT
    ax.add_patch(plt.Rectangle((cx - bw / 2, cy - bh / 2), bw, bh, fill=False, color=TRUE_COLOR,
                               lw=2))
    ax.plot(cx, cy, "o", color="orange")
    arrow = {"arrowstyle": "->", "color": "orange", "lw": 1.5}
    ax.annotate("", xy=(cx, 0.5), xytext=(0, 0.5), arrowprops=arrow)
    ax.annotate("", xy=(0.5, cy), xytext=(0.5, 0), arrowprops=arrow)
    ax.text(cx / 2, 2.5, f"x = {x:.2f} (x 60 = {cx:.1f} px)", color="orange", ha="center")
    ax.text(1.5, cy / 2, f"y = {y:.2f}\n(x 48 = {cy:.1f} px)", color="orange", va="center")
    ax.annotate("", xy=(cx + bw / 2, cy + bh / 2 + 1.5), xytext=(cx - bw / 2, cy + bh / 2 + 1.5),
                arrowprops={"arrowstyle": "<->", "color": TRUE_COLOR})
    ax.text(cx, cy + bh / 2 + 3.5, f"w = {w:.2f}", color=TRUE_COLOR, ha="center", va="top")
    ax.annotate("", xy=(cx + bw / 2 + 1.5, cy + bh / 2), xytext=(cx + bw / 2 + 1.5, cy - bh / 2),
                arrowprops={"arrowstyle": "<->", "color": TRUE_COLOR})
    ax.text(cx + bw / 2 + 2.5, cy, f"h = {h:.2f}", color=TRUE_COLOR, va="center")
    ax.set_title(f"label [p, x, y, w, h, c] = [{p:.0f}, {x:.2f}, {y:.2f}, {w:.2f}, {h:.2f}, "
                 f"{c:.0f}]\n(0, 0) is the top-left corner; x grows to the right, y downwards")
    ax.set_xticks(range(0, IMAGE_WIDTH + 1, 10))
    ax.set_yticks(range(0, IMAGE_HEIGHT + 1, 8))
    ax.set_xlabel("column (pixels), width 60")
    ax.set_ylabel("row (pixels), height 48")
    fig.tight_layout()
    return fig


def plot_grid_convention(image: torch.Tensor, objects: torch.Tensor):
    """The 2 x 3 grid over ``image`` (``Tensor[1, 48, 60]``), each object's cell and its
    cell-local label (``objects``: ``Tensor[K, 6]`` in image coordinates)."""
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    ax.imshow(image[0], cmap="gray", extent=(0, IMAGE_WIDTH, IMAGE_HEIGHT, 0))
    cell_h, cell_w = IMAGE_HEIGHT / GRID_ROWS, IMAGE_WIDTH / GRID_COLS
    for row in range(GRID_ROWS):
        for col in range(GRID_COLS):
            ax.add_patch(plt.Rectangle((col * cell_w, row * cell_h), cell_w, cell_h, fill=False,
                                       color="deepskyblue", lw=1, ls="--"))
            ax.text(col * cell_w + 1, row * cell_h + 3, f"({row}, {col})", color="deepskyblue",
                    fontsize=8)
    lines = []
    for _, x, y, w, h, c in objects.tolist():
        row, col = min(int(y * GRID_ROWS), GRID_ROWS - 1), min(int(x * GRID_COLS), GRID_COLS - 1)
        cx, cy, bw, bh = x * IMAGE_WIDTH, y * IMAGE_HEIGHT, w * IMAGE_WIDTH, h * IMAGE_HEIGHT
        ax.add_patch(plt.Rectangle((cx - bw / 2, cy - bh / 2), bw, bh, fill=False,
                                   color=TRUE_COLOR, lw=2))
        ax.plot(cx, cy, "o", color="orange")
        lines.append(f"cell ({row}, {col}): [1, {x * GRID_COLS - col:.2f}, "
                     f"{y * GRID_ROWS - row:.2f}, {w * GRID_COLS:.2f}, {h * GRID_ROWS:.2f}, "
                     f"{c:.0f}]")
    ax.set_title("2 x 3 grid of 24 x 20 pixel cells; the cell holding a digit's centre "
                 "(orange) describes it\n" + "\n".join(lines), fontsize=9)
    ax.set_xticks(range(0, IMAGE_WIDTH + 1, 10))
    ax.set_yticks(range(0, IMAGE_HEIGHT + 1, 8))
    fig.tight_layout()
    return fig

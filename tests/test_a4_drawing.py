"""a4_detection drawings: boxes land at their pixel corners, one figure panel per image."""

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from vislab.a4_detection.drawing import (  # noqa: E402
    ZOOM,
    draw_boxes,
    plot_grid_convention,
    plot_label_convention,
    show_detections,
)

GREEN = torch.tensor([0, 255, 0], dtype=torch.uint8)
RED = torch.tensor([255, 0, 0], dtype=torch.uint8)


def test_true_and_predicted_boxes_are_drawn_at_their_corners_on_the_enlarged_image():
    image = torch.zeros(1, 48, 60)
    target = {"boxes": torch.tensor([[10.0, 5.0, 30.0, 25.0]]), "labels": torch.tensor([1])}
    prediction = {"boxes": torch.tensor([[40.0, 20.0, 55.0, 40.0]]), "labels": torch.tensor([0]),
                  "scores": torch.tensor([0.8])}
    drawn = draw_boxes(image, target, prediction)
    assert drawn.shape == (3, 48 * ZOOM, 60 * ZOOM) and drawn.dtype == torch.uint8
    assert torch.equal(drawn[:, 5 * ZOOM, 20 * ZOOM], GREEN)   # top edge of the true box
    assert torch.equal(drawn[:, 30 * ZOOM, 40 * ZOOM], RED)    # left edge of the prediction
    assert torch.equal(drawn[:, 2, 2], torch.zeros(3, dtype=torch.uint8))  # background untouched


def test_images_without_boxes_are_drawn_plain():
    image = torch.full((1, 48, 60), 0.5)
    empty = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}
    drawn = draw_boxes(image, empty, dict(empty, scores=torch.zeros(0)))
    assert (drawn == 128).all()


def test_figures_have_a_panel_per_image_and_show_the_label():
    images = torch.rand(5, 1, 48, 60)
    figure = show_detections(images, titles=[str(i) for i in range(5)], ncols=3)
    titled = [ax for ax in figure.axes if ax.get_title()]
    assert len(figure.axes) == 6 and len(titled) == 5
    label = torch.tensor([1.0, 0.5, 0.25, 0.2, 0.3, 7])
    assert "[1, 0.50, 0.25, 0.20, 0.30, 7]" in plot_label_convention(images[0], label).axes[0] \
        .get_title()
    objects = torch.tensor([[1.0, 0.5, 0.75, 0.2, 0.25, 1]])
    title = plot_grid_convention(images[0], objects).axes[0].get_title()
    assert "cell (1, 1): [1, 0.50, 0.50, 0.60, 0.50, 1]" in title

"""The label format of digit localisation and grid detection (UiB INF265, project 2).

Images are grey, ``Tensor[N, 1, 48, 60]``: height 48, width 60, values in [0, 1].

A **localisation label** is ``[p, x, y, w, h, c]`` (``Tensor[6]``):

- ``p``: 1 when the image holds a digit, 0 when it is empty;
- ``(x, y)``: the centre of the digit's box relative to the image, ``x`` measured from the left
  edge in units of the width (60 pixels), ``y`` from the top edge in units of the height (48
  pixels), so ``(0, 0)`` is the top-left corner and ``(1, 1)`` the bottom-right one;
- ``(w, h)``: the box's width and height in the same units;
- ``c``: the digit's class, a whole number stored as a float.

When ``p = 0`` the other five values mean nothing (the kit's builders write zeros).

A **detection image** holds any number of digits; its **objects** are ``Tensor[K, 6]``, one
localisation label (``p = 1``) per digit. Its **grid label** is ``Tensor[2, 3, 6]``: the image is
cut into 2 rows and 3 columns of cells of 24 x 20 pixels, and the cell that contains a digit's
centre holds ``[1, x_cell, y_cell, w_cell, h_cell, c]`` in cell units: ``x_cell = 3 x - col`` and
``y_cell = 2 y - row`` lie in [0, 1) within the cell, ``w_cell = 3 w`` and ``h_cell = 2 h`` may
exceed 1. A cell without a centre is all zeros.
"""

import torch

IMAGE_HEIGHT, IMAGE_WIDTH = 48, 60
IMAGE_SHAPE = (1, IMAGE_HEIGHT, IMAGE_WIDTH)
GRID_ROWS, GRID_COLS = 2, 3
LABEL_FIELDS = ("p", "x", "y", "w", "h", "c")
#: localisation classes (digits 0-9) and the detection classes of the original (digits 0 and 1)
LOCALIZATION_CLASSES = 10
DETECTION_CLASSES = 2


class InvalidLabels(ValueError):
    """Images or labels that do not follow the INF265 format; the message says what to fix."""


def validate_images(X: torch.Tensor, where: str) -> None:
    """Check that ``X`` is ``Tensor[N, 1, 48, 60]`` of finite values in [0, 1] (or uint8)."""
    if not isinstance(X, torch.Tensor):
        raise InvalidLabels(f"{where}: images must be a tensor, got {type(X).__name__}")
    if tuple(X.shape[1:]) != IMAGE_SHAPE or X.dim() != 4:
        raise InvalidLabels(f"{where}: images must have shape (N, 1, 48, 60), got "
                            f"{tuple(X.shape)}")
    if X.dtype == torch.uint8:
        return
    if not X.is_floating_point():
        raise InvalidLabels(f"{where}: images must be float (or uint8), got {X.dtype}")
    if not torch.isfinite(X).all():
        raise InvalidLabels(f"{where}: images contain NaN or infinite values")
    if len(X) and (X.min() < 0 or X.max() > 1):
        raise InvalidLabels(f"{where}: image values must lie in [0, 1], found "
                            f"[{X.min().item():.3g}, {X.max().item():.3g}]: were they normalised "
                            "already? Give the raw images")


def validate_localization_labels(y: torch.Tensor, num_classes: int, where: str) -> None:
    """Check localisation labels ``y`` (``Tensor[N, 6]``, see the module docstring)."""
    if not isinstance(y, torch.Tensor) or y.dim() != 2 or y.shape[1] != len(LABEL_FIELDS):
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise InvalidLabels(f"{where}: labels must have shape (N, 6) holding [p, x, y, w, h, c], "
                            f"got {shape}")
    _validate_rows(y, num_classes, where, allow_empty_rows=True)


def validate_objects(objects: torch.Tensor, num_classes: int, where: str) -> None:
    """Check the objects of one detection image (``Tensor[K, 6]``, every ``p`` equal to 1)."""
    if not isinstance(objects, torch.Tensor) or objects.dim() != 2 or objects.shape[1] != 6:
        shape = tuple(objects.shape) if isinstance(objects, torch.Tensor) else type(objects)
        raise InvalidLabels(f"{where}: objects must have shape (K, 6) holding [p, x, y, w, h, c], "
                            f"got {shape}")
    _validate_rows(objects, num_classes, where, allow_empty_rows=False)


def validate_grid_labels(y: torch.Tensor, num_classes: int, where: str) -> None:
    """Check grid labels ``y`` (``Tensor[N, 2, 3, 6]``, cell units, see the module docstring)."""
    if not isinstance(y, torch.Tensor) or tuple(y.shape[1:]) != (GRID_ROWS, GRID_COLS, 6) \
            or y.dim() != 4:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise InvalidLabels(f"{where}: grid labels must have shape (N, 2, 3, 6), got {shape}")
    if not torch.isfinite(y).all():
        raise InvalidLabels(f"{where}: grid labels contain NaN or infinite values")
    p = y[..., 0]
    if not ((p == 0) | (p == 1)).all():
        raise InvalidLabels(f"{where}: the presence p of every cell must be 0 or 1")
    full = y[p == 1]
    if ((full[:, 1:3] < 0) | (full[:, 1:3] > 1)).any():
        raise InvalidLabels(f"{where}: a cell's centre (x_cell, y_cell) must lie in [0, 1] "
                            "(cell units): are these image coordinates rather than cell ones?")
    if (full[:, 3:5] <= 0).any() or (full[:, 3] > GRID_COLS).any() \
            or (full[:, 4] > GRID_ROWS).any():
        raise InvalidLabels(f"{where}: a cell's box size must be positive and at most the image "
                            "(w_cell <= 3, h_cell <= 2)")
    _validate_classes(full[:, 5], num_classes, where)


def _validate_rows(rows: torch.Tensor, num_classes: int, where: str,
                   allow_empty_rows: bool) -> None:
    if not rows.is_floating_point() or not torch.isfinite(rows).all():
        raise InvalidLabels(f"{where}: labels must be finite floats")
    p = rows[:, 0]
    allowed = (p == 0) | (p == 1) if allow_empty_rows else p == 1
    if not allowed.all():
        expected = "0 or 1" if allow_empty_rows else "1 for every object"
        raise InvalidLabels(f"{where}: the presence p (first column) must be {expected}")
    full = rows[p == 1]
    if ((full[:, 1:5] < 0) | (full[:, 1:5] > 1)).any():
        raise InvalidLabels(f"{where}: x, y, w, h must lie in [0, 1] (relative to the image); "
                            "are they pixels?")
    if (full[:, 3:5] <= 0).any():
        raise InvalidLabels(f"{where}: a digit's box must have a positive width and height")
    _validate_classes(full[:, 5], num_classes, where)


def _validate_classes(c: torch.Tensor, num_classes: int, where: str) -> None:
    if ((c != c.round()) | (c < 0) | (c >= num_classes)).any():
        raise InvalidLabels(f"{where}: the class c (last column) must be a whole number in "
                            f"0..{num_classes - 1}")


def objects_to_grid(objects: list[torch.Tensor]) -> torch.Tensor:
    """Grid labels (``Tensor[N, 2, 3, 6]``) of N images' objects (each ``Tensor[K, 6]``).

    Raises ``ValueError`` when two centres fall in one cell (the grid can hold only one).

    >>> grid = objects_to_grid([torch.tensor([[1.0, 0.5, 0.75, 0.2, 0.25, 1.0]])])
    >>> grid[0, 1, 1].tolist()
    [1.0, 0.5, 0.5, 0.6000000238418579, 0.5, 1.0]
    """
    grid = torch.zeros(len(objects), GRID_ROWS, GRID_COLS, 6)
    for index, rows in enumerate(objects):
        for p, x, y, w, h, c in rows.tolist():
            row = min(int(y * GRID_ROWS), GRID_ROWS - 1)
            col = min(int(x * GRID_COLS), GRID_COLS - 1)
            if grid[index, row, col, 0] == 1:
                raise ValueError(f"image {index}: two objects have their centre in cell "
                                 f"({row}, {col}); a grid label holds one object per cell")
            grid[index, row, col] = torch.tensor(
                [p, x * GRID_COLS - col, y * GRID_ROWS - row, w * GRID_COLS, h * GRID_ROWS, c])
    return grid


def flatten_objects(objects: list[torch.Tensor]) -> torch.Tensor:
    """All images' objects in one ``Tensor[M, 7]``: ``[image_index, p, x, y, w, h, c]``.

    >>> flatten_objects([torch.ones(1, 6), torch.zeros(0, 6), torch.ones(2, 6)])[:, 0].tolist()
    [0.0, 2.0, 2.0]
    """
    parts = [torch.cat([torch.full((len(rows), 1), float(index)), rows.float()], dim=1)
             for index, rows in enumerate(objects)]
    return torch.cat(parts) if parts else torch.zeros(0, 7)


def unflatten_objects(flat: torch.Tensor, num_images: int) -> list[torch.Tensor]:
    """The inverse of :func:`flatten_objects`: one ``Tensor[K, 6]`` per image (K may be 0)."""
    index = flat[:, 0].long()
    return [flat[index == i, 1:] for i in range(num_images)]

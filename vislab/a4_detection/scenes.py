"""Composing digit glyphs into 48 x 60 scenes with boxes, the way INF265's data was made.

Both the MNIST builder (:mod:`vislab.data.mnist_idx`) and the embedded default
(:mod:`vislab.a4_detection.embedded`) hand their glyphs (grey digit images of any size) to
:func:`localization_scenes` and :func:`detection_scenes`. Each scene gets a background with a
gradient, clutter (line segments and small fragments of other digits, which are not digits and
carry no box), digits resized and placed at random, a blur and noise. A digit's box is the tight
box around its ink after resizing. Everything depends only on the ``numpy`` generator passed in.
"""

from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter
from skimage.transform import resize

from vislab.data.inf265_labels import IMAGE_HEIGHT, IMAGE_WIDTH, objects_to_grid
from vislab.progress import progress_bar

#: a pixel belongs to a digit's ink above this fraction of the glyph's maximum
INK_THRESHOLD = 0.25


@dataclass(frozen=True)
class SceneStyle:
    """How hard the scenes are: ranges ``(low, high)`` drawn uniformly per image or digit."""

    digit_height: tuple[int, int]
    aspect_jitter: tuple[float, float] = (0.8, 1.25)
    contrast: tuple[float, float] = (0.6, 1.0)
    background: tuple[float, float] = (0.0, 0.3)
    gradient: tuple[float, float] = (0.0, 0.2)
    clutter: tuple[int, int] = (0, 3)
    blur_sigma: tuple[float, float] = (0.0, 0.8)
    noise_std: tuple[float, float] = (0.02, 0.08)


LOCALIZATION_STYLE = SceneStyle(digit_height=(20, 38))
DETECTION_STYLE = SceneStyle(digit_height=(14, 22))


def tight_glyphs(glyphs: np.ndarray) -> list[np.ndarray]:
    """Each glyph (``array[G, H, W]``, any range) scaled to [0, 1] and cropped to its ink.

    Raises ``ValueError`` for a glyph without ink (all zeros).
    """
    cropped = []
    for index, glyph in enumerate(np.asarray(glyphs, dtype=np.float32)):
        top = glyph.max()
        if top <= 0:
            raise ValueError(f"glyph {index} is blank: every digit image needs some ink")
        glyph = glyph / top
        rows = np.flatnonzero((glyph > INK_THRESHOLD).any(axis=1))
        cols = np.flatnonzero((glyph > INK_THRESHOLD).any(axis=0))
        cropped.append(glyph[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    return cropped


def localization_scenes(glyphs: list[np.ndarray], classes: np.ndarray, num_images: int,
                        empty_fraction: float, rng: np.random.Generator,
                        style: SceneStyle = LOCALIZATION_STYLE,
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """``num_images`` scenes with at most one digit each.

    ``glyphs`` come from :func:`tight_glyphs`, ``classes`` (``array[G]``) are their labels. About
    ``empty_fraction`` of the scenes hold no digit. Returns ``X`` (``Tensor[N, 1, 48, 60]``,
    uint8) and ``y`` (``Tensor[N, 6]``, ``[p, x, y, w, h, c]``, zeros for empty scenes).
    """
    X = np.zeros((num_images, IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.uint8)
    y = np.zeros((num_images, 6), dtype=np.float32)
    for index in progress_bar(range(num_images), desc="drawing localisation scenes", unit="image",
                              leave=False):
        canvas = _background(rng, style)
        _add_clutter(canvas, glyphs, rng, style)
        if rng.random() >= empty_fraction:
            choice = rng.integers(len(glyphs))
            digit = _render_digit(glyphs[choice], rng, style)
            height, width = digit.shape
            top = rng.integers(0, IMAGE_HEIGHT - height + 1)
            left = rng.integers(0, IMAGE_WIDTH - width + 1)
            _paste(canvas, digit, top, left)
            y[index] = _label(top, left, height, width, classes[choice])
        X[index] = _finish(canvas, rng, style)
    return torch.from_numpy(X).unsqueeze(1), torch.from_numpy(y)


def detection_scenes(glyphs: list[np.ndarray], classes: np.ndarray, num_images: int,
                     count_probabilities: list[float], rng: np.random.Generator,
                     style: SceneStyle = DETECTION_STYLE,
                     ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """``num_images`` scenes with several digits each, at most one centre per grid cell.

    ``count_probabilities[k]`` is the probability of ``k`` digits; digits' boxes never overlap.
    Returns ``X`` (``Tensor[N, 1, 48, 60]``, uint8), the objects of each image (``Tensor[K, 6]``)
    and their grid labels (``Tensor[N, 2, 3, 6]``).
    """
    X = np.zeros((num_images, IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.uint8)
    objects = []
    counts = rng.choice(len(count_probabilities), size=num_images, p=count_probabilities)
    for index, count in enumerate(progress_bar(counts, desc="drawing detection scenes",
                                               unit="image", leave=False)):
        canvas = _background(rng, style)
        _add_clutter(canvas, glyphs, rng, style)
        rows, boxes, cells = [], [], set()
        for _ in range(count):
            choice = rng.integers(len(glyphs))
            digit = _render_digit(glyphs[choice], rng, style)
            placed = _free_spot(digit.shape, boxes, cells, rng)
            if placed is None:
                continue
            top, left = placed
            _paste(canvas, digit, top, left)
            rows.append(_label(top, left, *digit.shape, classes[choice]))
        objects.append(torch.tensor(np.array(rows, dtype=np.float32).reshape(-1, 6)))
        X[index] = _finish(canvas, rng, style)
    return torch.from_numpy(X).unsqueeze(1), objects, objects_to_grid(objects)


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


def _background(rng: np.random.Generator, style: SceneStyle) -> np.ndarray:
    level, slope = _uniform(rng, style.background), _uniform(rng, style.gradient)
    angle = rng.uniform(0, 2 * np.pi)
    rows, cols = np.mgrid[0:IMAGE_HEIGHT, 0:IMAGE_WIDTH]
    ramp = (np.cos(angle) * cols / IMAGE_WIDTH + np.sin(angle) * rows / IMAGE_HEIGHT)
    return (level + slope * (ramp - ramp.min())).astype(np.float32)


def _add_clutter(canvas: np.ndarray, glyphs: list[np.ndarray], rng: np.random.Generator,
                 style: SceneStyle) -> None:
    """Line segments and small fragments of digits: distractors without a box."""
    for _ in range(rng.integers(style.clutter[0], style.clutter[1] + 1)):
        strength = rng.uniform(0.2, 0.6)
        if rng.random() < 0.5:
            length = rng.integers(6, 20)
            r0, c0 = rng.uniform(0, IMAGE_HEIGHT), rng.uniform(0, IMAGE_WIDTH)
            angle = rng.uniform(0, np.pi)
            steps = np.linspace(0, length, 2 * length)
            rr = np.clip((r0 + steps * np.sin(angle)).astype(int), 0, IMAGE_HEIGHT - 1)
            cc = np.clip((c0 + steps * np.cos(angle)).astype(int), 0, IMAGE_WIDTH - 1)
            canvas[rr, cc] += strength
        else:
            glyph = glyphs[rng.integers(len(glyphs))]
            size = rng.integers(6, 11)
            piece = resize(glyph, (max(2, glyph.shape[0] // 2), max(2, glyph.shape[1] // 2)),
                           order=1, anti_aliasing=False)
            piece = resize(piece, (size, size), order=1, anti_aliasing=False) * strength
            top = rng.integers(0, IMAGE_HEIGHT - size + 1)
            left = rng.integers(0, IMAGE_WIDTH - size + 1)
            _paste(canvas, piece, top, left)


def _render_digit(glyph: np.ndarray, rng: np.random.Generator, style: SceneStyle) -> np.ndarray:
    """The glyph resized to a random height (aspect jittered), cropped to its ink, scaled."""
    height = int(rng.integers(style.digit_height[0], style.digit_height[1] + 1))
    aspect = glyph.shape[1] / glyph.shape[0] * _uniform(rng, style.aspect_jitter)
    width = int(np.clip(round(height * aspect), 2, IMAGE_WIDTH))
    digit = resize(glyph, (height, width), order=1, anti_aliasing=True)
    digit = tight_glyphs(digit[None])[0]
    return digit * _uniform(rng, style.contrast)


def _paste(canvas: np.ndarray, piece: np.ndarray, top: int, left: int) -> None:
    height, width = piece.shape
    canvas[top:top + height, left:left + width] += piece


def _label(top: int, left: int, height: int, width: int, digit_class) -> np.ndarray:
    return np.array([1.0, (left + width / 2) / IMAGE_WIDTH, (top + height / 2) / IMAGE_HEIGHT,
                     width / IMAGE_WIDTH, height / IMAGE_HEIGHT, float(digit_class)],
                    dtype=np.float32)


def _free_spot(shape: tuple[int, int], boxes: list, cells: set, rng: np.random.Generator,
               tries: int = 30) -> tuple[int, int] | None:
    """A top-left corner whose box overlaps no other and whose centre's cell is free."""
    height, width = shape
    for _ in range(tries):
        top = int(rng.integers(0, IMAGE_HEIGHT - height + 1))
        left = int(rng.integers(0, IMAGE_WIDTH - width + 1))
        cell = (min(int((top + height / 2) / (IMAGE_HEIGHT / 2)), 1),
                min(int((left + width / 2) / (IMAGE_WIDTH / 3)), 2))
        box = (left, top, left + width, top + height)
        overlaps = any(box[0] < b[2] + 1 and b[0] < box[2] + 1 and box[1] < b[3] + 1
                       and b[1] < box[3] + 1 for b in boxes)
        if cell not in cells and not overlaps:
            cells.add(cell)
            boxes.append(box)
            return top, left
    return None


def _finish(canvas: np.ndarray, rng: np.random.Generator, style: SceneStyle) -> np.ndarray:
    """Blur, noise, clip, quantise to uint8."""
    image = gaussian_filter(canvas, _uniform(rng, style.blur_sigma))
    image = image + rng.normal(0, _uniform(rng, style.noise_std), image.shape)
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)

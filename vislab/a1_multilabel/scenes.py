"""The embedded multi-label default of a1: 64x64 scenes in red, green, blue and NIR, 20 labels.

No download: every scene is composed, with a fixed seed, from the photographs and textures that
installed packages ship (:mod:`vislab.data.photo_sources`) and scikit-learn's handwritten digits.

How a scene is made (like a photo of VOC: one main subject, a few other things):

1. a hidden *scene type* (street, countryside, kitchen, space, lab) is drawn; it decides which
   surfaces and objects are likely, so labels co-occur as in real photos (cups with coins in
   kitchens, horses on grass, rockets in space);
2. the *main subject* fills the frame: a view of one object's photo (the cat, the cup, the
   astronaut...) magnified 0.35-1.2x, the scales at which the kit's resnet18 was pretrained
   (:mod:`vislab.pretrained`); the horse is a silhouette over a plain wall;
3. often a *surface* (brick, grass, gravel, starfield, tissue, tablecloth) shows as a band of
   10-20 rows at the bottom or top, like ground or a wall;
4. at most one more *object*, a round patch 20-30 px wide, and 0-1 unlabelled clutter patches
   (clock, colour wheel, cells...) are pasted at random places;
5. the fourth band is near-infrared, blurrier than RGB: vegetation (grass, flower) is bright in
   it, other things follow their brightness. Three labels are visible **only** in the NIR band:
   ``heat_source`` (warm blobs), ``ir_tag`` (a digit printed in infrared ink) and ``irrigation``
   (moist stripes). A model that sees RGB only can guess them from the scene, never see them.

Splits: 2000 training and 1000 validation scenes are built here (seed ``SEED``). The 1000 test
scenes are drawn by the grading side (``autograder/checks/a1_multilabel/heldout.py``) with
:func:`draw_scenes`, from a seed that only the instructor's key gives, and released as images
without labels (:mod:`vislab.data.test_inputs`): this module cannot rebuild their labels.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter
from sklearn.datasets import load_digits

from vislab.data import tensor_cache
from vislab.data.photo_sources import photo_sources
from vislab.data.registry import DatasetSpec
from vislab.data.test_inputs import has_test_inputs, load_test_inputs
from vislab.progress import progress_bar

NAME = "multilabel-scenes"
#: bumped whenever the scenes change, so that a cache built by older code is never read
VERSION = 9
CACHE_NAME = f"{NAME}-v{VERSION}"
SIZE = 64
BANDS = ("red", "green", "blue", "nir")
#: the splits built here, in the order they are drawn from one generator seeded with ``SEED``
SPLIT_SIZES = {"train": 2000, "val": 1000}
NUM_TEST = 1000  # drawn by the grading side, see the module docstring
SEED = 2024
#: objects are 20-30 px views of their photo's object region, magnified 0.35-1.2x (the scales at
#: which the kit's resnet18 was pretrained); surfaces are 64 px views magnified 0.3-1x
OBJECT_SIDE = (20, 31)
MAX_SMALL_OBJECTS = 1
HORSE_SIDE = (44, 65)
NIR_BLUR = 2.0  # sigma in pixels of the NIR band's blur, before the NIR-only labels are drawn
SURFACE_BAND = (10, 21)
SURFACE_BAND_P = 0.75
OBJECT_ZOOM = (0.35, 1.2)
SURFACE_ZOOM = (0.3, 1.0)

SURFACES = ("brick", "grass", "gravel", "starfield", "tissue", "tablecloth")
OBJECTS = ("person", "cat", "cup", "rocket", "coins", "moon", "photographer", "pagoda", "flower",
           "horse", "text")
NIR_ONLY = ("heat_source", "ir_tag", "irrigation")
CLASSES = SURFACES + OBJECTS + NIR_ONLY


@dataclass(frozen=True)
class Source:
    """Where a surface or object comes from: a photo, its region (y0, y1, x0, x1), colours."""

    photo: str
    region: tuple[int, int, int, int] | None = None
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    nir_gain: float = 0.35  # NIR = gain * brightness (vegetation is bright in NIR)


SURFACE_SOURCES = {
    "brick": Source("brick", tint=(1.15, 0.75, 0.6), nir_gain=0.4),
    "grass": Source("grass", tint=(0.55, 1.05, 0.45), nir_gain=1.2),
    "gravel": Source("gravel", tint=(0.95, 0.9, 0.8), nir_gain=0.45),
    "starfield": Source("hubble_deep_field", nir_gain=0.2),
    "tissue": Source("immunohistochemistry", nir_gain=0.5),
    "tablecloth": Source("checkerboard", tint=(1.0, 0.45, 0.45), nir_gain=0.3),
}
OBJECT_SOURCES = {
    "person": Source("astronaut", (20, 512, 60, 400)),
    "cat": Source("chelsea", (10, 300, 70, 390)),
    "cup": Source("coffee", (20, 330, 50, 530)),
    "rocket": Source("rocket", (90, 427, 220, 430)),
    "coins": Source("coins", (0, 303, 0, 384)),
    "moon": Source("moon", (0, 512, 0, 512), tint=(1.0, 0.97, 0.9)),
    "photographer": Source("camera", (30, 420, 60, 350)),
    "pagoda": Source("china", (30, 340, 110, 390)),
    "flower": Source("flower", (40, 420, 110, 530), nir_gain=1.0),
    "horse": Source("horse", tint=(0.55, 0.35, 0.2)),
    "text": Source("page", (0, 191, 0, 384)),
}
CLUTTER_SOURCES = [Source("clock", (50, 270, 90, 310)), Source("colorwheel"),
                   Source("cell", (180, 480, 300, 550)), Source("microaneurysms"),
                   Source("text")]

#: scene type -> (probability, surfaces with weights, per-label probabilities of the rest)
SCENES = {
    "street": (0.25, {"brick": 0.5, "gravel": 0.35, None: 0.15},
               {"person": 0.45, "photographer": 0.35, "pagoda": 0.3, "text": 0.35, "cat": 0.1,
                "cup": 0.1, "coins": 0.1, "flower": 0.1, "heat_source": 0.5, "ir_tag": 0.15,
                "irrigation": 0.05}),
    "countryside": (0.25, {"grass": 0.75, "gravel": 0.2, None: 0.05},
                    {"horse": 0.5, "flower": 0.45, "cat": 0.25, "person": 0.25, "pagoda": 0.25,
                     "photographer": 0.15, "heat_source": 0.1, "irrigation": 0.5,
                     "ir_tag": 0.05}),
    "kitchen": (0.2, {"tablecloth": 0.55, None: 0.45},
                {"cup": 0.6, "coins": 0.5, "cat": 0.35, "text": 0.4, "flower": 0.25,
                 "person": 0.15, "ir_tag": 0.3, "heat_source": 0.3}),
    "space": (0.15, {"starfield": 0.9, None: 0.1},
              {"moon": 0.6, "rocket": 0.5, "person": 0.35, "text": 0.05, "heat_source": 0.35}),
    "lab": (0.15, {"tissue": 0.6, None: 0.4},
            {"text": 0.4, "cup": 0.3, "coins": 0.15, "person": 0.15, "ir_tag": 0.5,
             "heat_source": 0.2, "irrigation": 0.2}),
}


@cache
def _sources() -> dict[str, np.ndarray]:
    """Every photo as float32 (H, W, 3) in [0, 1]."""
    return {name: image.astype(np.float32) / 255 for name, image in photo_sources().items()}


@cache
def _digits() -> np.ndarray:
    """sklearn's handwritten digits, float32 (1797, 8, 8) in [0, 1]."""
    return (load_digits().images / 16).astype(np.float32)


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of a float (H, W) or (H, W, C) array with values in [0, 1]."""
    channels = [image] if image.ndim == 2 else [image[:, :, c] for c in range(image.shape[2])]
    resized = [np.asarray(Image.fromarray(np.ascontiguousarray(c, dtype=np.float32))
                          .resize((width, height), Image.BILINEAR)) for c in channels]
    return resized[0] if image.ndim == 2 else np.stack(resized, axis=2)


def _random_crop(rng: np.random.Generator, source: Source, side: int) -> np.ndarray:
    """A random square crop of about ``side`` pixels inside ``source``'s region (flipped or not)."""
    photo = _sources()[source.photo]
    y0, y1, x0, x1 = source.region or (0, photo.shape[0], 0, photo.shape[1])
    height, width = min(side, y1 - y0), min(side, x1 - x0)
    top = y0 + rng.integers(0, y1 - y0 - height + 1)
    left = x0 + rng.integers(0, x1 - x0 - width + 1)
    crop = photo[top:top + height, left:left + width]
    return np.ascontiguousarray(crop[:, ::-1] if rng.random() < 0.5 else crop)


def _zoomed(rng: np.random.Generator, source: Source, side: int, zoom: tuple[float, float],
            ) -> np.ndarray:
    """A ``side`` x ``side`` view of ``source`` magnified by a factor drawn from ``zoom``."""
    crop = _random_crop(rng, source, int(side / rng.uniform(*zoom)))
    return _resize(crop, side, side)


def _colour(rng: np.random.Generator, rgb: np.ndarray, source: Source) -> np.ndarray:
    """Tint and jitter brightness/contrast; returns RGB + NIR, float (H, W, 4) in [0, 1]."""
    tint = np.array(source.tint, dtype=np.float32) * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    contrast, brightness = rng.uniform(0.7, 1.3), rng.uniform(-0.12, 0.12)
    rgb = np.clip((rgb * tint - 0.5) * contrast + 0.5 + brightness, 0, 1)
    nir = np.clip(source.nir_gain * rgb.mean(axis=2) + rng.uniform(0, 0.08), 0, 1)
    return np.concatenate([rgb, nir[:, :, None]], axis=2)


def _surface(rng: np.random.Generator, name: str | None) -> np.ndarray:
    """A 64x64 background patch (H, W, 4): a texture label, or a plain wall for ``None``."""
    if name is None:
        wall = rng.uniform(0.2, 0.85, 3).astype(np.float32)
        ramp = np.linspace(-0.1, 0.1, SIZE, dtype=np.float32)[:, None, None]
        rgb = np.clip(wall + ramp + rng.normal(0, 0.02, (SIZE, SIZE, 3)), 0, 1).astype(np.float32)
        return _colour(rng, rgb, Source("wall"))
    source = SURFACE_SOURCES[name]
    return _colour(rng, _zoomed(rng, source, SIZE, SURFACE_ZOOM), source)


def _soft_ellipse(height: int, width: int) -> np.ndarray:
    y = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    return np.clip((1.0 - (x ** 2 + y ** 2)) * 4, 0, 1)


def _object(rng: np.random.Generator, source: Source, side: int | None = None,
            ) -> tuple[np.ndarray, np.ndarray]:
    """An object patch (side, side, 4) and its alpha mask (side, side); side 20-30 px by default."""
    side = side or int(rng.integers(*OBJECT_SIDE))
    if source.photo == "horse":  # a silhouette: the mask is the horse itself
        mask = _resize(1.0 - _sources()["horse"][:, :, 0], side, side)
        fur = np.ones((side, side, 3), np.float32) * rng.uniform(0.6, 1.0)
        fur = fur + rng.normal(0, 0.05, fur.shape).astype(np.float32)
        return _colour(rng, fur, source), mask[:, ::-1] if rng.random() < 0.5 else mask
    patch = _zoomed(rng, source, side, OBJECT_ZOOM)
    mask = np.ones((side, side), np.float32) if source.photo in ("page", "text") \
        else _soft_ellipse(side, side)
    return _colour(rng, patch, source), mask


def _paste(canvas: np.ndarray, patch: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
           ) -> None:
    height, width = mask.shape
    top, left = rng.integers(0, SIZE - height + 1), rng.integers(0, SIZE - width + 1)
    region = canvas[top:top + height, left:left + width]
    region[:] = mask[:, :, None] * patch + (1 - mask[:, :, None]) * region


def _add_nir_only(rng: np.random.Generator, canvas: np.ndarray, label: str) -> None:
    """Draw a label that exists only in the NIR band (index 3)."""
    nir = canvas[:, :, 3]
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    if label == "heat_source":
        for _ in range(rng.integers(1, 3)):
            cy, cx, sigma = rng.uniform(8, 56), rng.uniform(8, 56), rng.uniform(3, 6)
            blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma ** 2))
            nir += rng.uniform(0.7, 1.0) * blob
    elif label == "ir_tag":
        side = int(rng.integers(18, 29))
        glyph = _resize(_digits()[rng.integers(len(_digits()))], side, side)
        top, left = rng.integers(0, SIZE - side + 1, 2)
        nir[top:top + side, left:left + side] += rng.uniform(0.7, 0.9) * glyph
    elif label == "irrigation":
        angle, period = rng.uniform(0, np.pi), rng.uniform(5, 9)
        stripes = 0.5 + 0.5 * np.sin(2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / period)
        top, left = rng.integers(0, 28, 2)
        height, width = rng.integers(24, 40, 2)
        region = (slice(top, top + height), slice(left, left + width))
        nir[region] += 0.45 * stripes[region]
    np.clip(nir, 0, 1, out=nir)


def _choose(rng: np.random.Generator, weights: dict):
    keys = list(weights)
    return keys[rng.choice(len(keys), p=np.array(list(weights.values())) / sum(weights.values()))]


def make_scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One scene: uint8 (4, 64, 64) and its labels, uint8 (20,) in the order of ``CLASSES``."""
    scene = _choose(rng, {name: spec[0] for name, spec in SCENES.items()})
    _, surface_weights, label_probs = SCENES[scene]
    present = [name for name, p in label_probs.items() if rng.random() < p]
    if "rocket" in present and "heat_source" not in present and rng.random() < 0.7:
        present.append("heat_source")  # engines are warm
    if not any(name in OBJECTS for name in present):
        present.append(_choose(rng, {n: p for n, p in label_probs.items() if n in OBJECTS}))
    objects = [present[i] for i in rng.permutation(len(present)) if present[i] in OBJECTS]
    present = [name for name in present if name not in objects[1 + MAX_SMALL_OBJECTS:]]
    labels = np.zeros(len(CLASSES), np.uint8)
    main = OBJECT_SOURCES[objects[0]]
    if main.photo == "horse":  # a silhouette: on a plain wall
        canvas = _surface(rng, None)
        _paste(canvas, *_object(rng, main, int(rng.integers(*HORSE_SIDE))), rng)
    else:
        canvas = _colour(rng, _zoomed(rng, main, SIZE, OBJECT_ZOOM), main)
    surface = _choose(rng, surface_weights)
    if surface is not None and rng.random() < SURFACE_BAND_P:  # the ground or a wall, seen at an edge
        band = int(rng.integers(*SURFACE_BAND))
        rows = slice(SIZE - band, SIZE) if rng.random() < 0.6 else slice(0, band)
        canvas[rows] = _surface(rng, surface)[rows]
        labels[CLASSES.index(surface)] = 1
    small = [OBJECT_SOURCES[name] for name in objects[1:1 + MAX_SMALL_OBJECTS]]
    small += [CLUTTER_SOURCES[i] for i in rng.choice(len(CLUTTER_SOURCES), rng.integers(0, 2))]
    for index in rng.permutation(len(small)):
        _paste(canvas, *_object(rng, small[index]), rng)
    # the NIR sensor is blurrier than the RGB one (as on real satellites): smooth band 3 first
    canvas[:, :, 3] = gaussian_filter(canvas[:, :, 3], NIR_BLUR)
    for name in present:
        labels[CLASSES.index(name)] = 1
        if name in NIR_ONLY:
            _add_nir_only(rng, canvas, name)
    image = np.round(np.clip(canvas, 0, 1) * 255).astype(np.uint8).transpose(2, 0, 1)
    return image, labels


def draw_scenes(rng: np.random.Generator, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` scenes drawn one after another with ``rng``: images (uint8 Tensor[count, 4, 64,
    64]) and their labels (uint8 Tensor[count, 20], in the order of ``CLASSES``)."""
    scenes = [make_scene(rng) for _ in progress_bar(range(count), desc="drawing scenes",
                                                     unit="image", leave=False)]
    return (torch.from_numpy(np.stack([image for image, _ in scenes])),
            torch.from_numpy(np.stack([labels for _, labels in scenes])))


def build() -> dict[str, torch.Tensor]:
    """The training and validation scenes, the same on every machine (seed ``SEED``).

    Returns ``train_X``, ``val_X`` (uint8 Tensor[N, 4, 64, 64]) and ``train_y``, ``val_y``
    (uint8 Tensor[N, 20]). The test scenes are not built here (see the module docstring).
    """
    rng = np.random.default_rng(SEED)
    tensors = {}
    for split, count in SPLIT_SIZES.items():
        tensors[f"{split}_X"], tensors[f"{split}_y"] = draw_scenes(rng, count)
    return tensors


def load() -> dict[str, torch.Tensor]:
    """The cached training and validation scenes (built on first use, about 10 s)."""
    tensors = tensor_cache.load_tensors(CACHE_NAME, build)
    return {f"{split}_{part}": tensors[f"{split}_{part}"] for split in SPLIT_SIZES
            for part in ("X", "y")}


def load_test_images() -> torch.Tensor:
    """The released test scenes (uint8 Tensor[N, 4, 64, 64]), without labels."""
    if not has_test_inputs(CACHE_NAME):
        raise FileNotFoundError(
            f"the test scenes of {NAME!r} are not on this machine. They come with your course's "
            "data (your instructor makes them with the course's secret key): copy that folder to "
            f"the vislab cache. To practise with the kit alone, run `python datasets.py prepare "
            f"{NAME}` (it uses the kit's public demo key).")
    return load_test_inputs(CACHE_NAME)["test_X"]


def _verify() -> str:
    tensors = tensor_cache.load_tensors(CACHE_NAME)
    counts = ", ".join(f"{split} {len(tensors[f'{split}_X'])}" for split in SPLIT_SIZES)
    if has_test_inputs(CACHE_NAME):
        counts += f", test {len(load_test_inputs(CACHE_NAME)['test_X'])} (images only)"
    return f"{NAME}: {counts} scenes of 4x64x64, {len(CLASSES)} labels (hash verified)"


DATASETS = [
    DatasetSpec(
        name=NAME, kind="embedded",
        description="a1 default: 64x64 scenes in RGB + NIR with 20 co-occurring labels "
                    "(3 visible only in NIR), composed from shipped photos and textures",
        prepare=lambda source: tensor_cache.save_tensors(CACHE_NAME, build()),
        verify=_verify,
        is_ready=lambda: tensor_cache.is_cached(CACHE_NAME),
    ),
]

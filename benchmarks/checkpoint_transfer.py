"""Which source task gives the kit's own resnet18 checkpoint features that *transfer*?

When no ImageNet weights are on disk, :func:`vislab.pretrained.pretrain_resnet18` pretrains
resnet18 on crops of the 22 shipped photos. On the embedded targets that checkpoint loses to
training from scratch (issue 11). This script pretrains resnet18 on a few candidate source tasks,
each within a fixed number of images on the CPU, and measures every checkpoint on the targets
exactly as the sample notebooks use it:

- a3 (``autograder/samples/a3_cifar/a3_cifar.ipynb``, Task 4): textured digits at 32x32 resized
  to 64x64 with ImageNet's normalisation; everything frozen except ``layer4`` and a new ``fc``;
  Adam 5e-4, batch 32, 2 epochs; best validation accuracy. Compared with the baseline CNN's
  0.684 (``autograder/samples/a3_cifar/runs/baseline.json``).
- a1 (``autograder/samples/a1_multilabel/a1_multilabel.ipynb``): the 64x64 scenes, RGB only;
  "scratch" (a fresh resnet18, Adam 1e-3), "last_layer" (frozen, new fc, Adam 1e-2) and
  "all_layers" (new fc, everything trains, Adam 3e-4); batch 32, 3 epochs, StepLR(2, 0.3);
  best validation mAP (macro average precision).

Candidates (``--candidates``):

- ``photos``: the kit's current task, :func:`vislab.pretrained.pretrain_resnet18` itself, with
  ``--images`` spread over its 4 epochs (the kit today: 4 x 6,000 = 24,000).
- ``glyphs``: the 62 characters (digits, upper and lower case letters) rendered from the 21
  text fonts that matplotlib ships; the class is the character (62 classes), or for
  ``glyphs-by-style`` (character, style) with style sans / serif / mono (186 classes). Each image is
  drawn fresh: the glyph scaled, rotated, sheared and moved, filled with a colour or a texture,
  pasted over a random crop of a shipped photo (30%: over a flat colour, which gets the
  training off its plateau sooner), sometimes with a smaller second glyph as clutter, and half
  the time blurred through 32x32 (like a3's inputs).
- ``mix``: every batch half photo crops (22 classes), half glyphs, one head over both.

Run by hand (one training process at a time; 2 threads), e.g.::

    .venv/bin/python benchmarks/checkpoint_transfer.py --candidates photos glyphs mix --images 24000

It writes checkpoints and results under ``--out`` (default ``/tmp/checkpoint-transfer``) and
reads the targets from ``$VISLAB_CACHE`` (default ``/tmp/checkpoint-transfer/cache``: copy
``cache/datasets`` there to save building them). It prints one row per candidate. The a1
"scratch" score does not depend on the checkpoint: it is measured once and kept in
``--out/results.json`` with the rows.

Pretraining runs on one process's 2 threads: about 200 images/s for glyphs at 64x64 on an idle
2-core machine, less with photo crops (their per-image transforms) or a busy machine. Glyphs from
scratch sit on a plateau at chance (loss ln 62) for over 1,200 steps of 64 with this recipe; in
``mix`` they start to learn after about 600 steps, helped by the photo half.
"""

import argparse
import json
import math
import os
import time
from pathlib import Path

DEFAULT_OUT = Path("/tmp/checkpoint-transfer")
os.environ.setdefault("VISLAB_CACHE", str(DEFAULT_OUT / "cache"))

import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402
from torch import nn  # noqa: E402
from torchvision.transforms import v2  # noqa: E402

from vislab.a1_multilabel.data import load_multilabel  # noqa: E402
from vislab.a3_cifar.data import load_a3_data  # noqa: E402
from vislab.data.loaders import make_loader  # noqa: E402
from vislab.data.photo_sources import photo_sources  # noqa: E402
from vislab.metrics import accuracy  # noqa: E402
from vislab.pretrained import PhotoCropTask, input_normalization, pretrain_resnet18  # noqa: E402
from vislab.training import fit  # noqa: E402

SIZE = 64
A3_BASELINE = 0.684  # autograder/samples/a3_cifar/runs/baseline.json, best val_accuracy
CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: style -> the text fonts in matplotlib's fonts/ttf that draw it (the same files everywhere)
FONT_STYLES = {
    "sans": ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
             "DejaVuSans-BoldOblique.ttf", "cmss10.ttf"],
    "serif": ["DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
              "DejaVuSerif-BoldItalic.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf",
              "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf", "cmr10.ttf", "cmb10.ttf",
              "cmti10.ttf"],
    "mono": ["DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
             "DejaVuSansMono-BoldOblique.ttf", "cmtt10.ttf"],
}
FONT_PX = 44  # a glyph's nominal size on the 64x64 canvas before the random scale


# --- the glyph source task ---------------------------------------------------------------------

def render_glyph_masks(by_style: bool) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Every (character, font) drawn white on black, centred on a 64x64 canvas.

    Returns masks (Tensor[K, 1, 64, 64] in [0, 1]), the class of each mask (Tensor[K]) and the
    class names: ``"<character> <style>"`` with ``by_style``, else the characters.
    """
    font_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    styles = list(FONT_STYLES) if by_style else [""]
    classes = [f"{char} {style}".strip() for style in styles for char in CHARACTERS]
    masks, labels = [], []
    for style_index, files in enumerate(FONT_STYLES.values()):
        for file in files:
            font = ImageFont.truetype(str(font_dir / file), FONT_PX)
            for char_index, char in enumerate(CHARACTERS):
                canvas = Image.new("L", (SIZE, SIZE))
                ImageDraw.Draw(canvas).text((SIZE / 2, SIZE / 2), char, fill=255, font=font,
                                            anchor="mm")
                mask = np.asarray(canvas, dtype=np.float32) / 255
                if mask.sum() < 5:  # the font has no such glyph
                    continue
                masks.append(torch.from_numpy(mask))
                labels.append(style_index * by_style * len(CHARACTERS) + char_index)
    return torch.stack(masks)[:, None], torch.tensor(labels), classes


def photo_crop_bank(count: int, seed: int) -> torch.Tensor:
    """``count`` random 64x64 crops (Tensor[count, 3, 64, 64] in [0, 1]) of the shipped photos,
    used as backgrounds and texture fills of the glyphs."""
    torch.manual_seed(seed)
    images = [v2.functional.to_image(image) for image in photo_sources().values()]
    crop = v2.Compose([v2.RandomResizedCrop(SIZE, scale=(0.005, 0.3), antialias=True),
                       v2.RandomHorizontalFlip(), v2.ToDtype(torch.float32, scale=True)])
    return torch.stack([crop(images[i % len(images)]) for i in range(count)])


def _warp(masks: torch.Tensor, scale: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Scale, rotate (+-25 degrees), shear and move each mask (Tensor[n, 1, 64, 64])."""
    n = len(masks)
    angle = (torch.rand(n, generator=generator) - 0.5) * math.radians(50)
    shear = (torch.rand(n, generator=generator) - 0.5) * 0.6
    reach = (1 - 0.6 * scale).clamp(min=0.05)  # how far the glyph's centre may move, in [-1, 1]
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 2 * (reach / scale)[:, None]
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos / scale, (-sin + shear) / scale
    theta[:, 1, 0], theta[:, 1, 1] = sin / scale, cos / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(masks.shape), align_corners=False)
    return F.grid_sample(masks, grid, align_corners=False)


class GlyphTask:
    """Batches of fresh glyph images (see the module docstring) and their (character, style) class."""

    def __init__(self, seed: int = 0, by_style: bool = False, bank_size: int = 4000,
                 flat_fraction: float = 0.3):
        self.flat_fraction = flat_fraction  # glyphs on a flat colour: the easy start of the task
        self.masks, mask_class, self.classes = render_glyph_masks(by_style)
        order = torch.argsort(mask_class, stable=True)
        self.masks, mask_class = self.masks[order], mask_class[order]
        counts = torch.bincount(mask_class, minlength=len(self.classes))
        self.first, self.count = torch.cumsum(counts, 0) - counts, counts
        self.bank = photo_crop_bank(bank_size, seed)
        self.generator = torch.Generator().manual_seed(seed)

    def _pick(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """n masks of uniformly drawn classes (a random font of each) and the classes."""
        g = self.generator
        y = torch.randint(len(self.classes), (n,), generator=g)
        index = self.first[y] + (torch.rand(n, generator=g) * self.count[y]).long()
        return self.masks[index], y

    def _fill(self, background: torch.Tensor) -> torch.Tensor:
        """A glyph's colour: flat and brighter or darker than the background, or a texture."""
        g, n = self.generator, len(background)
        colour = torch.rand(n, 3, 1, 1, generator=g) * 0.45
        bright_background = background.mean(dim=(1, 2, 3)) > 0.5
        colour = torch.where(bright_background[:, None, None, None], colour, 0.55 + colour)
        texture = self.bank[torch.randint(len(self.bank), (n,), generator=g)]
        use_texture = (torch.rand(n, 1, 1, 1, generator=g) < 0.2).float()
        return use_texture * texture + (1 - use_texture) * colour

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(X, y): X Tensor[n, 3, 64, 64] normalised like ImageNet, y Tensor[n] of classes."""
        g = self.generator
        masks, y = self._pick(n)
        masks = _warp(masks, 0.6 + 0.7 * torch.rand(n, generator=g), g)
        clutter, _ = self._pick(n)
        clutter = _warp(clutter, 0.3 + 0.2 * torch.rand(n, generator=g), g)
        clutter = clutter * (torch.rand(n, 1, 1, 1, generator=g) < 0.3) * 0.6
        X = self.bank[torch.randint(len(self.bank), (n,), generator=g)]
        flat = torch.rand(n, 3, 1, 1, generator=g).expand(-1, -1, SIZE, SIZE)
        X = torch.where(torch.rand(n, 1, 1, 1, generator=g) < self.flat_fraction, flat, X)
        for mask in (clutter, masks * (0.7 + 0.3 * torch.rand(n, 1, 1, 1, generator=g))):
            X = X * (1 - mask) + self._fill(X) * mask
        X = X + 0.03 * torch.randn(X.shape, generator=g)
        blurred = F.interpolate(F.interpolate(X, size=SIZE // 2, mode="area"), size=SIZE,
                                mode="bilinear", align_corners=False)
        X = torch.where(torch.rand(n, 1, 1, 1, generator=g) < 0.5, blurred, X)
        return _normalize(X.clamp(0, 1)), y


def _normalize(X: torch.Tensor) -> torch.Tensor:
    mean, std = (torch.tensor(v)[:, None, None] for v in input_normalization())
    return (X - mean) / std


class PhotoBatches:
    """Endless batches of :class:`vislab.pretrained.PhotoCropTask` (the kit's photo crops)."""

    def __init__(self, seed: int = 0):
        self.task = PhotoCropTask(length=10**9)
        self.classes = self.task.classes
        self.generator = torch.Generator().manual_seed(seed)

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(len(self.classes), (n,), generator=self.generator)
        return torch.stack([self.task.transform(self.task.images[label]) for label in y]), y


class MixedTask:
    """Half of every batch from each task; the second task's classes follow the first's."""

    def __init__(self, first, second):
        self.first, self.second = first, second
        self.classes = [*first.classes, *second.classes]

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        X1, y1 = self.first.batch(n // 2)
        X2, y2 = self.second.batch(n - n // 2)
        return torch.cat([X1, X2]), torch.cat([y1, y2 + len(self.first.classes)])


# --- pretraining -------------------------------------------------------------------------------

def pretrain(task, num_images: int, batch_size: int = 64, lr: float = 0.05, seed: int = 0,
             ) -> tuple[nn.Module, float]:
    """resnet18 trained on ``num_images`` fresh images of ``task`` with the kit's recipe
    (SGD momentum 0.9, weight decay 5e-4, one-cycle learning rate). Returns (model, seconds)."""
    torch.manual_seed(seed)
    model = torchvision.models.resnet18(num_classes=len(task.classes))
    steps = -(-num_images // batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    for step in range(steps):
        X, y = task.batch(batch_size)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 100 == 0 or step == steps - 1:
            elapsed = time.perf_counter() - start
            print(f"  step {step + 1}/{steps}: loss {loss.item():.3f}, "
                  f"{(step + 1) * batch_size / elapsed:.0f} images/s", flush=True)
    return model, time.perf_counter() - start


@torch.no_grad()
def source_accuracy(model: nn.Module, task, num_images: int = 2000, batch_size: int = 200,
                    ) -> float:
    """Accuracy of ``model`` on ``num_images`` fresh images of ``task``."""
    model.eval()
    correct = 0
    for _ in range(num_images // batch_size):
        X, y = task.batch(batch_size)
        correct += (model(X).argmax(1) == y).sum().item()
    return correct / (num_images // batch_size * batch_size)


# --- the targets, as the notebooks train them ---------------------------------------------------

def backbone_from(checkpoint: dict) -> nn.Module:
    """resnet18 with the checkpoint's weights and its original fc, like ``resnet18_backbone``."""
    model = torchvision.models.resnet18(num_classes=len(checkpoint["classes"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model


def a3_transfer(checkpoint: dict, run_dir: Path) -> float:
    """Best validation accuracy of a3's Task 4 (layer4 + new fc train, 2 epochs)."""
    torch.manual_seed(0)
    data = load_a3_data(val_fraction=0.1, seed=0)
    model = backbone_from(checkpoint)
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 10)
    for parameter in model.layer4.parameters():
        parameter.requires_grad = True
    torch.manual_seed(0)
    mean, std = input_normalization()
    train, val, _ = data.loaders(batch_size=32, seed=0, image_size=64, mean=mean, std=std)
    history = fit(model, train, val, nn.CrossEntropyLoss(),
                  torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=5e-4),
                  num_epochs=2, name="a3_transfer", metric_fn=accuracy, save_weights=False,
                  run_dir=run_dir)
    return history.best["val_accuracy"]


A1_LR = {"scratch": 1e-3, "last_layer": 1e-2, "all_layers": 3e-4}


def a1_model(regime: str, checkpoint: dict | None, num_classes: int) -> nn.Module:
    if regime == "scratch":
        return torchvision.models.resnet18(num_classes=num_classes)
    model = backbone_from(checkpoint)
    if regime == "last_layer":
        for parameter in model.parameters():
            parameter.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def validation_map(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    return float(average_precision_score(y.numpy(), torch.sigmoid(y_hat).numpy(), average="macro"))


def a1_regime(regime: str, checkpoint: dict | None, run_dir: Path) -> float:
    """Best validation mAP of one of a1's three RGB regimes (3 epochs, batch 32)."""
    data = load_multilabel().select_bands(["red", "green", "blue"])
    train = make_loader(data.train, 32, shuffle=True, seed=0)
    val = make_loader(data.val, 200)
    torch.manual_seed(0)
    model = a1_model(regime, checkpoint, data.num_classes)
    torch.manual_seed(0)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                                 lr=A1_LR[regime])
    history = fit(model, train, val, nn.BCEWithLogitsLoss(), optimizer, 3, name=f"a1_{regime}",
                  metric_fn=validation_map, metric_name="mAP", run_dir=run_dir,
                  scheduler=torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.3),
                  save_weights=False)
    return history.best["val_mAP"]


# --- candidates and the table ------------------------------------------------------------------

#: candidate -> its source task drawn from ``seed`` ("photos" runs the kit's own function)
TASKS = {
    "glyphs": lambda seed: GlyphTask(seed),
    "glyphs-by-style": lambda seed: GlyphTask(seed, by_style=True),
    "mix": lambda seed: MixedTask(PhotoBatches(seed), GlyphTask(seed)),
}
CANDIDATES = ["photos", *TASKS]


def make_checkpoint(candidate: str, num_images: int, out: Path) -> dict:
    """Pretrain ``candidate`` (or load its checkpoint from an earlier run) and return it."""
    path = out / f"{candidate}-{num_images}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    start = time.perf_counter()
    if candidate == "photos":  # the kit's own function, given num_images in its 4 epochs
        pretrain_resnet18(num_epochs=4, images_per_epoch=num_images // 4, path=path)
        checkpoint = torch.load(path, weights_only=True)
        checkpoint.update(seconds=time.perf_counter() - start, images=num_images // 4 * 4,
                          source_accuracy={"photos": checkpoint["val_accuracy"]})
    else:
        task = TASKS[candidate](0)
        model, _ = pretrain(task, num_images)
        checkpoint = {"state_dict": model.state_dict(), "classes": task.classes,
                      "seconds": time.perf_counter() - start, "images": num_images,
                      "source_accuracy": source_accuracies(model, TASKS[candidate](1))}
    torch.save(checkpoint, path)
    return checkpoint


def source_accuracies(model: nn.Module, task) -> dict[str, float]:
    """Accuracy on fresh images of ``task`` (drawn from another seed than training); for a
    :class:`MixedTask`, of each of its two parts (photos, glyphs) on its own."""
    if not isinstance(task, MixedTask):
        return {"source": source_accuracy(model, task)}
    return {"photos": source_accuracy(model, task.first),
            "glyphs": source_accuracy(model, _Shifted(task.second, len(task.first.classes)))}


class _Shifted:
    """A task whose labels are moved by ``offset`` (the second part of a mixed head)."""

    def __init__(self, task, offset: int):
        self.task, self.offset = task, offset

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        X, y = self.task.batch(n)
        return X, y + self.offset


def measure(candidate: str, num_images: int, out: Path, results: dict) -> dict:
    checkpoint = make_checkpoint(candidate, num_images, out)
    run_dir = out / "runs" / candidate
    row = {"candidate": candidate, "images": checkpoint["images"],
           "pretrain_s": round(checkpoint["seconds"]),
           "source_accuracy": {k: round(v, 3) for k, v in checkpoint["source_accuracy"].items()}}
    start = time.perf_counter()
    row["a3_transfer"] = round(a3_transfer(checkpoint, run_dir), 3)
    for regime in ("last_layer", "all_layers"):
        row[f"a1_{regime}"] = round(a1_regime(regime, checkpoint, run_dir), 3)
    row["eval_s"] = round(time.perf_counter() - start)
    if "a1_scratch" not in results:
        results["a1_scratch"] = round(a1_regime("scratch", None, out / "runs" / "scratch"), 3)
    return row


def print_row(row: dict, scratch: float) -> None:
    print(f"{row['candidate']:>12} {row['images']:>8} {row['pretrain_s']:>6}s  "
          f"source {row['source_accuracy']}  a3 transfer {row['a3_transfer']:.3f} "
          f"(baseline CNN {A3_BASELINE})  a1 scratch {scratch:.3f} last_layer "
          f"{row['a1_last_layer']:.3f} all_layers {row['a1_all_layers']:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", nargs="+", default=["photos", "glyphs", "mix"],
                        choices=CANDIDATES)
    parser.add_argument("--images", type=int, default=24_000,
                        help="images seen in pretraining (the kit's photos today: 4 x 6,000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for candidate in args.candidates:
        print(f"{candidate}: pretraining on {args.images} images", flush=True)
        row = measure(candidate, args.images, args.out, results)
        results[f"{candidate}-{row['images']}"] = row
        results_path.write_text(json.dumps(results, indent=1))
        print_row(row, results["a1_scratch"])


if __name__ == "__main__":
    main()

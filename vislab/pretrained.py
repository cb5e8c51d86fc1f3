"""resnet18 with the best pretrained weights this machine has.

1. torchvision's ImageNet weights (``IMAGENET1K_V1``) when their file is on disk: in torch's hub
   cache, or at the path in ``$VISLAB_RESNET18_WEIGHTS``. They are never downloaded here.
2. Otherwise the kit's own checkpoint ``resnet18-vislab``: a resnet18 pretrained by
   :func:`pretrain_resnet18` on :mod:`vislab.pretraining_task` (which of 22 shipped photographs a
   collage shows; which of 62 printed characters is drawn over a photo crop), cached under
   ``cache/checkpoints`` with its SHA-256. ``python datasets.py prepare resnet18-vislab`` makes it
   once (about 12 minutes on 2 CPU cores); a notebook run outside nbgrader makes it when it is
   missing.

Under nbgrader, when neither exists, the backbone is randomly initialised and the sentence
returned with it says so: grading never pretrains.
"""

import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.transforms import v2

from vislab import grading
from vislab.data.registry import DatasetSpec
from vislab.data.tensor_cache import file_sha256
from vislab.files import atomic_write
from vislab.paths import checkpoint_dir
from vislab.pretraining_task import PretrainingTask
from vislab.progress import progress_bar

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGENET_FILE = "resnet18-f37072fd.pth"  # the file name torchvision's hub cache uses
KIT_CHECKPOINT = "resnet18-vislab.pt"
PRETRAIN_IMAGES = 150_000  # 2,344 batches of 64: about 12 minutes on 2 CPU cores


def input_normalization() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) per RGB channel for the backbone's inputs (both weight sources use ImageNet's)."""
    return IMAGENET_MEAN, IMAGENET_STD


def imagenet_weights_path() -> Path | None:
    """The ImageNet weight file on this machine, or ``None``."""
    candidates = [os.environ.get("VISLAB_RESNET18_WEIGHTS"),
                  Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_FILE]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def kit_checkpoint_path() -> Path:
    return checkpoint_dir() / KIT_CHECKPOINT


def resnet18_backbone() -> tuple[torchvision.models.ResNet, str]:
    """A torchvision resnet18 (original ``fc`` kept) and a sentence saying where its weights are from."""
    imagenet = imagenet_weights_path()
    if imagenet is not None:
        model = _resnet18_with(torch.load(imagenet, map_location="cpu", weights_only=True))
        return model, f"ImageNet weights (torchvision IMAGENET1K_V1) loaded from {imagenet}."
    if not kit_checkpoint_path().exists():
        if grading.is_grading():
            return torchvision.models.resnet18(), (
                "Random weights: no pretrained resnet18 is prepared on the grading machine "
                "(grading never pretrains; nothing graded depends on them).")
        pretrain_resnet18()
    checkpoint = load_kit_checkpoint()
    return model_from_checkpoint(checkpoint), (
        f"vislab's own checkpoint ({KIT_CHECKPOINT}): no ImageNet weights on this machine, so the "
        f"kit pretrained resnet18 on {checkpoint['num_images']:,} generated 64x64 images: which of "
        f"22 photographs a collage shows, and which of 62 printed characters (21 fonts) is drawn "
        f"over a photo crop ({_describe_accuracy(checkpoint)}).")


def model_from_checkpoint(checkpoint: dict) -> torchvision.models.ResNet:
    """resnet18 with a kit checkpoint's weights, its ``fc`` over the source task's classes."""
    return _resnet18_with(checkpoint["state_dict"], num_classes=len(checkpoint["classes"]))


def _resnet18_with(state_dict: dict, num_classes: int = 1000) -> torchvision.models.ResNet:
    """resnet18 with a copy of ``state_dict``'s tensors (all of them: strict), built without
    initialising the weights they replace at once (0.1 s of every load)."""
    with torch.device("meta"):
        model = torchvision.models.resnet18(num_classes=num_classes)
    model.to_empty(device="cpu").load_state_dict(state_dict)
    return model


def pretrain_resnet18(num_images: int = PRETRAIN_IMAGES, batch_size: int = 64, lr: float = 0.05,
                      seed: int = 0, val_images: int = 2000, path: Path | None = None) -> Path:
    """Pretrain resnet18 on ``num_images`` fresh images of :class:`PretrainingTask` and save it.

    SGD (momentum 0.9, weight decay 5e-4) with a one-cycle learning rate peaking at ``lr``. The
    checkpoint holds the weights, the class names, the accuracy on ``val_images`` fresh images of
    each half of the task (drawn from another seed) and the training time; a SHA-256 of the file
    is written beside it and checked on every load.
    """
    path = path or kit_checkpoint_path()
    torch.manual_seed(seed)
    task = PretrainingTask(seed)
    model = torchvision.models.resnet18(num_classes=len(task.classes))
    steps = -(-num_images // batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    start = time.perf_counter()
    model.train()
    for _ in progress_bar(range(steps), desc="pretraining resnet18 (batches)"):
        X, photos, characters = task.batch(batch_size)
        optimizer.zero_grad()
        pretraining_loss(model(_normalize(X)), photos, characters).backward()
        optimizer.step()
        scheduler.step()
    checkpoint = {"state_dict": model.state_dict(), "classes": task.classes,
                  "num_images": steps * batch_size, "seconds": time.perf_counter() - start,
                  "val_accuracy": _task_accuracy(model, PretrainingTask(seed + 1), val_images)}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: torch.save(checkpoint, handle))
    atomic_write(_hash_path(path), lambda handle: handle.write(f"{file_sha256(path)}\n".encode()))
    return path


def pretraining_loss(y_hat: torch.Tensor, photos: torch.Tensor, characters: torch.Tensor,
                     ) -> torch.Tensor:
    """The source task's loss: binary cross-entropy on the photo outputs of the collages (the
    first ``len(photos)`` rows; summed over the 22 photos, so that the rare "yes" of each weighs
    as much as a character's cross-entropy) plus cross-entropy on the character outputs of the
    rest; each averaged over its images.

    ``y_hat`` (Tensor[N, 22 + 62]) logits, ``photos`` (Tensor[M, 22] of 0/1), ``characters``
    (Tensor[N - M] of indices).
    """
    collages, num_photos = len(photos), photos.shape[1]
    photo_loss = F.binary_cross_entropy_with_logits(y_hat[:collages, :num_photos], photos,
                                                    reduction="sum") / collages
    return photo_loss + F.cross_entropy(y_hat[collages:, num_photos:], characters)


def load_kit_checkpoint(path: Path | None = None) -> dict:
    """The kit's checkpoint, after checking the file against the SHA-256 written beside it."""
    path = path or kit_checkpoint_path()
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python datasets.py prepare resnet18-vislab`")
    if not _hash_path(path).exists() or _hash_path(path).read_text().strip() != file_sha256(path):
        raise RuntimeError(f"{path} does not match its recorded SHA-256 (corrupt or replaced): "
                           f"delete it and run `python datasets.py prepare resnet18-vislab`")
    return torch.load(path, map_location="cpu", weights_only=True)


def _hash_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _normalize(X: torch.Tensor) -> torch.Tensor:
    """Images (Tensor[N, 3, H, W] in [0, 1]) normalised like the backbone's inputs."""
    return v2.functional.normalize(X, *input_normalization())


@torch.no_grad()
def _task_accuracy(model: nn.Module, task: PretrainingTask, num_images: int,
                   batch_size: int = 200) -> dict[str, float]:
    """On ``num_images`` fresh images of each half of ``task``: how often the top-scoring photo
    is one the collage shows (``photos``), and the accuracy on the characters."""
    model.eval()
    num_photos, batches = len(task.photo_names), -(-num_images // batch_size)
    right = {"photos": 0, "characters": 0}
    for _ in range(batches):
        X, photos = task.photo_collages(batch_size)
        top = model(_normalize(X))[:, :num_photos].argmax(1)
        right["photos"] += photos[torch.arange(batch_size), top].sum().item()
        X, characters = task.printed_characters(batch_size)
        right["characters"] += (model(_normalize(X))[:, num_photos:].argmax(1) == characters
                                ).sum().item()
    return {half: count / (batches * batch_size) for half, count in right.items()}


def _verify_checkpoint() -> str:
    imagenet = imagenet_weights_path()
    if imagenet is not None:
        return f"ImageNet resnet18 weights found at {imagenet} (they are used first)"
    checkpoint = load_kit_checkpoint()
    model_from_checkpoint(checkpoint)  # the weights fit resnet18
    return f"{KIT_CHECKPOINT}: {len(checkpoint['classes'])} classes, hash ok, " \
           f"{_describe_accuracy(checkpoint)}"


def _describe_accuracy(checkpoint: dict) -> str:
    accuracy = checkpoint["val_accuracy"]
    return (f"on fresh images, its top photo is in the collage {accuracy['photos']:.0%} of the "
            f"time; characters {accuracy['characters']:.0%} right")


DATASETS = [
    DatasetSpec(
        name="resnet18-vislab", kind="checkpoint",
        description="resnet18 pretrained by the kit on collages of shipped photos and printed "
                    "characters (used when no ImageNet weights are on disk)",
        prepare=lambda source: pretrain_resnet18(),
        verify=_verify_checkpoint,
        is_ready=lambda: imagenet_weights_path() is not None or kit_checkpoint_path().exists(),
    ),
]

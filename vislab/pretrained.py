"""resnet18 with the best pretrained weights this machine has.

1. torchvision's ImageNet weights (``IMAGENET1K_V1``) when their file is on disk: in torch's hub
   cache, or at the path in ``$VISLAB_RESNET18_WEIGHTS``. They are never downloaded here.
2. Otherwise the kit's own checkpoint ``resnet18-vislab``: a resnet18 pretrained by
   :func:`pretrain_resnet18` to tell apart 64x64 crops of the photographs and textures that
   installed packages ship (:mod:`vislab.data.photo_sources`), cached under
   ``cache/checkpoints``. ``python datasets.py prepare resnet18-vislab`` makes it once (a few
   minutes on 2 CPU cores); a notebook run outside nbgrader makes it when it is missing.

Under nbgrader, when neither exists, the backbone is randomly initialised and the sentence
returned with it says so: grading never pretrains.
"""

import os
from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision.transforms import v2

from vislab import grading
from vislab.data.photo_sources import photo_sources
from vislab.data.registry import DatasetSpec
from vislab.paths import checkpoint_dir
from vislab.progress import progress_bar
from vislab.seeds import seeded_generator

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGENET_FILE = "resnet18-f37072fd.pth"  # the file name torchvision's hub cache uses
KIT_CHECKPOINT = "resnet18-vislab.pt"
CROP_SIZE = 64


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
    model = torchvision.models.resnet18()
    imagenet = imagenet_weights_path()
    if imagenet is not None:
        model.load_state_dict(torch.load(imagenet, map_location="cpu", weights_only=True))
        return model, f"ImageNet weights (torchvision IMAGENET1K_V1) loaded from {imagenet}."
    path = kit_checkpoint_path()
    if not path.exists():
        if grading.is_grading():
            return model, ("Random weights: no pretrained resnet18 is prepared on the grading "
                           "machine (grading never pretrains; nothing graded depends on them).")
        pretrain_resnet18()
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.fc = nn.Linear(model.fc.in_features, len(checkpoint["classes"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model, (f"vislab's own checkpoint ({path.name}): no ImageNet weights on this machine, so "
                   f"the kit pretrained resnet18 to tell apart {len(checkpoint['classes'])} photos and "
                   f"textures from 64x64 crops (crop accuracy {checkpoint['val_accuracy']:.0%}).")


class PhotoCropTask(torch.utils.data.Dataset):
    """Random 64x64 crops of the shipped photos; the label is which photo a crop came from.

    Every item is drawn fresh (random scale, aspect, flip, colour jitter), so one epoch is
    ``length`` new crops. Items are float tensors (3, 64, 64), normalised like ImageNet.
    """

    def __init__(self, length: int):
        self.length = length
        self.classes = sorted(photo_sources())
        self.images = [v2.functional.to_image(photo_sources()[name]) for name in self.classes]
        mean, std = input_normalization()
        self.transform = v2.Compose([
            v2.RandomResizedCrop(CROP_SIZE, scale=(0.01, 0.25), antialias=True),
            v2.RandomHorizontalFlip(),
            v2.ColorJitter(0.3, 0.3, 0.3, 0.05),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ])

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        label = index % len(self.classes)
        return self.transform(self.images[label]), label


def pretrain_resnet18(num_epochs: int = 4, images_per_epoch: int = 6000, batch_size: int = 64,
                      lr: float = 0.05, seed: int = 0, val_images: int = 1000,
                      path: Path | None = None) -> Path:
    """Pretrain resnet18 on :class:`PhotoCropTask` and save it (with its accuracy on
    ``val_images`` fresh crops)."""
    path = path or kit_checkpoint_path()
    torch.manual_seed(seed)
    task = PhotoCropTask(images_per_epoch)
    model = torchvision.models.resnet18(num_classes=len(task.classes))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=num_epochs * -(-images_per_epoch // batch_size))
    loader = torch.utils.data.DataLoader(task, batch_size=batch_size, shuffle=True,
                                         generator=seeded_generator(seed))
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(num_epochs):
        model.train()
        for X, y in progress_bar(loader, desc=f"pretraining resnet18, epoch {epoch + 1}/{num_epochs}"):
            optimizer.zero_grad()
            loss_fn(model(X), y).backward()
            optimizer.step()
            scheduler.step()
    val_accuracy = _crop_accuracy(model, PhotoCropTask(val_images), seed + 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "classes": task.classes,
                "val_accuracy": val_accuracy, "num_epochs": num_epochs,
                "images_per_epoch": images_per_epoch}, path)
    return path


@torch.no_grad()
def _crop_accuracy(model: nn.Module, task: PhotoCropTask, seed: int) -> float:
    torch.manual_seed(seed)
    model.eval()
    loader = torch.utils.data.DataLoader(task, batch_size=200)
    correct = sum((model(X).argmax(1) == y).sum().item() for X, y in loader)
    return correct / len(task)


def _verify_checkpoint() -> str:
    imagenet = imagenet_weights_path()
    if imagenet is not None:
        return f"ImageNet resnet18 weights found at {imagenet} (they are used first)"
    path = kit_checkpoint_path()
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python datasets.py prepare resnet18-vislab`")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = torchvision.models.resnet18(num_classes=len(checkpoint["classes"]))
    model.load_state_dict(checkpoint["state_dict"])
    return f"{path.name}: {len(checkpoint['classes'])} classes, crop accuracy " \
           f"{checkpoint['val_accuracy']:.1%}"


DATASETS = [
    DatasetSpec(
        name="resnet18-vislab", kind="checkpoint",
        description="resnet18 pretrained by the kit on 64x64 crops of shipped photos "
                    "(used when no ImageNet weights are on disk)",
        prepare=lambda source: pretrain_resnet18(),
        verify=_verify_checkpoint,
        is_ready=lambda: imagenet_weights_path() is not None or kit_checkpoint_path().exists(),
    ),
]

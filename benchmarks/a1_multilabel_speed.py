"""How long a1's pieces take on this machine: building the scenes, training steps, scoring a CSV.

Run by hand (``python benchmarks/a1_multilabel_speed.py``); prints one line per measurement.
Uses a throwaway cache, so nothing of the real cache is touched.
"""

import os
import tempfile
import time

import numpy as np
import torch
import torchvision
from torch import nn

os.environ.setdefault("VISLAB_CACHE", tempfile.mkdtemp(prefix="a1-bench-"))
os.environ.setdefault("VISLAB_HELDOUT_DIR", tempfile.mkdtemp(prefix="a1-bench-heldout-"))

from autograder.checks.a1_multilabel import LEADERBOARD  # noqa: E402
from autograder.checks.a1_multilabel.heldout import save_test_labels  # noqa: E402
from autograder.heldout.key import DEMO_KEY  # noqa: E402
from vislab.a1_multilabel import scenes as multilabel_scenes  # noqa: E402
from vislab.kaggle import write_predictions  # noqa: E402


def seconds(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def scene_build() -> None:
    rng = np.random.default_rng(0)
    per_scene = seconds(lambda: multilabel_scenes.make_scene(rng), repeat=200)
    total = sum(multilabel_scenes.SPLIT_SIZES.values())
    print(f"scenes: {per_scene * 1e3:.1f} ms per scene -> about {per_scene * total:.0f} s to "
          f"build all {total}")


def training_step(name: str, model: nn.Module, bands: int, batch_size: int = 32) -> None:
    X, y = torch.randn(batch_size, bands, 64, 64), (torch.rand(batch_size, 20) < 0.2).float()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(model(X), y).backward()
        optimizer.step()

    step()  # warm-up
    per_batch = seconds(step, repeat=5)
    print(f"{name}: {batch_size / per_batch:.0f} training images/s at 64x64 "
          f"({torch.get_num_threads()} threads)")


def csv_scoring() -> None:
    count, classes = 1000, multilabel_scenes.CLASSES
    labels = (torch.rand(count, len(classes)) < 0.2).float()
    save_test_labels(multilabel_scenes.CACHE_NAME, list(range(count)), labels, DEMO_KEY)
    path = os.path.join(os.environ["VISLAB_CACHE"], "predictions.csv")
    write_predictions(path, list(range(count)),
                      {c: torch.rand(count).tolist() for c in classes})
    took = seconds(lambda: LEADERBOARD.score(path, DEMO_KEY))
    print(f"predictions CSV of {count} images: validated and scored in {took:.2f} s")


if __name__ == "__main__":
    scene_build()
    resnet = torchvision.models.resnet18(num_classes=20)
    training_step("resnet18, all layers", resnet, 3)
    frozen = torchvision.models.resnet18(num_classes=20)
    for parameter_name, parameter in frozen.named_parameters():
        parameter.requires_grad = parameter_name.startswith("fc")
    training_step("resnet18, last layer only", frozen, 3)
    four = torchvision.models.resnet18(num_classes=20)
    four.conv1 = nn.Conv2d(4, 64, 7, 2, 3, bias=False)
    training_step("resnet18, 4-channel conv1", four, 4)
    csv_scoring()

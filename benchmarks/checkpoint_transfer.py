"""Does the kit's own resnet18 checkpoint *transfer*? Pretrain it, then train a1's and a3's
transfer regimes on it exactly as the sample notebooks do, and compare with training from scratch.

- a3 (``autograder/samples/a3_cifar/a3_cifar.ipynb``, Task 4): textured digits at 32x32 resized
  to 64x64 with ImageNet's normalisation; everything frozen except ``layer4`` and a new ``fc``;
  Adam 1e-3 then 3e-4 (StepLR), batch 32, 2 epochs; best validation accuracy. Compared with the
  baseline CNN of the reference submission (``autograder/samples/a3_cifar/runs/baseline.json``,
  0.684 in the table below, 0.678 since it was regenerated); issue 11 asks for 0.10 more. Both
  are also scored on the test split's held-out labels (the demo key's, as the demo grades): the
  transfer model with its best epoch's weights, the baseline with the reference's saved weights
  (``runs/baseline.pt``, in the reference's own ``BaselineCNN`` class).
- a1 (``autograder/samples/a1_multilabel/a1_multilabel.ipynb``): the 64x64 scenes, RGB only;
  "scratch" (a fresh resnet18, Adam 1e-3), "last_layer" (frozen, new fc, Adam 1e-2) and
  "all_layers" (new fc, everything trains, Adam 3e-4); batch 32, 3 epochs, StepLR(2, 0.3);
  best validation mAP (macro average precision). Issue 11 asks for last_layer >= scratch and
  all_layers >= scratch + 0.05.

The checkpoint is :func:`vislab.pretrained.pretrain_resnet18` itself
(:mod:`vislab.pretraining_task`: photo collages and printed characters over photo crops), given
``--images``. Measured on this 2-core machine, idle, the same targets (a1 scratch 0.660; targets:
a3 0.784, a1 last_layer 0.660, all_layers 0.710):

=====================================================  =======  =====  ========  =========
source task                                            images   a3     a1 last   a1 all
=====================================================  =======  =====  ========  =========
crops of the 22 photos (the kit's checkpoint before)    24,000  0.373  0.528     0.700
62 font glyphs over photos, alone                       20,000  stuck at chance (loss ln 62)
half those crops, half those glyphs                    100,000  0.543  0.477     0.727
single photo views (22-way) + printed characters        96,000  0.779  0.493     0.716
collages, BCE averaged over photos + characters         96,000  0.821  0.307     0.592
collages, BCE summed over photos + characters (kit)     96,000  0.727  0.603     0.762
the same, the kit's default                            150,016  0.808  0.644     0.779
=====================================================  =======  =====  ========  =========

Printed characters drawn the way a3 draws its digits are what moves a3; photo collages (several
photos at once, like a1's scenes) are what moves a1's frozen features; averaging the photos'
binary cross-entropy over 22 outputs left the collage half untrained (its top photo right 31 %
of the time against 83 % summed). The kit's default pretrains in 712 s here.

The a3 column is Task 4 as it was then: Adam 5e-4, 2 epochs. Scored on the test split, that
was 0.749 against the baseline CNN's 0.671: 7.8 points, short of the 10 issue 11 asks for on
test accuracy (validation overstated the gap: test images are written by other hands). With the
kit's default checkpoint (2 threads), validation / test: 3 epochs 0.818 / 0.779; 2 epochs with
Part 3's augmentation 0.801 / 0.762, 3 epochs with it 0.819 / 0.780; Adam 1e-3, 2 epochs 0.791 /
0.743; Adam 1e-3 then 3e-4 (StepLR after the first epoch), 2 epochs 0.827 / 0.781: +11.0 points
in the old time, what Task 4 does now.

Run by hand (one training process at a time; 2 threads), e.g.::

    .venv/bin/python benchmarks/checkpoint_transfer.py --images 48000 96000

It writes checkpoints and results under ``--out`` (default ``/tmp/checkpoint-transfer``) and
reads the targets from ``$VISLAB_CACHE`` (default ``/tmp/checkpoint-transfer/cache``: copy
``cache/datasets`` there to save building them). It prints one row per checkpoint. The a1
"scratch" score does not depend on the checkpoint: it is measured once and kept in
``--out/results.json`` with the rows.
"""

import argparse
import json
import os
import time
from pathlib import Path

DEFAULT_OUT = Path("/tmp/checkpoint-transfer")
os.environ.setdefault("VISLAB_CACHE", str(DEFAULT_OUT / "cache"))

import nbformat  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402
from torch import nn  # noqa: E402

from autograder.checks.a3_cifar.heldout import prepare_textured_digits  # noqa: E402
from autograder.heldout import store  # noqa: E402
from autograder.heldout.key import DEMO_KEY  # noqa: E402
from autograder.notebook_cells import find_cell  # noqa: E402
from vislab import pretrained  # noqa: E402
from vislab.a1_multilabel.data import load_multilabel  # noqa: E402
from vislab.a3_cifar import textured_digits  # noqa: E402
from vislab.a3_cifar.data import load_a3_data  # noqa: E402
from vislab.data.loaders import make_loader  # noqa: E402
from vislab.metrics import accuracy  # noqa: E402
from vislab.paths import REPO_ROOT  # noqa: E402
from vislab.training import History, fit, predict  # noqa: E402

A3_SAMPLE = REPO_ROOT / "autograder" / "samples" / "a3_cifar"


def a3_baseline() -> float:
    """The baseline CNN's best validation accuracy in the reference submission."""
    return History.load(A3_SAMPLE / "runs" / "baseline.json").best["val_accuracy"]


def a3_test_accuracy(model: nn.Module, test_loader) -> float:
    """Accuracy of ``model`` on a3's test split, against the demo key's held-out labels."""
    prepare_textured_digits(DEMO_KEY)
    y = store.load_labels(textured_digits.NAME, DEMO_KEY)["test_y"]
    y_hat, _ = predict(model, test_loader)
    return accuracy(y_hat, y)


def a3_baseline_test() -> float:
    """Test accuracy of the reference submission's baseline CNN (its saved best weights)."""
    notebook = nbformat.read(A3_SAMPLE / "a3_cifar.ipynb", as_version=4)
    namespace = {"nn": nn, "torch": torch, "F": torch.nn.functional}
    exec(find_cell(notebook, "baseline_cnn").source, namespace)  # the reference's own class
    model = namespace["BaselineCNN"]()
    model.load_state_dict(torch.load(A3_SAMPLE / "runs" / "baseline.pt", weights_only=True))
    _, _, test = load_a3_data(val_fraction=0.1, seed=0).loaders(batch_size=64, seed=0)
    return a3_test_accuracy(model, test)


# --- the targets, as the notebooks train them ---------------------------------------------------

def a3_transfer(checkpoint: dict, run_dir: Path) -> tuple[float, float]:
    """(best validation accuracy, test accuracy of that epoch's weights) of a3's Task 4 (layer4
    + new fc train, 2 epochs)."""
    torch.manual_seed(0)
    data = load_a3_data(val_fraction=0.1, seed=0)
    model = pretrained.model_from_checkpoint(checkpoint)
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 10)
    for parameter in model.layer4.parameters():
        parameter.requires_grad = True
    torch.manual_seed(0)
    mean, std = pretrained.input_normalization()
    train, val, test = data.loaders(batch_size=32, seed=0, image_size=64, mean=mean, std=std)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    history = fit(model, train, val, nn.CrossEntropyLoss(), optimizer, num_epochs=2,
                  name="a3_transfer", metric_fn=accuracy, save_weights=False, run_dir=run_dir,
                  scheduler=torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.3))
    return history.best["val_accuracy"], a3_test_accuracy(model, test)


A1_LR = {"scratch": 1e-3, "last_layer": 1e-2, "all_layers": 3e-4}


def a1_model(regime: str, checkpoint: dict | None, num_classes: int) -> nn.Module:
    if regime == "scratch":
        return torchvision.models.resnet18(num_classes=num_classes)
    model = pretrained.model_from_checkpoint(checkpoint)
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


# --- the table --------------------------------------------------------------------------------

def make_checkpoint(num_images: int, out: Path) -> dict:
    """The kit's checkpoint pretrained on ``num_images`` (or loaded from an earlier run)."""
    path = out / f"kit-{num_images}.pt"
    if not path.exists():
        pretrained.pretrain_resnet18(num_images=num_images, path=path)
    return pretrained.load_kit_checkpoint(path)


def measure(num_images: int, out: Path, results: dict) -> dict:
    checkpoint = make_checkpoint(num_images, out)
    run_dir = out / "runs" / f"kit-{num_images}"
    row = {"images": checkpoint["num_images"], "pretrain_s": round(checkpoint["seconds"]),
           "source_accuracy": {k: round(v, 3) for k, v in checkpoint["val_accuracy"].items()}}
    start = time.perf_counter()
    val_accuracy, test_accuracy = a3_transfer(checkpoint, run_dir)
    row["a3_transfer"], row["a3_transfer_test"] = round(val_accuracy, 3), round(test_accuracy, 3)
    for regime in ("last_layer", "all_layers"):
        row[f"a1_{regime}"] = round(a1_regime(regime, checkpoint, run_dir), 3)
    row["eval_s"] = round(time.perf_counter() - start)
    if "a3_baseline_test" not in results:
        results["a3_baseline_test"] = round(a3_baseline_test(), 3)
    if "a1_scratch" not in results:
        results["a1_scratch"] = round(a1_regime("scratch", None, out / "runs" / "scratch"), 3)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[pretrained.PRETRAIN_IMAGES],
                        help="images seen in pretraining, one checkpoint per value")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for num_images in args.images:
        print(f"pretraining on {num_images} images", flush=True)
        row = measure(num_images, args.out, results)
        results[f"kit-{num_images}"] = row
        results_path.write_text(json.dumps(results, indent=1))
        print(f"{row['images']:>8} images {row['pretrain_s']:>5} s  source accuracy "
              f"{row['source_accuracy']}  a3 transfer {row['a3_transfer']:.3f} (baseline CNN "
              f"{a3_baseline():.3f}, target {a3_baseline() + 0.1:.3f}), on the test split "
              f"{row['a3_transfer_test']:.3f} (baseline CNN {results['a3_baseline_test']:.3f}, "
              f"target {results['a3_baseline_test'] + 0.1:.3f})  a1 scratch "
              f"{results['a1_scratch']:.3f}, last_layer {row['a1_last_layer']:.3f}, all_layers "
              f"{row['a1_all_layers']:.3f} (target {results['a1_scratch'] + 0.05:.3f})", flush=True)


if __name__ == "__main__":
    main()

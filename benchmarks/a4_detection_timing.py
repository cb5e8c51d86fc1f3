"""How long a4_detection's pieces take on this machine (run by hand; prints numbers).

    python benchmarks/a4_detection_timing.py [--threads N]

Measures: building the embedded data (in a scratch cache), training throughput of the notebook's
architectures (images per second, forward + backward + Adam step, batch 64), the validation mAP
of 1,000 detection images (decode + NMS + mAP, the reference implementation), and scoring a
predictions CSV of the 1,000 test images.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from torch import nn


def conv_bn(in_channels, out_channels, kernel, stride, padding):
    return [nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


class Cells(nn.Module):
    def forward(self, X):
        return X.permute(0, 2, 3, 1)


#: the notebook's architectures (copied: the notebook is their source)
MODELS = {
    "tiny": lambda: nn.Sequential(
        nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
        nn.Linear(16 * 12 * 15, 15)),
    "strided": lambda: nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
        nn.Linear(64 * 6 * 8, 15)),
    "batchnorm": lambda: nn.Sequential(
        *conv_bn(1, 16, 3, 2, 1), *conv_bn(16, 32, 3, 2, 1), *conv_bn(32, 64, 3, 2, 1),
        *conv_bn(64, 64, 3, 1, 1), nn.Flatten(), nn.Linear(64 * 6 * 8, 128), nn.ReLU(),
        nn.Linear(128, 15)),
    "grid_detector": lambda: nn.Sequential(
        *conv_bn(1, 16, 3, 2, 1), *conv_bn(16, 32, 3, 2, 1), *conv_bn(32, 64, 3, 1, 1),
        *conv_bn(64, 64, (6, 5), (6, 5), 0), nn.Conv2d(64, 7, 1), Cells()),
}


def throughput(build, batches: int = 20, batch_size: int = 64) -> float:
    model = build()
    optimizer = torch.optim.Adam(model.parameters())
    X = torch.rand(batch_size, 1, 48, 60)
    target = torch.randn_like(model(X))
    for index in range(batches + 3):
        if index == 3:
            start = time.perf_counter()
        optimizer.zero_grad()
        nn.functional.mse_loss(model(X), target).backward()
        optimizer.step()
    return batches * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {args.threads}, CPUs: {os.cpu_count()}, load average: "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["VISLAB_CACHE"] = cache
        os.environ["VISLAB_HELDOUT_DIR"] = str(Path(cache) / "heldout")
        from autograder.checks.a4_detection import heldout as grading_side
        from autograder.checks.a4_detection import references as hidden
        from autograder.checks.a4_detection.scoring import score_detections
        from autograder.heldout.key import DEMO_KEY
        from vislab.a4_detection.data import load_detection
        from vislab.a4_detection.detections_csv import format_prediction_string
        from vislab.kaggle import write_predictions

        start = time.perf_counter()
        grading_side.prepare_grading(DEMO_KEY)
        det = load_detection()
        print(f"building the embedded data and its test split (localisation + detection): "
              f"{time.perf_counter() - start:.1f} s")
        for name, build in MODELS.items():
            print(f"train {name:>13}: {throughput(build):7.0f} images/s")

        grid = det.val.tensors[1]
        noisy_boxes = grid[..., 1:5] + 0.05 * torch.randn_like(grid[..., 1:5])
        classes = 4.0 * torch.nn.functional.one_hot(grid[..., 5].long(), 2)
        outputs = torch.cat([torch.where(grid[..., :1] == 1, 2.0, -2.0), noisy_boxes, classes],
                            dim=-1)
        targets = hidden.objects_to_targets(det.val_objects)
        start = time.perf_counter()
        detections = [hidden.reference_remove_duplicates(d)
                      for d in hidden.reference_decode_grid(outputs)]
        value = hidden.reference_mean_average_precision(detections, targets)
        print(f"validation mAP of {len(grid)} images (decode + NMS + mAP): "
              f"{time.perf_counter() - start:.2f} s (mAP@0.5 {value:.3f} of the true boxes "
              "with 0.05 cell units of noise)")

        heldout = grading_side.heldout_objects(DEMO_KEY)
        rows = []  # the true boxes, and a low-scored dummy box in images without a digit
        for target in hidden.objects_to_targets([heldout[i] for i in sorted(heldout)]):
            boxes = torch.cat([target["boxes"], torch.tensor([[0.0, 0, 1, 1]])])
            scores = torch.cat([torch.full((len(target["boxes"]),), 0.9), torch.tensor([0.01])])
            labels = torch.cat([target["labels"], torch.tensor([0])])
            rows.append(format_prediction_string(boxes, scores, labels))
        path = write_predictions(Path(cache) / "a4_detections.csv", sorted(heldout),
                                 {"PredictionString": rows})
        start = time.perf_counter()
        public, private = score_detections(path, heldout)
        print(f"scoring a CSV of {len(rows)} test images: {time.perf_counter() - start:.2f} s "
              f"(public {public:.3f}, private {private:.3f})")


if __name__ == "__main__":
    main()

"""CPU inference time of resnet18: original, weight-normalised (case B) and BatchNorm-folded.

Run by hand: ``python benchmarks/a2_folding_speed.py [--threads N] [--seconds S]``. Prints the
table of :func:`vislab.a2_bn_folding.timing.time_inference` (median ms per batch over interleaved rounds)
for the notebook's 64x64 crops and ImageNet's 224x224, and the largest output difference of
each variant against the original. Weights are random (timing does not depend on them), with
calibrated BatchNorm statistics so the output differences are those of a realistic network.
"""

import argparse

import torch
import torchvision

from autograder.checks.a2_bn_folding.references import (
    adjust_running_stats,
    convert_model,
    fold_model,
)
from vislab.a2_bn_folding.pairs import calibrate_batchnorms
from vislab.a2_bn_folding.timing import time_inference

INPUTS = {"64x64, batch 64": (64, 64), "64x64, batch 1": (1, 64), "224x224, batch 8": (8, 224),
          "224x224, batch 1": (1, 224)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seconds", type=float, default=1.0, help="per model, input and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    original = torchvision.models.resnet18()
    calibrate_batchnorms(original, torch.randn(32, 3, 64, 64)).eval()
    models = {"original": original,
              "normalised (case B)": convert_model(original, adjust_running_stats).eval(),
              "folded": fold_model(original).eval()}
    inputs = {name: torch.randn(batch, 3, size, size) for name, (batch, size) in INPUTS.items()}
    with torch.no_grad():
        X = inputs["64x64, batch 64"]
        reference = original(X)
        for name, model in models.items():
            error = (model(X) - reference).abs().max().item()
            print(f"{name:>20}: max |logit difference| {error:.2e} (max |logit| "
                  f"{reference.abs().max().item():.2f})")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.rounds} rounds "
          f"of {args.seconds} s per model and input")
    table = time_inference(models, inputs, rounds=args.rounds, min_run_time=args.seconds)
    print(table[[c for c in table.columns if c.endswith(" ms") or " vs " in c]].to_string())


if __name__ == "__main__":
    main()

"""Seconds to run a notebook that imports torch, torchvision, pandas and matplotlib: sandboxed vs not.

Run by hand: ``python benchmarks/sandbox_overhead.py [--rounds N] [--cpu-threads N]``. Each
round runs the same notebook once in bubblewrap and once with ``isolation="none"`` (alternating
which goes first), so both see the same machine load and disk cache; it prints each run, the
medians and their ratio. ``--cpu-threads`` defaults to every core, so that the sandbox's CPU
quota (which the unsandboxed run does not have) does not count as overhead.
"""

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder.sandbox import Limits, SandboxJob, run_sandboxed

CELLS = [
    "import torch, torchvision, pandas, matplotlib\nimport matplotlib.pyplot as plt",
    "plt.plot([1, 2, 3])\nplt.title('fonts from the cache')\nplt.show()",
    "x = torch.randn(256, 256)\nprint((x @ x).shape)",
]


def seconds_per_run(folder: Path, isolation: str, limits: Limits) -> float:
    job = SandboxJob(notebook=folder / "files" / "imports.ipynb", files=folder / "files",
                     limits=limits)
    result = run_sandboxed(job, folder / f"run-{isolation}", isolation=isolation)
    if not result.completed:
        raise RuntimeError(f"{isolation}: {result.stop_reason}")
    return result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu-threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    limits = Limits(cpu_threads=args.cpu_threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "files").mkdir()
        nbformat.write(new_notebook(cells=[new_code_cell(c) for c in CELLS]),
                       folder / "files" / "imports.ipynb")
        times: dict[str, list[float]] = {"bwrap": [], "none": []}
        for round_index in range(args.rounds):
            order = ("bwrap", "none") if round_index % 2 == 0 else ("none", "bwrap")
            for isolation in order:
                times[isolation].append(seconds_per_run(folder, isolation, limits))
                print(f"round {round_index + 1} {isolation:5s} {times[isolation][-1]:6.2f} s")
    sandboxed, plain = statistics.median(times["bwrap"]), statistics.median(times["none"])
    print(f"cpu_threads={args.cpu_threads}; median: sandboxed {sandboxed:.2f} s, unsandboxed {plain:.2f} s, "
          f"ratio {sandboxed / plain:.2f}")


if __name__ == "__main__":
    main()

"""Wall time of the a3_cifar solution notebook run top to bottom (all training), on this machine.

Run by hand: `python benchmarks/a3_solution_walltime.py`. It executes a copy of
`solutions/a3_cifar/a3_cifar.ipynb` in a temporary folder and prints the total and the training
time of every run that `fit` recorded.
"""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vislab.paths import REPO_ROOT


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        notebook = Path(scratch) / "a3_cifar.ipynb"
        shutil.copy(REPO_ROOT / "solutions" / "a3_cifar" / "a3_cifar.ipynb", notebook)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                        "--execute", "--inplace", "--ExecutePreprocessor.timeout=-1",
                        str(notebook)], check=True, cwd=scratch)
        total = time.perf_counter() - start
        print(f"a3_cifar solution notebook: {total:.0f} s wall time")
        for run in sorted((Path(scratch) / "runs").glob("*.json")):
            history = json.loads(run.read_text())
            best = history["epochs"][history["best_epoch"] - 1]
            metric = f"val_{history['metric_name']}"
            print(f"  {history['name']:22} {history['seconds']:6.0f} s  {len(history['epochs'])} "
                  f"epochs  best {metric} {best[metric]:.3f}")


if __name__ == "__main__":
    main()

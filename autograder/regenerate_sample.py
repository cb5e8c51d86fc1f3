"""Regenerate a reference submission: run the solution notebook top to bottom, keep what it wrote.

    python -m autograder.regenerate_sample a3_cifar

Executes ``solutions/<id>/<id>.ipynb`` with nbclient in a scratch folder (every training run,
with the datasets and the checkpoint prepared under ``cache/``) and replaces
``autograder/samples/<id>/`` by the executed notebook and every file the run wrote up to
``MAX_FILE_BYTES`` (larger model weights stay out, as students keep theirs). Widget views are
dropped from the saved outputs (a saved widget shows as a frozen "0%"); the still image and
text saved beside them stay. Prints the wall time and each training run's time, the numbers a
notebook states.

    python -m autograder.regenerate_sample a3_cifar --text-only

copies only the markdown of the solution into the sample (a changed instruction or stated
number needs no retraining); it refuses when any code cell differs.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.sample_classes import SAMPLES
from vislab.paths import REPO_ROOT
from vislab.training import History

MAX_FILE_BYTES = 10 * 2**20
WIDGET = "application/vnd.jupyter.widget-view+json"


def without_widget_views(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop widget views from the outputs; an output left with nothing to show is dropped."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            output.get("data", {}).pop(WIDGET, None)
        cell.outputs = [output for output in cell.outputs
                        if "data" not in output or output["data"]]
    return nb


def regenerate(assignment_id: str) -> float:
    """Execute the solution of ``assignment_id`` and make it the sample; returns the wall time."""
    solution = REPO_ROOT / "solutions" / assignment_id / f"{assignment_id}.ipynb"
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        nb = nbformat.read(solution, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=None, kernel_name="python3",
                       resources={"metadata": {"path": str(work)}}).execute()
        wall = time.perf_counter() - start
        sample = SAMPLES / assignment_id
        shutil.rmtree(sample, ignore_errors=True)
        sample.mkdir(parents=True)
        nbformat.write(without_widget_views(nb), sample / solution.name)
        for path in sorted(work.rglob("*")):
            if path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
                (sample / path.relative_to(work)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, sample / path.relative_to(work))
        _print_runs(assignment_id, wall, work / "runs")
    return wall


def copy_text(assignment_id: str) -> None:
    """Give the sample the solution's markdown cells; its code cells and outputs stay."""
    solution = nbformat.read(REPO_ROOT / "solutions" / assignment_id / f"{assignment_id}.ipynb",
                             as_version=4)
    path = SAMPLES / assignment_id / f"{assignment_id}.ipynb"
    sample = nbformat.read(path, as_version=4)
    if _code_of(solution) != _code_of(sample):
        raise SystemExit(f"{assignment_id}: the solution's code cells differ from the sample's; "
                         f"run `python -m autograder.regenerate_sample {assignment_id}`")
    for ours, theirs in zip(sample.cells, solution.cells, strict=True):
        if ours.cell_type == "markdown":
            ours.source, ours.metadata = theirs.source, theirs.metadata
    nbformat.write(sample, path)


def _code_of(nb: nbformat.NotebookNode) -> list[tuple[str, str | None]]:
    """Each cell's type, and its source when it is code."""
    return [(cell.cell_type, cell.source if cell.cell_type == "code" else None)
            for cell in nb.cells]


def _print_runs(assignment_id: str, wall: float, runs: Path) -> None:
    print(f"{assignment_id}: {wall:.0f} s top to bottom")
    for run in sorted(runs.glob("*.json")):  # every run fit saved
        history = History.load(run)
        metric = f"val_{history.metric_name}"
        print(f"  {history.name:22} {history.seconds:6.0f} s  {len(history.epochs)} epochs  "
              f"best {metric} {history.best[metric]:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment_id", choices=sorted(p.name for p in SAMPLES.iterdir()))
    parser.add_argument("--text-only", action="store_true",
                        help="copy only the solution's markdown into the sample (no execution)")
    args = parser.parse_args(argv)
    if args.text_only:
        copy_text(args.assignment_id)
    else:
        regenerate(args.assignment_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())

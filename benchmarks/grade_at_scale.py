"""Grading a synthetic class of a3_cifar at scale: local engine (1 and 2 workers) and a Dask cluster
(one `dask scheduler` and two `dask worker` processes started as separate commands on 127.0.0.1),
with the floor measured in the same run.

Run by hand: `python benchmarks/grade_at_scale.py [--students N] [--references K]`.

- floor: one kernel started and `import torch, torchvision, pandas, matplotlib` run in it;
- references: K copies of the reference submission, local engine, 1 worker: the cost of one
  a3 submission, against the floor;
- class: N students cycling through the reference, the known-wrong student, the unchanged
  starter, a broken notebook and cheats from `autograder.cheats` (the ones that do not spend
  their time limits on purpose), graded end to end (intake, sandboxes, judges, gradebook,
  feedback, tables, class report) by each engine, each time from an empty work folder.

Each class is timed end to end and in its steady state: the seconds per student between the
third and the last result the grading process judged (what every further student costs, without
the fixed costs of a grade call: the work folder, the cluster's start, the last run, the tables
and the class report; the first two results are left out because judging the first one imports
the judges' libraries, seconds during which the next results queue).

What 1,000 students would take is extrapolated from the measured seconds per student with 2
workers on this machine, and for 8 workers from the measured steady-state speed-up of 1 -> 2
workers (per-worker efficiency kept), assuming 8 cores.
"""

import argparse
import contextlib
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from distributed import Client
from grading_speed import floor_seconds  # the sibling benchmark's measure of the floor

import autograder.grade
from autograder.cheats import CHEATS, Target, write_class
from autograder.demo import ASSIGNMENT
from autograder.grade import grade_class
from autograder.sample_classes import SAMPLES, STARTER, copy_submission

#: cheats that spend their own time limits (they measure the caps, not the grader)
SLOW_CHEATS = {"memory_bomb", "endless_loop", "fork_bomb", "gradebook_daemon", "huge_output"}
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def class_pool(folder: Path) -> dict[str, Path]:
    """Kind -> a submission folder of that kind (reference, known-wrong, starter, broken, cheats)."""
    scratch = folder / "scratch"
    target = Target(workdir=scratch / "work", heldout=scratch / "heldout",
                    markers=scratch / "markers", secret=scratch / "secret.txt", port=9,
                    token="vislab-benchmark")
    adversarial = write_class(folder / "adversarial", target)
    pool = {"reference": adversarial / "solution", "known_wrong": adversarial / "partial"}
    (folder / "starter").mkdir()
    shutil.copy(STARTER / ASSIGNMENT / NOTEBOOK, folder / "starter" / NOTEBOOK)
    (folder / "broken").mkdir()
    (folder / "broken" / NOTEBOOK).write_text((SAMPLES / ASSIGNMENT / NOTEBOOK).read_text()[:5000])
    pool |= {"starter": folder / "starter", "broken": folder / "broken"}
    return pool | {name: adversarial / name for name in CHEATS if name not in SLOW_CHEATS}


def make_class(pool: dict[str, Path], folder: Path, students: int) -> Path:
    for index, kind in zip(range(students), itertools.cycle(pool), strict=False):
        copy_submission(pool[kind], folder / f"student{index:04d}_{kind}")
    return folder


#: judged results left out of the steady state (see the module docstring)
SETTLING = 2


@dataclass
class Timing:
    """Seconds of one grade call, end to end and per student in its steady state."""

    total: float
    steady_per_student: float


@contextlib.contextmanager
def result_times():
    """A list that gets the time at which the grading process finished judging each result
    (``autograder.grade._record`` wrapped for the measurement)."""
    times: list[float] = []
    record = autograder.grade._record

    def timed(*args, **kwargs):
        record(*args, **kwargs)
        times.append(time.perf_counter())

    autograder.grade._record = timed
    try:
        yield times
    finally:
        autograder.grade._record = record


def timed_grading(submissions: Path, workdir: Path, **engine) -> Timing:
    with result_times() as times:
        start = time.perf_counter()
        grade_class(ASSIGNMENT, submissions, workdir, progress=False, demo_key=True, **engine)
        total = time.perf_counter() - start
    return Timing(total, (times[-1] - times[SETTLING]) / (len(times) - 1 - SETTLING))


def dask_cluster(folder: Path) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler on a free port and two single-threaded workers, each its own `dask` command
    (their logs in `folder`)."""
    folder.mkdir(parents=True)
    scheduler_file = folder / "scheduler.json"
    dask = str(Path(sys.executable).parent / "dask")
    commands = {"scheduler": [dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                              "--no-dashboard", "--scheduler-file", str(scheduler_file)]}
    for name in ("w1", "w2"):
        commands[name] = [dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads",
                          "1", "--name", name, "--host", "127.0.0.1", "--no-dashboard",
                          "--local-directory", str(folder / name)]
    processes = []
    for name, command in commands.items():
        with open(folder / f"{name}.log", "wb") as log:
            processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
        return client.scheduler.address, processes


ENGINES = ("local1", "local2", "dask")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--references", type=int, default=6,
                        help=f"0: skip the reference copies; else more than {SETTLING + 1}")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    args = parser.parse_args()
    if 0 < args.references <= SETTLING + 1 or args.students <= SETTLING + 1:
        parser.error(f"--students and --references (unless 0) must be more than {SETTLING + 1}: "
                     "the steady state is measured after the first results")
    n = args.students
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        pool = class_pool(scratch / "pool")
        students = make_class(pool, scratch / "class", n)
        floor = floor_seconds(3)
        print(f"floor (kernel + imports): {floor:.1f} s", flush=True)
        if args.references:
            references = make_class({"reference": pool["reference"]}, scratch / "references",
                                    args.references)
            reference = timed_grading(references, scratch / "ref1", workers=1)
            print(f"a3 reference, local engine, 1 worker ({args.references} copies): "
                  f"{reference.total / args.references:.1f} s/submission end to end = "
                  f"{reference.total / args.references / floor:.2f}x the floor; steady state "
                  f"{reference.steady_per_student:.1f} s/submission = "
                  f"{reference.steady_per_student / floor:.2f}x the floor", flush=True)
        print(f"class of {n} ({', '.join(pool)}):", flush=True)
        timings = {}
        for engine in args.engines:
            if engine == "dask":
                address, processes = dask_cluster(scratch / "dask")
                try:
                    timings[engine] = timed_grading(students, scratch / engine, scheduler=address)
                finally:
                    for process in processes:
                        process.terminate()
                        process.wait(timeout=30)
            else:
                timings[engine] = timed_grading(students, scratch / engine,
                                                workers=int(engine[-1]))
            timing = timings[engine]
            print(f"  {LABELS[engine]:34} {timing.total:7.1f} s in all, "
                  f"{timing.total / n:5.1f} s/student ({n / timing.total * 3600:5.0f}/hour); "
                  f"steady state {timing.steady_per_student:5.2f} s/student "
                  f"({3600 / timing.steady_per_student:5.0f}/hour)", flush=True)
    if {"local1", "local2"} <= timings.keys():
        one, two = timings["local1"], timings["local2"]
        speedup = one.steady_per_student / two.steady_per_student
        fixed = two.total - n * two.steady_per_student
        per_student_8 = one.steady_per_student / (1 + 7 * (speedup - 1))
        print(f"2 workers vs 1: {one.total / two.total:.2f}x the throughput end to end, "
              f"{speedup:.2f}x in the steady state")
        print(f"1,000 students: {(fixed + 1000 * two.steady_per_student) / 3600:.2f} h on this "
              f"2-core machine (2 workers: {fixed:.0f} s of fixed costs + 1,000 x the steady "
              f"state); {(fixed + 1000 * per_student_8) / 3600:.2f} h on 8 workers, with the "
              f"per-worker efficiency measured from 1 to 2 workers ({speedup - 1:.2f} of a worker "
              f"added)")


LABELS = {"local1": "local, 1 worker", "local2": "local, 2 workers",
          "dask": "dask scheduler + 2 dask workers"}


if __name__ == "__main__":
    main()

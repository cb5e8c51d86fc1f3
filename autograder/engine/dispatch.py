"""Sending the tasks of a class to the cluster and handing back each result as it arrives.

At most ``2 x`` the cluster's worker threads tasks are in flight (each holds a submission's
files), so a class of 1,000 never sits in memory at once. A task's key names the student and
the content it runs (``vislab-grade-<assignment>-<student>-<hash prefix>``). When a worker is
lost mid-task, Dask runs the task again on another one (a task that kills its workers over and
over fails with ``KilledWorker``); either way each task yields exactly one call of
``on_result``, in the calling thread, one at a time: that is where the grading process judges
and writes the gradebook.

The progress bar shows done / running (in flight) / failed.
"""

import warnings
from collections.abc import Callable, Iterable

from distributed import Client, as_completed
from tqdm.auto import tqdm

from autograder.engine.task import SubmissionTask, TaskResult, run_submission


def task_key(task: SubmissionTask, content_hash: str) -> str:
    return f"vislab-grade-{task.assignment_id}-{task.student}-{content_hash[:16]}"


def run_tasks(client: Client, tasks: Iterable[tuple[SubmissionTask, str]], count: int,
              on_result: Callable[[str, TaskResult | None, str | None], None],
              progress: bool = True) -> None:
    """Run every ``(task, content_hash)`` of ``tasks`` (read lazily: a task is built when it
    is sent) and call ``on_result(student, result, None)`` as each finishes, or
    ``on_result(student, None, why)`` when its task failed (``why`` in words)."""
    pending = iter(tasks)
    students = {}
    futures = as_completed(loop=client.loop)
    bar = tqdm(total=count, desc="grading", unit="student", disable=not progress)
    failed = 0

    def send_next() -> bool:
        item = next(pending, None)
        if item is None:
            return False
        task, content_hash = item
        with warnings.catch_warnings():  # a big submission is one big task: that is intended
            warnings.filterwarnings("ignore", message="Sending large graph")
            future = client.submit(run_submission, task, key=task_key(task, content_hash))
        students[future.key] = task.student
        futures.add(future)
        return True

    try:
        window = max(2, 2 * sum(client.nthreads().values()))
        while futures.count() < window and send_next():
            pass
        for future in futures:
            student = students.pop(future.key)
            try:
                result, why = future.result(), None
            except Exception as error:  # the task's own error, KilledWorker, a cancelled task
                result, why = None, f"{type(error).__name__}: {str(error)[:300]}"
                failed += 1
            future.release()
            on_result(student, result, why)
            while futures.count() < window and send_next():
                pass
            bar.set_postfix(running=futures.count(), failed=failed, refresh=False)
            bar.update()
    finally:
        bar.close()

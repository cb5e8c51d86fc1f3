"""The Dask client of a grading run: one code path for a local cluster and an existing one.

- no scheduler address: a ``distributed.LocalCluster`` on 127.0.0.1 of ``workers`` worker
  processes with one thread each (one sandbox at a time per worker), no dashboard;
- ``tcp://HOST:PORT``: a cluster started with ``dask scheduler`` and ``dask worker
  tcp://HOST:PORT`` on machines that have the kit installed and the released data prepared.

Either way the workers are checked before any task is sent: each must import the kit at the
grading process's version (the content hash that lets grading resume covers that version).
"""

import logging
import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster
from distributed.comm import get_address_host

import vislab
from autograder.course import CourseError

#: how long to wait for a first worker of an existing cluster
WORKER_WAIT_S = 120


@contextmanager
def grading_client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client on the cluster (started and stopped here when ``scheduler`` is None)."""
    if scheduler is None:
        with LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR,
                          # no dashboard; its bare HTTP server on a free port of 127.0.0.1
                          scheduler_kwargs={"dashboard": False,
                                            "dashboard_address": "127.0.0.1:0"}) as cluster, \
                Client(cluster, set_as_default=False) as client:
            check_workers(client, "the local cluster")
            yield client
        return
    try:
        client = Client(scheduler, set_as_default=False, timeout=30)
    except (OSError, ValueError) as error:
        raise CourseError(f"no Dask scheduler answers at {scheduler} ({error}): start one with "
                          "`dask scheduler` and pass the address it prints") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            raise CourseError(f"no Dask worker joined {scheduler} within {WORKER_WAIT_S} s: start "
                              f"`dask worker {scheduler}` on machines with the kit installed") from None
        check_workers(client, scheduler)
        yield client


def kit_version() -> str:
    """The kit's version where this runs (a worker)."""
    return vislab.__version__


def check_workers(client: Client, where: str) -> None:
    """``CourseError`` unless every worker imports the kit at this process's version."""
    try:
        versions = client.run(kit_version)
    except Exception as error:  # the worker's own error, e.g. ModuleNotFoundError: autograder
        raise CourseError(f"a Dask worker of {where} cannot run the kit ({type(error).__name__}: "
                          f"{error}): install it there (pip install -e . in a checkout)") from None
    wrong = {worker: version for worker, version in versions.items()
             if version != vislab.__version__}
    if wrong:
        raise CourseError(f"Dask workers of {where} run another version of the kit than this "
                          f"one ({vislab.__version__}): {wrong}")


def cpu_share(client: Client) -> int:
    """CPU threads one sandbox may use: on each host, its cores over the worker threads it
    runs; the smallest such share (at least 1)."""
    cores = client.run(os.cpu_count)
    threads_per_host: dict[str, int] = defaultdict(int)
    cores_per_host: dict[str, int] = {}
    for worker, threads in client.nthreads().items():
        host = get_address_host(worker)
        threads_per_host[host] += threads
        cores_per_host[host] = cores.get(worker) or 1
    shares = [cores_per_host[host] // max(1, threads) for host, threads in threads_per_host.items()]
    return max(1, min(shares, default=1))

"""The batch on a Dask cluster: the same household tasks as on local processes, on `dask.distributed` workers.

Every worker receives the job (packs, plan request) once, through a worker plugin that keeps it in the
worker process (workers that join later get it too); tasks then carry only a household's text, and
their result lines come back to be written in input order. `local:N` starts a LocalCluster of N
single-threaded worker processes for the run.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from typing import Any, Iterable, Iterator

from distributed import Client, LocalCluster, wait
from distributed.diagnostics.plugin import WorkerPlugin

from taxpack.engine.batch.households import Item
from taxpack.engine.batch.jobs import IN_FLIGHT_PER_WORKER, Coded, Job, in_order, init_worker, run_in_worker
from taxpack.engine.core.errors import SemanticError


class JobPlugin(WorkerPlugin):
    """Installs the job in each worker process once, under a key, so several batches can share a cluster."""

    def __init__(self, job: Job, key: str) -> None:
        self.job = job
        self.key = key

    def setup(self, worker: Any) -> None:
        init_worker(self.job, self.key)


def _task(item: Item, key: str) -> Coded:
    return run_in_worker(item, key)


def parse_address(address: str) -> tuple[str, int | None]:
    """('local', N) for `local:N`, else (scheduler address, None)."""
    if address.startswith("local:"):
        count = address.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise SemanticError(f"--dask {address}: '{count}' is not a number of workers", None, "local:N with N a whole number from 1")
        return "local", int(count)
    return address, None


# How long to try to reach a scheduler before saying it cannot be reached (Dask's own default is 30 s).
CONNECT_TIMEOUT = "10s"
Connection = tuple[Client, "LocalCluster | None"]


def connect(address: str) -> Connection:
    """A client of the scheduler at `address` (or of a LocalCluster started for `local:N`); a scheduler that
    cannot be reached, or an address Dask cannot read, is an input error (exit 3) with the address."""
    where, n = parse_address(address)
    cluster = None
    try:
        if n is not None:
            cluster = LocalCluster(n_workers=n, processes=True, threads_per_worker=1, dashboard_address=None,
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            client = Client(where, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        if cluster is not None:
            cluster.close()
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise SemanticError(f"--dask {address}: no Dask scheduler can be reached there ({reason})", None,
                            "the address of a running scheduler, such as tcp://HOST:8786, or local:N for a local cluster") from None
    return client, cluster


def dask_lines(job: Job, items: Iterable[Item], address: str, connection: Connection | None = None) -> Iterator[Coded]:
    """Run every household on the cluster at `address` (or `local:N`), yielding results in input order."""
    client, cluster = connection if connection is not None else connect(address)
    key = "taxpack-batch-" + hashlib.sha256(pickle.dumps(job)).hexdigest()[:16]
    try:
        client.register_plugin(JobPlugin(job, key), name=key)
        threads = sum(client.nthreads().values()) or 1
        yield from in_order(items, lambda item: client.submit(_task, item, key, pure=False),
                            lambda fs: wait(fs, return_when="FIRST_COMPLETED").done,
                            lambda f: f.result(), threads * IN_FLIGHT_PER_WORKER)
    finally:
        try:
            client.unregister_worker_plugin(key)
        except Exception:  # the cluster may be gone already; nothing of ours is left to clean
            pass
        client.close()
        if cluster is not None:
            cluster.close()

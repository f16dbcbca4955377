"""The Ray engine: the same jobs as Ray tasks on a Ray cluster.

Each job is one task; a task takes one GPU where the cluster has GPUs, else one CPU.
A Ray worker process keeps its :class:`~.worker.Worker` (model and encoded styles)
from one task to the next. The driver keeps a bounded number of tasks in flight,
records every result in the manifest itself, and on Ctrl-C cancels the tasks (each
removes the output it was writing). Inputs, styles and the output folder must be at
the same paths on every node (a shared file system); sanet-video must be installed
on every node.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator

from ..errors import UserError
from ..options import StylizeOptions
from .jobs import Job, JobResult
from .worker import Worker

_STOP_SECONDS = 10.0
"""How long cancelled tasks are given to clean up."""

_cached: Worker | None = None
_cached_options: StylizeOptions | None = None


def _run_task(job: Job, options: StylizeOptions) -> JobResult:
    """A Ray task: run ``job`` with this process's worker (made on first use)."""
    import ray

    global _cached, _cached_options
    device = "cuda" if ray.get_gpu_ids() else "cpu"
    if _cached is None or _cached.device != device or _cached_options != options:
        _cached, _cached_options = Worker(options, device), options
    return _cached.run(job)


def run_ray(jobs: Iterator[Job], options: StylizeOptions, address: str | None) -> Iterator[JobResult]:
    """Run ``jobs`` as Ray tasks, yielding results as they come.

    Args:
        jobs: the jobs; taken only as tasks can start, so that a few are queued at a time.
        options: the batch's options for a single file.
        address: the cluster to join; None starts a Ray instance on this machine
            (unless this process is already connected to one).

    Raises:
        UserError: Ray is not installed, or the cluster cannot be reached.
    """
    try:
        import ray
        import ray.exceptions
    except ImportError:
        raise UserError("the Ray engine needs Ray; install it with pip install 'sanet-video[ray]'") from None
    own = not ray.is_initialized()
    if own:
        handler = signal.getsignal(signal.SIGTERM)
        try:
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise UserError(f"cannot reach the Ray cluster at {address} ({str(err).splitlines()[0]}); "
                            "check --address and that `ray start --head` runs there") from None
        finally:
            signal.signal(signal.SIGTERM, handler)  # Ray's own handler aborts, leaving tasks unfinished
    in_flight: dict[ray.ObjectRef, Job] = {}
    try:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        task = ray.remote(_run_task).options(num_gpus=1 if gpus else 0, num_cpus=1)
        room = 2 * max(1, gpus or int(resources.get("CPU", 1)))
        while True:
            while len(in_flight) < room and (job := next(jobs, None)) is not None:
                in_flight[task.remote(job, options)] = job
            if not in_flight:
                return
            (ref,), _ = ray.wait(list(in_flight), num_returns=1)
            job = in_flight.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayError as err:  # the task's process or node died
                result = JobResult.failed(job.key, f"Ray: {type(err).__name__}: {err}")
            yield result
    except KeyboardInterrupt:
        for ref in in_flight:
            ray.cancel(ref)  # a KeyboardInterrupt in the task: its unfinished output is removed
        ended = ray.wait(list(in_flight), num_returns=len(in_flight), timeout=_STOP_SECONDS)[0] if in_flight else []
        for ref in ended:
            del in_flight[ref]
            try:
                result = ray.get(ref)
            except ray.exceptions.RayError:  # cancelled
                continue
            yield result  # it ended before the cancellation reached it
        raise
    finally:
        for ref in in_flight:
            ray.cancel(ref)
        if own:
            ray.shutdown()

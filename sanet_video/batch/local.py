"""The local engine: one worker per device on this machine.

With one device the worker runs in this process. With several, each runs in its own
process (started with ``spawn``, so CUDA works), fed one job at a time over a pipe
and reporting its frames back; CPU workers share the cores between them. Ctrl-C and
SIGTERM reach the driver, which stops the workers with SIGTERM: each removes the
output it was writing (:func:`~sanet_video.outputs.atomic_output`). A worker that
dies (killed, out of memory) fails its job and is replaced; workers also end when
the driver dies.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait

import torch

from ..cli import _interrupt
from ..options import StylizeOptions
from .jobs import Job, JobResult
from .progress import Progress
from .worker import Worker

_STOP_SECONDS = 10.0
"""How long a stopped worker is given to clean up before it is killed."""


def run_local(jobs: Iterator[Job], options: StylizeOptions, devices: list[str],
              progress: Progress) -> Iterator[JobResult]:
    """Run ``jobs`` on ``devices``, one worker each, yielding results as they come.

    Jobs are taken from ``jobs`` only when a worker is free to start them.
    """
    if len(devices) == 1:
        worker = Worker(options, devices[0])
        for job in jobs:
            progress.start(0, job, worker.device)
            yield worker.run(job, lambda frames, key=job.key: progress.advance(0, key, frames))
        return
    cpu_workers = sum(device.startswith("cpu") for device in devices)
    threads = max(1, (os.cpu_count() or 1) // max(1, cpu_workers))
    pool = [_Process(slot, options, device, threads) for slot, device in enumerate(devices)]
    try:
        for process in pool:
            process.feed(jobs, progress)
        while busy := [process for process in pool if process.job is not None]:
            ready = wait([p.conn for p in busy] + [p.process.sentinel for p in busy])
            for process in busy:
                if process.conn in ready or process.process.sentinel in ready:
                    result = process.receive(progress)
                    if result is not None:
                        yield result
                        process.feed(jobs, progress)
    except KeyboardInterrupt:
        _stop(pool)
        for process in pool:  # results sent just before the workers were stopped
            if (result := process.read(progress)) is not None:
                yield result
        raise
    finally:
        _stop(pool)
        for process in pool:
            process.conn.close()


def _stop(pool: list[_Process]) -> None:
    """SIGTERM every worker (each removes the output it was writing); SIGKILL those that linger."""
    for process in pool:
        process.process.terminate()
    for process in pool:
        process.process.join(_STOP_SECONDS)
        if process.process.is_alive():
            process.process.kill()
            process.process.join()


class _Process:
    """A worker process on one device and the job it holds, if any."""

    def __init__(self, slot: int, options: StylizeOptions, device: str, threads: int) -> None:
        self.slot, self.options, self.device, self.threads = slot, options, device, threads
        self.job: Job | None = None
        self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, name=f"sanet-batch-{self.slot + 1}", daemon=True,
                                       args=(child, self.options, self.device,
                                             self.threads if self.device.startswith("cpu") else None))
        # The worker inherits SIGINT ignored, from its first instant: Ctrl-C in a terminal reaches the
        # whole process group, but only the driver acts on it (it then stops the workers with SIGTERM).
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.process.start()
        finally:
            signal.signal(signal.SIGINT, handler)
        child.close()

    def feed(self, jobs: Iterator[Job], progress: Progress) -> None:
        """Hand the worker the next job, if there is one."""
        self.job = next(jobs, None)
        if self.job is not None:
            progress.start(self.slot, self.job, self.device)
            self.conn.send(self.job)

    def read(self, progress: Progress) -> JobResult | None:
        """The job's result if it has come, else None, counting the frames reported meanwhile."""
        try:
            while self.job is not None and self.conn.poll():
                kind, value = self.conn.recv()
                if kind == "result":
                    self.job = None
                    return value
                progress.advance(self.slot, self.job.key, value)
        except (EOFError, OSError):  # the worker is gone
            pass
        return None

    def receive(self, progress: Progress) -> JobResult | None:
        """The job's result once it has come (a failure if the worker died), else None."""
        assert self.job is not None
        result = self.read(progress)
        if result is not None or self.process.is_alive():
            return result
        self.process.join()
        result = JobResult.failed(self.job.key, f"the worker process on {self.device} died "
                                                f"(exit code {self.process.exitcode}); out of memory?",
                                  device=self.device)
        self.job = None
        self._start()
        return result


def _serve(conn: Connection, options: StylizeOptions, device: str, threads: int | None) -> None:
    """A worker process's loop: receive a job, run it, send ("frames", n) messages and its ("result", r)."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    if sys.platform == "linux":  # SIGTERM this process when the driver dies (PR_SET_PDEATHSIG)
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    if threads is not None:
        torch.set_num_threads(threads)
    worker = Worker(options, device)
    try:
        while True:
            job = conn.recv()
            conn.send(("result", worker.run(job, lambda frames: conn.send(("frames", frames)))))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass

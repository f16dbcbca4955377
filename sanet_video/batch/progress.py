"""What the driver shows while a batch runs: one overall bar and one bar per worker.

All bars are drawn by the driver process (workers report frames to it), so several
workers never write over each other. The overall bar counts frames against the
estimate of every job to run, with the jobs done and failed and the time left; each
worker's bar shows its current job. Failures are printed above the bars as they come.
"""

from __future__ import annotations

import sys

from tqdm import tqdm

from .jobs import Job, JobKey, JobResult


class Progress:
    """The bars of one batch run.

    Args:
        estimates: the estimated frames of each job to run (1 for an image).
        workers: how many worker bars to show (0 where workers do not report frames, as on Ray).
        enabled: False draws nothing.
    """

    def __init__(self, estimates: dict[JobKey, int], workers: int, enabled: bool = True) -> None:
        self.estimates = estimates
        self.enabled = enabled
        self.done = self.failed = 0
        self.overall = tqdm(total=sum(estimates.values()), unit="frame", desc="batch", dynamic_ncols=True,
                            disable=not enabled, position=0)
        self._postfix()
        self.bars = [tqdm(total=0, unit="frame", dynamic_ncols=True, disable=not enabled, position=slot + 1,
                          leave=False, desc=f"worker {slot + 1}: idle") for slot in range(workers)]
        self._counted: dict[JobKey, int] = {}

    def _postfix(self) -> None:
        failed = f", {self.failed} failed" if self.failed else ""
        self.overall.set_postfix_str(f"jobs {self.done + self.failed}/{len(self.estimates)}{failed}")

    def start(self, slot: int, job: Job, device: str) -> None:
        """Worker ``slot`` (on ``device``) has begun ``job``."""
        self._counted[job.key] = 0
        bar = self.bars[slot]
        bar.set_description_str(f"{device}: {job}", refresh=False)
        bar.reset(total=self.estimates[job.key])

    def advance(self, slot: int, key: JobKey, frames: int) -> None:
        """Worker ``slot`` has written ``frames`` more frames of job ``key``."""
        self._counted[key] += frames
        self.bars[slot].update(frames)
        self.overall.update(frames)

    def finish(self, result: JobResult) -> None:
        """A job has ended; its frames not yet counted are added."""
        if result.status == "done":
            self.done += 1
            self.overall.update(result.frames - self._counted.get(result.key, 0))
        else:
            self.failed += 1
            self.note(f"failed: {result.key[0]} × {result.key[1]}: {result.reason}")
        self._counted.pop(result.key, None)
        self._postfix()

    def note(self, message: str) -> None:
        """Print a line above the bars."""
        if self.enabled:
            tqdm.write(message, file=sys.stderr)

    def close(self) -> None:
        for bar in (*self.bars, self.overall):
            bar.close()

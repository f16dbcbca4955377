"""Which jobs to run, and the manifest's record of each.

A job is skipped when its last record says "done" and nothing it depends on has
changed since: the input's, the style's and its mask's content (SHA-256), the options that shape
the output, the weights, the output's name, and the output itself, still there with
the recorded size and hash. Any other job runs again: new, failed before, interrupted
("started" but never recorded as ended), or changed. A job is claimed ("started") as
a worker takes it, which also removes any temporary file left there by a killed
process (:func:`~sanet_video.outputs.remove_dead_partials`); it is done once its
output has been renamed into place and recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..outputs import remove_dead_partials
from ..weights import SANetWeights
from .jobs import Job, JobKey, JobResult
from .manifest import Manifest, Record, fingerprint, unchanged
from .options import BatchOptions
from .report import Report

_DEPENDENCIES = (("input_file", "input changed"), ("style_file", "style changed"), ("mask_file", "mask changed"),
                 ("options", "options changed"), ("weights", "weights changed"), ("output", "output renamed"))


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _essence(value: Any) -> Any:
    """What matters of a record's field for deciding whether to redo: a file's hash, else the value."""
    return value.get("sha256") if isinstance(value, dict) and "sha256" in value else value


class Scheduler:
    """Plans the jobs of a batch against its manifest and records how they end.

    Args:
        manifest: the output folder's open manifest.
        options: the batch's options.
    """

    def __init__(self, manifest: Manifest, options: BatchOptions) -> None:
        self.manifest = manifest
        self.options = options
        self.job_options = options.job_options()
        self.weights = SANetWeights.resolve(options.weights).meta["sha256"]
        self.todo: list[Job] = []
        self.reasons: dict[JobKey, str] = {}
        """Why each job of ``todo`` runs."""
        self.status: dict[JobKey, str] = {}
        self._jobs: dict[JobKey, Job] = {}
        self._records: dict[JobKey, Record] = {}
        self._files: dict[Path, dict[str, Any]] = {}

    def _file(self, path: Path, known: dict[str, Any] | None) -> dict[str, Any]:
        if path not in self._files:
            self._files[path] = fingerprint(path, known)
        return self._files[path]

    def _record(self, job: Job, previous: Record | None) -> Record:
        """What a job's records hold besides its status: paths, fingerprints, options, weights.

        Raises:
            OSError: the input or the style cannot be read.
        """
        return {"input": job.key[0], "style": job.key[1], "output": job.relative_output.as_posix(),
                "input_file": self._file(job.media.path, previous and previous.get("input_file")),
                "style_file": {"path": str(job.style.path), **self._file(job.style.path, None)},
                "mask_file": None if job.style.mask is None else {"path": str(job.style.mask),
                                                                  **self._file(job.style.mask, None)},
                "options": self.job_options, "weights": self.weights}

    def _unreadable(self, job: Job, err: OSError) -> JobResult:
        result = JobResult.failed(job.key, f"cannot read {err.filename} ({err.strerror})")
        self.record(result)
        return result

    def plan(self, jobs: list[Job], refused: list[JobResult]) -> None:
        """Sort ``jobs`` into skipped, failed (unreadable input or style, foreign output) and to do.

        ``refused`` (jobs without a safe output path) are recorded as failed. The files
        of new jobs are hashed only when they are claimed, so that work starts at once.
        """
        for result in refused:
            self.record(result)
        for job in jobs:
            self._jobs[job.key] = job
            previous = self.manifest.records.get(job.key)
            reason: str | None = "new"
            if previous is not None:
                try:
                    self._records[job.key] = self._record(job, previous)
                except OSError as err:
                    self._unreadable(job, err)
                    continue
                reason = self._redo(job, self._records[job.key], previous)
            if reason is None:
                self.status[job.key] = "skipped"
            elif previous is None and (job.output.exists() or job.output.is_symlink()) and not self.options.overwrite:
                self.record(JobResult.failed(job.key, f"output {job.output} exists and was not made by this batch; "
                                                      "pass --overwrite to replace it"))
            else:
                self.todo.append(job)
                self.reasons[job.key] = reason
                self.status[job.key] = "pending"

    @staticmethod
    def _redo(job: Job, record: Record, previous: Record) -> str | None:
        """Why ``job``, recorded before, must run again, or None if its recorded output is still good."""
        if previous.get("status") != "done":
            return "failed before" if previous.get("status") == "failed" else "interrupted"
        for field, reason in _DEPENDENCIES:
            if _essence(previous.get(field)) != _essence(record[field]):
                return reason
        if not unchanged(job.output, previous.get("output_file")):
            return "output missing or modified"
        return None

    def claim(self, on_failed: Callable[[JobResult], None]) -> Iterator[Job]:
        """The jobs to do, each recorded as started (and its leftover temporary files removed) as it is taken.

        Args:
            on_failed: told of a job that fails here, its input or style being unreadable.
        """
        for job in self.todo:
            if job.key not in self._records:
                try:
                    self._records[job.key] = self._record(job, None)
                except OSError as err:
                    on_failed(self._unreadable(job, err))
                    continue
            remove_dead_partials(job.output)
            self.manifest.append({**self._records[job.key], "status": "started", "started": _timestamp(time.time())})
            self.status[job.key] = "interrupted"
            yield job

    def record(self, result: JobResult) -> None:
        """Record how a job ended."""
        self.manifest.append({
            **self._records.get(result.key, {"input": result.key[0], "style": result.key[1]}),
            "status": result.status, "reason": result.reason, "device": result.device,
            "started": _timestamp(result.started or time.time()), "seconds": round(result.seconds, 3),
            "frames": result.frames, "size": result.size, "output_file": result.output_file})
        self.status[result.key] = result.status

    def report(self, seconds: float) -> Report:
        """Every job of this run with its status."""
        rows = []
        for key, status in self.status.items():
            record = self.manifest.records.get(key, {}) if status in ("done", "skipped", "failed") else {}
            job = self._jobs.get(key)
            frames, took = record.get("frames"), record.get("seconds")
            rows.append({
                "input": key[0], "style": key[1], "status": status, "device": record.get("device"),
                "output": job.relative_output.as_posix() if job else None,
                "frames": frames if status != "failed" else None, "seconds": took,
                "fps": round(frames / took, 2) if status != "failed" and frames and took else None,
                "reason": record.get("reason")})
        return Report(self.manifest.path.parent, seconds, rows)

"""A batch from start to end: find the work, plan it against the manifest, run it, report."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from .discovery import estimate_frames, find_media, find_styles
from .jobs import JobResult, plan_jobs
from .local import run_local
from .manifest import Manifest
from .options import BatchOptions
from .progress import Progress
from .ray_engine import run_ray
from .report import Report
from .scheduler import Scheduler


def _folders(in_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """Both folders as absolute paths (workers elsewhere must find them), checked and the output made.

    Raises:
        UserError: the input is not a folder, the two are one, or the output holds the input.
    """
    in_dir, out_dir = in_dir.absolute(), out_dir.absolute()
    if not in_dir.is_dir():
        raise UserError(f"input folder {in_dir} {'is not a folder' if in_dir.exists() else 'not found'}; "
                        "give the folder that holds the videos and images")
    if in_dir.resolve().is_relative_to(out_dir.resolve()):
        raise UserError(f"the output folder {out_dir} is (or holds) the input folder; choose another output folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot make the output folder {out_dir} ({err.strerror}); choose another one") from None
    return in_dir, out_dir


def run_batch(in_dir: Path, out_dir: Path, options: BatchOptions) -> Report:
    """Stylize every image and video under ``in_dir`` with every style into ``out_dir``, resumably.

    Jobs done before with the same inputs and options are skipped; the report is
    written to ``out_dir`` even when the run is interrupted.

    Raises:
        UserError: bad folders, styles or devices, or another batch on ``out_dir``.
        KeyboardInterrupt: Ctrl-C or SIGTERM; the jobs that ended are recorded.
    """
    in_dir, out_dir = _folders(in_dir, out_dir)
    styles = find_styles(options.styles)
    devices = options.worker_devices() if options.engine == "local" else []
    began = time.perf_counter()
    with Manifest.open(out_dir) as manifest:
        media, skipped = find_media(in_dir, exclude=out_dir, follow_outside=options.follow_symlinks)
        jobs, refused = plan_jobs(media, styles, out_dir)
        scheduler = Scheduler(manifest, options)
        scheduler.plan(jobs, refused)
        frames = {item.path: estimate_frames(item, options.start, options.duration)
                  for item in {job.media for job in scheduler.todo}}
        devices = devices[:len(scheduler.todo)]
        progress = Progress({job.key: frames[job.media.path] for job in scheduler.todo}, len(devices),
                            enabled=not options.quiet)
        for reason in skipped:
            progress.note(f"warning: {reason}; skipped")
        progress.note(_plan_line(scheduler))
        try:
            if scheduler.todo:
                for result in _results(scheduler, options, devices, progress):
                    scheduler.record(result)
                    progress.finish(result)
        finally:
            progress.close()
            report = scheduler.report(time.perf_counter() - began)
            if out_dir.is_dir():  # else the error that stopped the batch says that it was removed
                report.write()
    return report


def _plan_line(scheduler: Scheduler) -> str:
    """E.g. "12 jobs: 7 done before, 1 refused, 4 to do (2 new, 1 interrupted, 1 input changed)"."""
    counts = Counter(scheduler.status.values())
    why = ", ".join(f"{count} {reason}" for reason, count in Counter(scheduler.reasons.values()).most_common())
    parts = [f"{counts['skipped']} done before"] if counts["skipped"] else []
    parts += [f"{counts['failed']} refused"] if counts["failed"] else []
    parts.append(f"{len(scheduler.todo)} to do" + (f" ({why})" if why else ""))
    return f"{len(scheduler.status)} jobs: {', '.join(parts)}"


def _results(scheduler: Scheduler, options: BatchOptions, devices: list[str],
             progress: Progress) -> Iterator[JobResult]:
    jobs = scheduler.claim(progress.finish)
    if options.engine == "ray":
        return run_ray(jobs, options.stylize_options(), options.address)
    return run_local(jobs, options.stylize_options(), devices, progress)

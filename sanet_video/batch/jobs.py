"""Jobs: one input times one style, with its output path in the mirrored tree, and their results.

An output is named ``{stem}__{style}{ext}`` in the folder that mirrors the input's:
an image keeps its extension where it is one of the common writable formats (else
``.png``), a video keeps its container where it is .mp4, .mkv, .mov or .webm (else
``.mp4``). Where two inputs of one folder would share an output (``a.avi`` and
``a.mp4``), both use their full file name as the stem (``a.avi__style.mp4``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from .discovery import MediaFile, Style

IMAGE_OUTPUTS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
VIDEO_OUTPUTS = (".mp4", ".mkv", ".mov", ".webm")

JobKey = tuple[str, str]
"""A job's identity: the input's path relative to the input folder (POSIX form) and the style's name."""


@dataclass(frozen=True)
class Job:
    """One input to stylize with one style.

    Attributes:
        media: the input.
        style: the style.
        output: where the result goes, inside the output folder.
        relative_output: ``output`` relative to the output folder.
    """

    media: MediaFile
    style: Style
    output: Path
    relative_output: Path

    @property
    def key(self) -> JobKey:
        return self.media.relative.as_posix(), self.style.name

    def __str__(self) -> str:
        return f"{self.media.relative.as_posix()} × {self.style.name}"


@dataclass
class JobResult:
    """What came of one job.

    Attributes:
        key: the job's :data:`JobKey`.
        status: "done" or "failed".
        reason: why it failed, in one line; when done, the run's warnings (e.g. frames lost to damage), or None.
        device: where it ran.
        started: when it began (seconds since the epoch).
        seconds: how long it took.
        frames: frames written (1 for an image).
        size: the output's width and height, e.g. "64x48".
        output_file: the output's fingerprint (:func:`~.manifest.fingerprint`) when done.
    """

    key: JobKey
    status: str
    reason: str | None = None
    device: str = ""
    started: float = 0.0
    seconds: float = 0.0
    frames: int = 0
    size: str = ""
    output_file: dict[str, object] | None = field(default=None, repr=False)

    @classmethod
    def failed(cls, key: JobKey, reason: str, **timing: object) -> JobResult:
        """A failure with its reason cut to its first line."""
        return cls(key, "failed", reason.strip().splitlines()[0] if reason.strip() else "unknown error", **timing)


def _suffix(media: MediaFile) -> str:
    suffix = media.path.suffix.lower()
    if media.kind == "image":
        return suffix if suffix in IMAGE_OUTPUTS else ".png"
    return suffix if suffix in VIDEO_OUTPUTS else ".mp4"


def inside(root: Path, relative: Path) -> Path:
    """``root / relative``, checked to stay inside ``root`` once every link on the way is followed.

    Raises:
        UserError: the path is absolute, climbs out with ``..``, or goes out through a symbolic link.
    """
    path = root / relative
    try:
        escapes = (relative.is_absolute() or ".." in relative.parts
                   or not path.resolve().is_relative_to(root.resolve()))
    except (OSError, RuntimeError):  # a link loop on the way
        escapes = True
    if escapes:
        raise UserError(f"output {path} would lie outside the output folder {root} (through '..', an absolute "
                        "path or a symbolic link); remove the link or rename the file")
    return path


def plan_jobs(media: list[MediaFile], styles: list[Style], out_dir: Path) -> tuple[list[Job], list[JobResult]]:
    """Every input times every style, input by input; and the jobs refused for their output path.

    Args:
        media: the inputs, as found by :func:`~.discovery.find_media`.
        styles: the styles.
        out_dir: the output folder.
    """
    def name(item: MediaFile, stem: str, style: Style) -> Path:
        return item.relative.parent / f"{stem}__{style.name}{_suffix(item)}"

    shared = Counter(name(item, item.path.stem, styles[0]) for item in media) if styles else Counter()
    jobs, refused = [], []
    for item in media:
        stem = item.path.name if shared[name(item, item.path.stem, styles[0])] > 1 else item.path.stem
        for style in styles:
            relative = name(item, stem, style)
            try:
                jobs.append(Job(item, style, inside(out_dir, relative), relative))
            except UserError as err:
                refused.append(JobResult.failed((item.relative.as_posix(), style.name), str(err)))
    return jobs, refused

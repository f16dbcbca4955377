"""Animations that FFmpeg cannot decode (animated WebP), read frame by frame with Pillow.

:class:`AnimatedImage` offers what the frame loop and :class:`~.sink.VideoSink` use of a
:class:`~.source.VideoSource`; :func:`open_video` picks the reader a file needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from ..errors import UserError
from ..image_io import open_image, pillow_animation, to_rgb8
from .source import VideoSource

_TIME_BASE = Fraction(1, 1000)
"""Pillow gives frame durations in milliseconds."""


@dataclass(frozen=True)
class _Container:
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Stream:
    time_base: Fraction = _TIME_BASE
    sample_aspect_ratio: Fraction | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class AnimatedImage:
    """An animation read with Pillow, positioned at its first frame (see :class:`~.source.VideoSource`).

    Raises:
        UserError: the file is missing, above the pixel limit, damaged, or has no frame in the range.
    """

    container = _Container()
    video = _Stream()
    audio: tuple[()] = ()
    rotation_matrix = None

    def __init__(self, path: Path, start: float = 0.0, duration: float | None = None) -> None:
        self.path = path
        self.image = open_image(path, "input")
        self.offset = start
        try:
            self._timing = self._frame_timing(start, duration)
            if not self._timing:
                raise UserError(f"input {path} has no video frame in the requested range; "
                                "check --start and --duration against the video's length")
            self.first_frame = self._frame(0)
        except BaseException:
            self.image.close()
            raise

    def _frame_timing(self, start: float, duration: float | None) -> list[tuple[int, int, int]]:
        """(index, pts, duration) in milliseconds of the frames that start in the range."""
        low, high = start * 1000, None if duration is None else (start + duration) * 1000
        timing, pts = [], 0
        for index in range(self.image.n_frames):
            self._seek(index)
            length = max(1, int(self.image.info.get("duration") or 100))
            if pts >= low and (high is None or pts < high):
                timing.append((index, pts, length))
            pts += length
        return timing

    def _seek(self, index: int) -> None:
        try:
            self.image.seek(index)
        except Exception as err:  # as in image_io: Pillow's parsers raise anything on damaged bytes
            raise UserError(f"input {self.path} is truncated or corrupt ({err}); re-download or re-export it") \
                from None

    def _frame(self, number: int) -> av.VideoFrame:
        index, pts, length = self._timing[number]
        self._seek(index)
        try:
            pixels = to_rgb8(self.image)
        except Exception as err:  # as in _seek
            raise UserError(f"input {self.path} is truncated or corrupt ({err}); re-download or re-export it") \
                from None
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame.pts, frame.duration, frame.time_base = pts, length, _TIME_BASE
        return frame

    @property
    def frame_rate(self) -> Fraction | None:
        total = sum(length for _, _, length in self._timing)
        return Fraction(len(self._timing) * 1000, total)

    def estimated_frames(self) -> int:
        return len(self._timing)

    def frame_loss(self, decoded: int) -> None:
        """Nothing is lost: a frame that cannot be read is an error."""

    def shift(self, time_base: Fraction) -> int:
        return round(self.offset / time_base)

    def __iter__(self) -> Iterator[av.VideoFrame]:
        yield self.first_frame
        for number in range(1, len(self._timing)):
            yield self._frame(number)

    def close(self) -> None:
        self.image.close()


def open_video(path: Path, start: float = 0.0, duration: float | None = None) -> VideoSource | AnimatedImage:
    """The video in ``path``, read by FFmpeg, or by Pillow where it is an animation FFmpeg cannot decode."""
    if pillow_animation(path):
        return AnimatedImage(path, start, duration)
    return VideoSource(path, start, duration)

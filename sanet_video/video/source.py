"""Decoding: a video file's frames and its audio packets, in file order, one at a time.

:class:`VideoSource` opens and checks the input, seeks to ``start`` and yields the
decoded frames of the first video stream, and the packets of every audio stream,
within the requested time range. Nothing is kept beyond the packet being decoded,
so memory does not grow with the length of the video. Every decoding problem becomes
a :class:`~sanet_video.errors.UserError` that names the file.

Inputs are opened by :func:`open_input`: local files only (FFmpeg may open no network
or other protocol, even where a playlist names one), and no decoder allocates a frame
above :data:`~sanet_video.image_io.MAX_PIXELS`, however large the size a header declares.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from ..errors import UserError
from ..image_io import MAX_PIXELS
from .pyav import OPEN_TOLERANT

_FIX_CORRUPT = "re-download or re-export the video"
_SAFE_OPTIONS = {"protocol_whitelist": "file", "max_pixels": str(MAX_PIXELS)}
"""FFmpeg options for every input: its container and, while probing, its decoders (a decoder
asked for a larger frame fails with EINVAL instead of allocating it)."""


def open_input(path: Path) -> av.container.InputContainer:
    """Open a local media file for reading, with :data:`_SAFE_OPTIONS`.

    Raises:
        av.error.FFmpegError: FFmpeg cannot open or probe it.
    """
    return av.open(str(path), options=_SAFE_OPTIONS, **OPEN_TOLERANT)


class VideoSource:
    """An open input video, checked, positioned at its first frame.

    Args:
        path: the video file.
        start: seconds to skip from the start of the file.
        duration: seconds to keep from ``start``; None for all.

    Raises:
        UserError: the file is missing, not a video, has no video stream, a video
            codec that cannot be decoded, no frame in the range, or is corrupt.
    """

    def __init__(self, path: Path, start: float = 0.0, duration: float | None = None) -> None:
        self.path = path
        if path.is_dir():
            raise UserError(f"input {path} is a folder; give a video or an image file (or use the batch command)")
        if not path.is_file():
            raise UserError(f"input {path} not found; check the path")
        try:
            self.container = open_input(path)
        except av.error.FFmpegError as err:
            raise UserError(f"input {path} cannot be read as a video or an image ({_reason(err)}): it is empty, "
                            "truncated, corrupt or of an unknown format; give a complete video (MP4, MKV, MOV, "
                            "WebM, ...) or image file") from None
        try:
            self.video = self._video_stream()
            self.audio: list[AudioStream] = list(self.container.streams.audio)
            self.origin = (self.container.start_time or 0) / av.time_base
            self.offset = start
            self.start = self.origin + start
            self.end = None if duration is None else self.start + duration
            self._items = self._demux()
            self._pending: list[av.Packet] = []
            self.first_frame = self._first_frame()
        except BaseException:
            self.container.close()
            raise

    def _video_stream(self) -> VideoStream:
        if not self.container.streams.video:
            raise UserError(f"input {self.path} has no video stream; give a video file or an image")
        stream = self.container.streams.video[0]
        if stream.codec_context is None:
            raise UserError(f"the video codec of {self.path} is not supported by this FFmpeg build; "
                            "convert the video to H.264 first")
        stream.codec_context.options = {"max_pixels": _SAFE_OPTIONS["max_pixels"]}
        stream.thread_type = "AUTO"
        return stream

    @property
    def rotation_matrix(self) -> list[int] | None:
        """The display matrix (9 integers, 16.16 fixed point) of the video, if it has one."""
        try:
            side_data = self.first_frame.side_data
        except ValueError:  # side data of a type this PyAV does not know (found by fuzzing a TIFF)
            return None
        if "DISPLAYMATRIX" not in side_data:
            return None
        return np.frombuffer(bytes(side_data["DISPLAYMATRIX"]), dtype=np.int32).tolist()

    @property
    def frame_rate(self) -> Fraction | None:
        return self.video.average_rate or self.video.guessed_rate

    def estimated_frames(self) -> int | None:
        """How many frames the range holds, from the container's header; None if unknown."""
        rate = self.frame_rate
        if self.video.duration and self.video.time_base:
            length = float(self.video.duration * self.video.time_base)
        elif self.container.duration:
            length = self.container.duration / av.time_base
        else:
            return self.video.frames or None
        end = self.origin + length if self.end is None else min(self.end, self.origin + length)
        return max(0, round((end - self.start) * float(rate))) if rate else None

    def _first_frame(self) -> av.VideoFrame:
        for item in self._items:
            if isinstance(item, av.VideoFrame):
                return item
            self._pending.append(item)
        if self.offset or self.end is not None:
            raise self._nothing_in_range()
        raise UserError(f"input {self.path} has zero video frames; give a video that holds pictures")

    def __iter__(self) -> Iterator[av.VideoFrame | av.Packet]:
        """The first frame, then the remaining frames and audio packets in file order.

        Audio packets that came before the first frame are yielded before it.
        """
        yield from self._pending
        self._pending = []
        yield self.first_frame
        yield from self._items

    def _demux(self) -> Iterator[av.VideoFrame | av.Packet]:
        if self.offset > 0:
            self._seek(self.start)
        bounds = {s.index: self._bounds(s.time_base) for s in (self.video, *self.audio)}
        try:
            for packet in self.container.demux(self.video, *self.audio):
                index = packet.stream.index
                if index not in bounds:
                    continue
                if packet.is_corrupt:
                    raise UserError(f"input {self.path} is truncated or corrupt (damaged data in stream {index}); "
                                    f"{_FIX_CORRUPT}")
                if packet.stream.type == "audio":
                    if packet.size and self._keep(packet.pts, bounds, index):
                        yield packet
                    continue
                for frame in packet.decode():
                    if index not in bounds:
                        break
                    if self._keep(frame.pts, bounds, index):
                        yield frame
                if not bounds:
                    return
        except av.error.ArgumentError as err:  # what a decoder says of a frame above max_pixels, too
            raise UserError(f"input {self.path} has frames that cannot be decoded ({_reason(err)}): larger than "
                            f"{MAX_PIXELS // 1_000_000} megapixels, or corrupt; downscale or re-export the video") \
                from None
        except av.error.FFmpegError as err:
            raise UserError(f"input {self.path} is truncated or corrupt ({_reason(err)}); {_FIX_CORRUPT}") from None

    def _bounds(self, time_base: Fraction) -> tuple[int | None, int | None]:
        """The range [start, end) in ticks of ``time_base``; None where it is open."""
        low = math.ceil(self.start / time_base - 1e-3) if self.offset > 0 else None
        high = math.ceil(self.end / time_base - 1e-3) if self.end is not None else None
        return low, high

    @staticmethod
    def _keep(pts: int | None, bounds: dict[int, tuple[int | None, int | None]], index: int) -> bool:
        """Whether a frame or packet starts in range; one past the end closes its stream."""
        low, high = bounds[index]
        if pts is None:
            return True
        if high is not None and pts >= high:
            del bounds[index]
            return False
        return low is None or pts >= low

    def shift(self, time_base: Fraction) -> int:
        """How many ticks of ``time_base`` to subtract from input timestamps (``start``, rounded)."""
        return round(self.offset / time_base)

    def _seek(self, seconds: float) -> None:
        """Move to the last keyframe at or before ``seconds``; frames before it are dropped later."""
        try:
            self.container.seek(int(seconds / self.video.time_base), stream=self.video, backward=True)
        except OverflowError:  # far beyond any video's end
            raise self._nothing_in_range() from None
        except av.error.FFmpegError as err:
            raise UserError(f"cannot seek to {seconds:.3f} s in {self.path} ({_reason(err)}); "
                            "check --start") from None

    def _nothing_in_range(self) -> UserError:
        return UserError(f"input {self.path} has no video frame in the requested range; "
                         "check --start and --duration against the video's length")

    def close(self) -> None:
        self.container.close()


def _reason(err: av.error.FFmpegError) -> str:
    return err.strerror or str(err)

"""Decoding: a video file's frames and its audio packets, in file order, one at a time.

:class:`VideoSource` opens and checks the input, seeks to ``start`` and yields the
decoded frames of the first video stream, and the packets of every audio stream,
within the requested time range. Nothing is kept beyond the packet being decoded,
so memory does not grow with the length of the video. Every decoding problem becomes
a :class:`~sanet_video.errors.UserError` that names the file.

Inputs are opened by :func:`open_input`: local files only (FFmpeg may open no network
or other protocol, even where a playlist names one), and no decoder allocates a frame
above :data:`~sanet_video.image_io.MAX_PIXELS`, however large the size a header declares.
Only the demuxers of :data:`VIDEO_DEMUXERS` count as video (FFmpeg would also make a
video of a text file), and a picture attached to an audio file (cover art) is no video.
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
from av.stream import Disposition
from av.video.stream import VideoStream

from ..errors import UserError
from ..image_io import MAX_PIXELS
from ..input_files import require_file
from .pyav import OPEN_TOLERANT

_FIX_CORRUPT = "re-download or re-export the video"
_SAFE_OPTIONS = {"protocol_whitelist": "file", "max_pixels": str(MAX_PIXELS)}
"""FFmpeg options for every input: its container and, while probing, its decoders (a decoder
asked for a larger frame fails with EINVAL instead of allocating it)."""


VIDEO_DEMUXERS = frozenset((
    "mov", "mp4", "matroska", "webm", "avi", "mpegts", "mpeg", "mpegvideo", "m4v", "h264", "hevc", "vvc", "obu",
    "ivf", "flv", "asf", "ogg", "mxf", "nut", "dv", "rm", "gif", "apng", "yuv4mpegpipe", "mjpeg"))
"""FFmpeg demuxers a video may come from (a demuxer's name lists its formats, e.g. "mov,mp4,m4a,...")."""


def video_streams(container: av.container.InputContainer) -> list[VideoStream]:
    """The streams of ``container`` that hold a video: none unless its demuxer is one of VIDEO_DEMUXERS,
    and no attached picture (an audio file's cover art)."""
    if VIDEO_DEMUXERS.isdisjoint(container.format.name.split(",")):
        return []
    return [s for s in container.streams.video if not s.disposition & Disposition.attached_pic]


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
        require_file(path, "input", "give a video or an image file (or use the batch command)")
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
        streams = video_streams(self.container)
        if not self.container.streams.video:
            raise UserError(f"input {self.path} has no video stream; give a video file or an image")
        if all(s.disposition & Disposition.attached_pic for s in self.container.streams.video):
            raise UserError(f"input {self.path} is an audio file, no video (its only picture is cover art); "
                            "give a video file or an image")
        if not streams:
            raise UserError(f"input {self.path} cannot be read as a video or an image (FFmpeg takes it for "
                            f"{self.container.format.long_name}); give a video (MP4, MKV, MOV, WebM, ...) or image "
                            "file")
        stream = streams[0]
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

    def frame_loss(self, decoded: int) -> str | None:
        """A warning where a run over the whole file decoded fewer frames than the container declares
        (damaged or missing data was skipped), else None.

        MP4 and MOV count their frames exactly; elsewhere the count comes from the duration and
        the frame rate, so a difference of one frame, or of a tenth, is let pass.
        """
        if self.offset or self.end is not None:
            return None
        exact = bool(self.video.frames)
        declared = self.video.frames if exact else self.estimated_frames()
        if not declared or declared - decoded <= (0 if exact else max(1, declared // 10)):
            return None
        return (f"input {self.path} declares {'' if exact else 'about '}{declared} video frames but only {decoded} "
                "could be decoded (damaged or missing data was skipped); the output has those frames")

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

"""Encoding: stylized frames and the input's audio into the output container.

The container format comes from the output's extension. The video stream keeps the
input's timestamps, frame durations, time base (where the container allows it),
frame rate, colour tags, sample aspect ratio and display matrix (rotation), so the
output plays like the input; audio goes through :class:`~.audio.AudioTrack`.
Subtitle and data streams are not carried over.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import av
import av.error
import numpy as np
from av.video.reformatter import VideoReformatter

from ..errors import UserError
from ..options import StylizeOptions
from ..outputs import write_error
from .audio import AudioTrack
from .encoder import add_video_stream
from .source import VideoSource

_MP4_LIKE = ("mp4", "mov")


def _open_output(path: Path) -> av.container.OutputContainer:
    """An output container for ``path``, its format from the extension (nothing is written yet).

    Raises:
        UserError: no extension, or one FFmpeg does not know.
    """
    if not path.suffix:
        raise UserError(f"cannot tell the video format of {path}: the name has no extension (a name that "
                        "starts with a dot has none); end it with .mp4, .mkv, .mov or .webm")
    try:
        return av.open(str(path), "w")
    except ValueError:
        raise UserError(f"cannot tell the video format from the extension {path.suffix}; "
                        "use .mp4, .mkv, .mov or .webm") from None


def check_video_output(path: Path, options: StylizeOptions) -> None:
    """Check, without writing anything, that ``path``'s container takes the encoder and its options.

    Raises:
        UserError: see :func:`_open_output` and :func:`~.encoder.add_video_stream`; a crf
            out of the encoder's range.
    """
    container = _open_output(path)
    try:
        _, codec = add_video_stream(container, options.codec, None)
        codec.options(options.crf, options.preset)
    finally:
        container.close()


class VideoSink:
    """The output container of one run, set up from the input and the frame size.

    Args:
        path: the file to write (its extension picks the container).
        source: the input, for timing, colour, rotation and audio streams.
        width: width of the stylized frames.
        height: height of the stylized frames.
        options: codec, quality, speed and pixel format.

    Raises:
        UserError: unknown extension, or an encoder the container cannot hold.
    """

    def __init__(self, path: Path, source: VideoSource, width: int, height: int, options: StylizeOptions) -> None:
        self.path = path
        self.container = _open_output(path)
        try:
            self._setup(source, width, height, options)
        except BaseException:
            self.container.close()
            raise

    def _setup(self, source: VideoSource, width: int, height: int, options: StylizeOptions) -> None:
        container = self.container
        container.metadata.update(source.container.metadata)
        if container.format.name in _MP4_LIKE:
            container.container_options["movflags"] = "+faststart"
        stream, codec = add_video_stream(container, options.codec, source.frame_rate)
        time_base = source.video.time_base
        stream.width, stream.height = width, height
        stream.pix_fmt = codec.pixel_format(options.pix_fmt, width, height)
        stream.time_base = time_base
        context = stream.codec_context
        context.options = codec.options(options.crf, options.preset)
        context.time_base = time_base
        first = source.first_frame
        context.colorspace, context.color_range = first.colorspace, first.color_range
        context.color_primaries, context.color_trc = first.color_primaries, first.color_trc
        if source.video.sample_aspect_ratio:
            context.sample_aspect_ratio = source.video.sample_aspect_ratio
        if source.rotation_matrix is not None:
            stream.set_display_matrix(source.rotation_matrix)
        stream.metadata.update(source.video.metadata)
        self.video = stream
        self.codec = codec
        self.shift = source.shift(time_base)
        self.audio = {s.index: AudioTrack(container, s, source.shift(s.time_base)) for s in source.audio}
        self._yuv = {"format": stream.pix_fmt, "dst_colorspace": first.colorspace,
                     "dst_color_range": first.color_range}
        self._reformatter = VideoReformatter()
        self._durations: dict[int, int] = {}
        self._next_pts: int | None = None
        self.retimed = 0
        """Frames whose timestamp was moved to keep the video's timestamps increasing."""

    def write_frames(self, pixels: np.ndarray, timing: list[tuple[int, int]]) -> None:
        """Encode stylized frames.

        Args:
            pixels: (N, H, W, 3) uint8 RGB, C-contiguous.
            timing: each frame's input (pts, duration) in the input video's time base.
        """
        time_base = self.video.codec_context.time_base
        with self._writing():
            for rgb, (pts, duration) in zip(pixels, timing, strict=True):
                frame = self._reformatter.reformat(av.VideoFrame.from_numpy_buffer(rgb, format="rgb24"),
                                                   **self._yuv)
                frame.pts, frame.time_base = self._increasing(pts - self.shift), time_base
                self._durations[frame.pts] = duration
                self._mux_video(self.video.encode(frame))

    def _increasing(self, pts: int) -> int:
        """``pts``, or the tick after the previous frame's where the input's timestamps go back or repeat
        (the encoder and the muxer refuse them); counted in :attr:`retimed`."""
        if self._next_pts is not None and pts < self._next_pts:
            pts = self._next_pts
            self.retimed += 1
        self._next_pts = pts + 1
        return pts

    def _mux_video(self, packets: list[av.Packet]) -> None:
        # Encoders reorder frames and drop their durations; restore each from its pts
        # so that the last frame, and variable frame rates, keep their length.
        for packet in packets:
            packet.duration = self._durations.pop(packet.pts, 0)
            self.container.mux(packet)

    def write_audio(self, packet: av.Packet) -> None:
        """Pass one input audio packet on to its track."""
        with self._writing():
            self.audio[packet.stream.index].write(packet)

    def close(self) -> None:
        """Drain the encoders and finish the file.

        Raises:
            UserError: FFmpeg could not finish the file (e.g. the disk is full).
        """
        with self._writing():
            self._mux_video(self.video.encode(None))
            for track in self.audio.values():
                track.flush()
            self.container.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn FFmpeg's encoding and writing errors (a full disk, a removed directory...) into one line."""
        try:
            yield
        except av.error.FFmpegError as err:
            raise write_error(self.path.parent, err.strerror or str(err)) from None

    def abort(self) -> None:
        """Close the container without finishing it (the file is removed by the caller)."""
        try:
            self.container.close()
        except av.error.FFmpegError:
            pass

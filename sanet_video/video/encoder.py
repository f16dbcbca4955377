"""Choosing and configuring the video encoder: codec, quality, speed and pixel format.

H.264 (libx264) is the default; H.265 (libx265) and VP9 (libvpx-vp9) are there when
this PyAV build has them. ``auto`` takes H.264, or VP9 where the container cannot
hold H.264 (WebM).

Pixel format: 4:2:0 (``yuv420p``) plays everywhere but H.264 and H.265 need even
width and height for it. Rather than change the visible size, ``auto`` encodes a
video of odd width or height in 4:4:4 (``yuv444p``: H.264 High 4:4:4, H.265 Main
4:4:4), which every software player decodes but some hardware decoders do not; use
``--max-side`` (which rounds sides to even numbers) for a 4:2:0 file. VP9 encodes
odd sizes in 4:2:0 directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
from av.container import OutputContainer
from av.video.stream import VideoStream

from ..errors import UserError
from ..options import PRESETS


@dataclass(frozen=True)
class VideoCodec:
    """One encoder the tool offers.

    Attributes:
        name: its name on the command line.
        encoder: FFmpeg's encoder name.
        default_crf: the quality used when ``--crf`` is not given.
        max_crf: the largest constant-quality value the encoder takes.
        odd_420: whether it encodes 4:2:0 at odd sizes.
    """

    name: str
    encoder: str
    default_crf: int
    max_crf: int
    odd_420: bool

    def options(self, crf: int | None, preset: str) -> dict[str, str]:
        """Encoder options for constant quality ``crf`` at speed ``preset``."""
        crf = self.default_crf if crf is None else crf
        if not 0 <= crf <= self.max_crf:
            raise UserError(f"crf for {self.name} must be between 0 and {self.max_crf}, got {crf}")
        if self.name == "vp9":
            cpu_used = len(PRESETS) - 1 - PRESETS.index(preset)  # ultrafast 8 .. veryslow 0
            return {"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": str(cpu_used), "row-mt": "1"}
        # No B-frames: frames then leave the encoder in display order, so each packet
        # keeps its own duration and MP4's per-sample durations (and the last frame's
        # end) stay exact under variable frame rates. Costs some compression.
        options = {"crf": str(crf), "preset": preset, "bf": "0"}
        if self.name == "h265":
            options["x265-params"] = "log-level=error"
        return options

    def pixel_format(self, choice: str, width: int, height: int) -> str:
        """The pixel format for ``choice`` ("auto", "yuv420p", "yuv444p") at this size."""
        odd = width % 2 or height % 2
        if choice == "auto":
            return "yuv444p" if odd and not self.odd_420 else "yuv420p"
        if choice == "yuv420p" and odd and not self.odd_420:
            raise UserError(f"{self.name} cannot encode yuv420p at the odd size {width}x{height}; "
                            "use --pix-fmt auto (yuv444p), --codec vp9, or --max-side for even sides")
        return choice


CODECS = {
    "h264": VideoCodec("h264", "libx264", default_crf=18, max_crf=51, odd_420=False),
    "h265": VideoCodec("h265", "libx265", default_crf=22, max_crf=51, odd_420=False),
    "vp9": VideoCodec("vp9", "libvpx-vp9", default_crf=32, max_crf=63, odd_420=True),
}
AUTO_ORDER = ("h264", "vp9")


def add_video_stream(container: OutputContainer, choice: str, rate: Fraction | None) -> tuple[VideoStream, VideoCodec]:
    """Add the encoder's stream to ``container``: ``choice``, or the first of AUTO_ORDER it can hold.

    Raises:
        UserError: the encoder is missing from this PyAV build, or the container
            cannot hold its codec.
    """
    names = AUTO_ORDER if choice == "auto" else (choice,)
    for name in names:
        codec = CODECS[name]
        try:
            av.Codec(codec.encoder, "w")
        except av.codec.codec.UnknownCodecError:
            if choice != "auto":
                raise UserError(f"this PyAV build has no {codec.encoder} encoder for {name}; "
                                "choose another --codec") from None
            continue
        try:
            stream = container.add_stream(codec.encoder, rate=rate)
        except ValueError:
            if choice != "auto":
                raise UserError(f"the {container.format.name} container cannot hold {name} video; "
                                "choose another --codec or output extension (.mp4, .mkv, .webm)") from None
            continue
        # Frame threads (PyAV's default is slice threads) keep every core busy at high resolutions.
        stream.codec_context.thread_type = "AUTO"
        return stream, codec
    raise UserError(f"the {container.format.name} container holds none of {', '.join(names)}; "
                    "use an .mp4, .mkv, .mov or .webm output")

"""Small media files made on the spot with PyAV and Pillow, and a probe to compare them."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

AUDIO_RATE = 48_000


def moving_frame(index: int, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8: a colour gradient with a bright square that moves with ``index``."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1),
                      np.full_like(x, 96)], axis=-1).astype(np.uint8)
    side = max(2, min(width, height) // 4)
    left, top = (3 * index) % max(1, width - side), (2 * index) % max(1, height - side)
    frame[top:top + side, left:left + side] = (250, 240, 40)
    return frame


def tone(seconds: float, channels: int = 2) -> np.ndarray:
    """(channels, samples) float32: a 440 Hz sine."""
    t = np.arange(round(seconds * AUDIO_RATE)) / AUDIO_RATE
    return np.repeat(0.2 * np.sin(2 * np.pi * 440.0 * t)[None], channels, axis=0).astype(np.float32)


def make_video(path: Path, *, size: tuple[int, int] = (64, 48), frames: int = 6, rate: int = 25,
               pts: list[int] | None = None, time_base: Fraction | None = None, codec: str = "libx264",
               pix_fmt: str = "yuv420p", audio: tuple[str, ...] = (), rotation: float | None = None) -> Path:
    """Write a short clip.

    Args:
        path: output file; its extension picks the container.
        size: (width, height).
        frames: number of frames (ignored when ``pts`` is given).
        rate: nominal frame rate.
        pts: explicit timestamps (variable frame rate), in ``time_base``.
        time_base: the video time base; 1/rate if omitted.
        codec: video encoder.
        pix_fmt: pixel format of the video stream.
        audio: one audio encoder per audio stream ("aac", "mp3", "libopus"...).
        rotation: display rotation in degrees (counter-clockwise), or None.
    """
    time_base = time_base or Fraction(1, rate)
    stamps = pts if pts is not None else [round(i / rate / time_base) for i in range(frames)]
    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=rate, options={"preset": "ultrafast"} if "x26" in codec else {})
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.time_base = video.codec_context.time_base = time_base
        if rotation is not None:
            video.set_display_rotation(rotation)
        sounds = [out.add_stream(name, rate=AUDIO_RATE, layout="stereo") for name in audio]
        for index, stamp in enumerate(stamps):
            frame = av.VideoFrame.from_ndarray(moving_frame(index, width, height), format="rgb24")
            frame.pts, frame.time_base = stamp, time_base
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        seconds = float(stamps[-1] * time_base) + 1 / rate
        for sound in sounds:
            encode_tone(out, sound, seconds)
    return path


def encode_tone(out: av.container.OutputContainer, sound: av.audio.stream.AudioStream, seconds: float) -> None:
    """Encode ``seconds`` of a sine into the audio stream ``sound`` of ``out``, then flush it."""
    samples = tone(seconds)
    for start in range(0, samples.shape[1], 1024):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + 1024]),
                                           format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
        out.mux(sound.encode(frame))
    out.mux(sound.encode(None))


def make_audio_only(path: Path, seconds: float = 0.5) -> Path:
    """An audio file without any video stream."""
    with av.open(str(path), "w") as out:
        encode_tone(out, out.add_stream("aac", rate=AUDIO_RATE, layout="stereo"), seconds)
    return path


def make_empty_video(path: Path) -> Path:
    """A container with a video stream that holds no frame, beside an audio stream that has some."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height = 64, 48
        encode_tone(out, out.add_stream("aac", rate=AUDIO_RATE, layout="stereo"), 0.2)
    return path


def make_image(path: Path, mode: str = "RGB", size: tuple[int, int] = (40, 32)) -> Path:
    """A gradient image in any Pillow mode ("L", "RGBA", "CMYK", "I;16", "P"...)."""
    rgb = Image.fromarray(moving_frame(3, *size))
    if mode == "I;16":
        gray = np.asarray(rgb.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(gray)
    else:
        image = rgb.convert(mode)
    image.save(path)
    return path


def make_png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` pixels, without the pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


@dataclass
class StreamInfo:
    """What matters about a video for the tests."""

    width: int
    height: int
    pix_fmt: str
    codec: str
    time_base: Fraction
    average_rate: Fraction | None
    pts: list[int]
    rotation: int
    duration: float
    video_end: float
    audio: list[dict] = field(default_factory=list)


def probe(path: Path) -> StreamInfo:
    """Decode every frame of ``path`` and describe its first video and all audio streams."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = list(container.decode(video))
        info = StreamInfo(
            width=video.width, height=video.height, pix_fmt=video.codec_context.pix_fmt,
            codec=video.codec_context.name, time_base=video.time_base, average_rate=video.average_rate,
            pts=[f.pts for f in frames], rotation=frames[0].rotation if frames else 0,
            duration=float(container.duration or 0) / av.time_base,
            video_end=float((frames[-1].pts + frames[-1].duration) * video.time_base) if frames else 0.0)
    with av.open(str(path)) as container:
        streams = container.streams.audio
        packets: dict[int, list[av.Packet]] = {s.index: [] for s in streams}
        for packet in container.demux(*streams) if streams else ():
            if packet.size:
                packets[packet.stream.index].append(packet)
        for stream in streams:
            kept = [p for p in packets[stream.index] if not p.is_discard]
            info.audio.append({
                "codec": stream.codec_context.name,
                "packets": [bytes(p) for p in packets[stream.index]],
                "duration": float(sum(p.duration for p in kept) * stream.time_base),
            })
    return info

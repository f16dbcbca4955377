"""Small media files made on the spot with PyAV and Pillow, and a probe to compare them."""

from __future__ import annotations

import signal
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


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, rows: bytes | None = None, depth: int = 8, color: int = 2) -> bytes:
    """A PNG file's bytes; ``rows`` (filter byte + pixels per row, uncompressed) may be short or absent."""
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    data = _png_chunk(b"IDAT", zlib.compress(rows)) if rows is not None else b""
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + data + _png_chunk(b"IEND", b"")


def make_png16(path: Path, size: tuple[int, int] = (40, 32), alpha: bool = False) -> Path:
    """A 16-bit-per-channel RGB (or RGBA) PNG, which Pillow cannot write itself."""
    width, height = size
    rgb = moving_frame(2, width, height).astype(">u2") * 257
    pixels = np.concatenate([rgb, np.full((height, width, 1), 40000, ">u2")], axis=-1) if alpha else rgb
    rows = b"".join(b"\0" + row.tobytes() for row in pixels)
    path.write_bytes(png_bytes(width, height, rows, depth=16, color=6 if alpha else 2))
    return path


def make_animated_gif(path: Path, frames: int = 3, size: tuple[int, int] = (40, 32)) -> Path:
    """An animated GIF of ``frames`` frames, 100 ms each."""
    images = [Image.fromarray(moving_frame(i * 4, *size)) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)
    return path


def make_transparent_palette_png(path: Path, size: tuple[int, int] = (40, 32)) -> Path:
    """A palette ("P") PNG whose palette entry 0 is transparent (a tRNS chunk)."""
    image = Image.fromarray(moving_frame(1, *size)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    image.save(path, transparency=0)
    return path


def make_interlaced_video(path: Path, size: tuple[int, int] = (64, 48), frames: int = 4) -> Path:
    """H.264 coded as interlaced (top field first): each frame is flagged interlaced."""
    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=25, options={"preset": "ultrafast", "x264-params": "interlaced=1:tff=1"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(moving_frame(index, width, height), format="rgb24")
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


def make_still_video(path: Path, codec: str = "png", size: tuple[int, int] = (64, 48), alpha: bool = False) -> Path:
    """A single still picture in a video container (PNG in .mov, MJPEG in .avi...); ``alpha``: a PNG whose
    left half is transparent."""
    width, height = size
    pix_fmt = ("rgba" if alpha else "rgb24") if codec == "png" else "yuvj420p"
    pixels = moving_frame(0, width, height)
    if alpha:
        opacity = np.full((height, width, 1), 255, np.uint8)
        opacity[:, :width // 2] = 0
        pixels = np.concatenate([pixels, opacity], axis=-1)
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=1)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        frame = av.VideoFrame.from_ndarray(pixels, format="rgba" if alpha else "rgb24").reformat(format=pix_fmt)
        frame.pts = 0
        out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


def make_huge_video(path: Path, width: int, height: int, frames: int = 2) -> Path:
    """A .mov of 16-bit RGBA PNG frames whose container and frame headers claim ``width`` x ``height``
    (8 bytes a pixel once decoded), with hardly any data."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("png", rate=1)
        video.width, video.height, video.pix_fmt = width, height, "rgba64be"
        for index in range(frames):
            packet = av.Packet(png_bytes(width, height, b"\0" * 16, depth=16, color=6))
            packet.stream, packet.pts, packet.dts = video, index, index
            out.mux(packet)
    return path


def first_packet_offset(path: Path) -> int:
    """Byte offset in ``path`` of its first video packet (everything before it is header)."""
    with av.open(str(path)) as container:
        return next(p.pos for p in container.demux(container.streams.video[0]) if p.size)


def packet_spans(path: Path) -> list[tuple[int, int]]:
    """(offset, size) in ``path`` of each video packet, in file order."""
    with av.open(str(path)) as container:
        return [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size]


def media_folder(folder: Path, video_size: tuple[int, int], frames: int, photo_size: tuple[int, int],
                 style_size: tuple[int, int]) -> Path:
    """A folder with clip.mp4 (with AAC audio), photo.png and style.png."""
    make_video(folder / "clip.mp4", size=video_size, frames=frames, audio=("aac",))
    make_image(folder / "photo.png", size=photo_size)
    make_image(folder / "style.png", size=style_size)
    return folder


def interruptible() -> None:
    """``preexec_fn`` for a child that the test interrupts: Ctrl-C handling as in a terminal,
    also when the tests themselves run in the background (where SIGINT is inherited ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def damage_chunk_offsets(path: Path, first: int) -> Path:
    """Point the first track's MP4 chunk offsets (``stco``) from number ``first`` on past the end of the file."""
    data = bytearray(path.read_bytes())
    at = data.find(b"stco")
    count = struct.unpack(">I", data[at + 8:at + 12])[0]
    for index in range(first, count):
        data[at + 12 + 4 * index:at + 16 + 4 * index] = struct.pack(">I", 0xFFFFFF00)
    path.write_bytes(bytes(data))
    return path


def zero_video_packet(path: Path, index: int) -> Path:
    """Overwrite video packet number ``index`` of ``path`` with zeros."""
    offset, size = packet_spans(path)[index]
    data = bytearray(path.read_bytes())
    data[offset:offset + size] = bytes(size)
    path.write_bytes(bytes(data))
    return path


def make_retimed_video(path: Path, pts: list[int], rate: int = 25) -> Path:
    """An intra-coded .mkv whose frames carry the timestamps ``pts`` (in 1/rate), even out of order or repeated."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("mjpeg", rate=rate)
        video.width, video.height, video.pix_fmt = 64, 48, "yuvj420p"
        video.time_base = video.codec_context.time_base = Fraction(1, rate)
        for index, stamp in enumerate(pts):
            frame = av.VideoFrame.from_ndarray(moving_frame(index, 64, 48), format="rgb24").reformat(format="yuvj420p")
            frame.pts = index
            for packet in video.encode(frame):
                packet.pts = stamp
                packet.dts = min(pts[index:])  # never above the pts, never going back
                out.mux(packet)
        out.mux(video.encode(None))
    return path


def make_audio_with_cover(path: Path, seconds: float = 0.5) -> Path:
    """An MP3 with a cover picture (a PNG stream flagged as an attached picture)."""
    with av.open(str(path), "w") as out:
        sound = out.add_stream("libmp3lame", rate=AUDIO_RATE, layout="stereo")
        cover = out.add_stream("png")
        cover.width, cover.height, cover.pix_fmt = 32, 32, "rgb24"
        cover.disposition = av.stream.Disposition.attached_pic
        frame = av.VideoFrame.from_ndarray(moving_frame(0, 32, 32), format="rgb24")
        frame.pts = 0
        for packet in cover.encode(frame):
            out.mux(packet)
        out.mux(cover.encode(None))
        encode_tone(out, sound, seconds)
    return path

"""Report media: labelled side-by-side mosaics of clips, written as browser-playable MP4."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..video.encoder import add_video_stream

LABEL_HEIGHT = 16


def mosaic(tiles: list[tuple[str, np.ndarray]], columns: int) -> np.ndarray:
    """Clips of one size side by side, each under a black strip with its label.

    Args:
        tiles: ``(label, (T, H, W, 3) uint8 frames)``, filled in row by row.
        columns: tiles per row.

    Returns:
        ``(T, rows * (H + LABEL_HEIGHT), columns * W, 3)`` uint8.
    """
    count, height, width = tiles[0][1].shape[:3]
    rows = math.ceil(len(tiles) / columns)
    cell = height + LABEL_HEIGHT
    out = np.zeros((count, rows * cell, columns * width, 3), np.uint8)
    for index, (label, frames) in enumerate(tiles):
        top, left = (index // columns) * cell, (index % columns) * width
        strip = out[0, top:top + LABEL_HEIGHT, left:left + width]
        cv2.putText(strip, label, (3, LABEL_HEIGHT - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        out[1:, top:top + LABEL_HEIGHT, left:left + width] = strip
        out[:, top + LABEL_HEIGHT:top + cell, left:left + width] = frames
    return out


def write_mp4(path: Path, frames: np.ndarray, fps: float) -> None:
    """H.264 in 4:2:0 (odd sizes padded by one pixel) in MP4 with the index first, for browsers.

    Args:
        path: the ``.mp4`` file.
        frames: ``(T, H, W, 3)`` uint8 RGB.
        fps: frames per second.
    """
    height, width = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    with av.open(str(path), "w", container_options={"movflags": "+faststart"}) as container:
        stream, codec = add_video_stream(container, "h264", Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = codec.pixel_format("yuv420p", stream.width, stream.height)
        stream.codec_context.options = codec.options(None, "medium")
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())

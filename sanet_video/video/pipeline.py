"""The frame loop: decode, batch, stylize, encode, with the audio passed alongside.

Decoded frames are converted to RGB (and downscaled if asked) by one reused
swscale context straight into a preallocated uint8 batch buffer (pinned on CUDA);
each batch goes to the device in one transfer and comes back in one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np
import torch
from av.video.reformatter import VideoReformatter
from tqdm import tqdm

from .sink import VideoSink
from .source import VideoSource
from .stylizer import FrameStylizer


@dataclass(frozen=True)
class RunSummary:
    """What a run did: how many frames of which size in how many seconds (an image is one frame)."""

    frames: int
    seconds: float
    width: int
    height: int

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class FrameBatch:
    """Decoded frames waiting to be stylized together.

    Args:
        capacity: frames per batch.
        width: width the frames are converted to.
        height: height the frames are converted to.
        device: where the model runs.
    """

    def __init__(self, capacity: int, width: int, height: int, device: torch.device) -> None:
        self.pixels = torch.empty((capacity, height, width, 3), dtype=torch.uint8,
                                  pin_memory=device.type == "cuda")
        self.device = device
        self.size = (width, height)
        self.timing: list[tuple[int, int]] = []
        self._reformatter = VideoReformatter()
        self._next_pts = 0

    def add(self, frame: av.VideoFrame) -> None:
        """Convert ``frame`` to RGB in the next free slot and remember its timing."""
        width, height = self.size
        scale = "AREA" if (frame.width, frame.height) != self.size else None
        rgb = self._reformatter.reformat(frame, width, height, "rgb24", interpolation=scale)
        self.pixels[len(self.timing)].copy_(torch.from_numpy(rgb.to_ndarray()))
        duration = frame.duration or 0
        # Raw streams (e.g. .h264) carry no timestamps: count on from the previous frame.
        pts = frame.pts if frame.pts is not None else self._next_pts
        self._next_pts = pts + max(duration, 1)
        self.timing.append((pts, duration))

    @property
    def full(self) -> bool:
        return len(self.timing) == len(self.pixels)

    def host_pixels(self) -> np.ndarray:
        """The batch as (N, H, W, 3) uint8 on the host: a view of a reused buffer, valid until the next :meth:`add`."""
        return self.pixels[:len(self.timing)].numpy()

    def frames(self) -> torch.Tensor:
        """The batch as (N, 3, H, W) float in [0, 1] on the device, in one transfer."""
        pixels = self.pixels[:len(self.timing)].to(self.device, non_blocking=True)
        return pixels.permute(0, 3, 1, 2).float().div_(255.0)

    def clear(self) -> None:
        self.timing = []


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) float in [0, 1] to (N, H, W, 3) uint8 on the CPU, in one transfer."""
    return images.mul(255.0).round_().to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu()


def run(source: VideoSource, sink: VideoSink, stylizer: FrameStylizer, batch: FrameBatch,
        progress: bool = True, on_frames: Callable[[int], None] | None = None) -> RunSummary:
    """Stylize every frame of ``source`` into ``sink``, audio alongside; the sink is left open.

    ``on_frames``, if given, is called with the number of frames of each batch once it is written.

    Returns:
        The number of frames and the seconds it took.
    """
    began = time.perf_counter()
    count = 0
    bar = tqdm(total=source.estimated_frames(), unit="frame", disable=not progress, dynamic_ncols=True,
               desc=source.path.name)

    def flush() -> None:
        nonlocal count
        stylized = to_pixels(stylizer(batch.host_pixels(), batch.frames()))
        sink.write_frames(stylized.numpy(), batch.timing)
        count += len(batch.timing)
        bar.update(len(batch.timing))
        if on_frames is not None:
            on_frames(len(batch.timing))
        batch.clear()

    with bar, torch.inference_mode():
        for item in source:
            if isinstance(item, av.VideoFrame):
                batch.add(item)
                if batch.full:
                    flush()
            else:
                sink.write_audio(item)
        if batch.timing:
            flush()
    width, height = batch.size
    return RunSummary(count, time.perf_counter() - began, width, height)

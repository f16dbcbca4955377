"""The frame loop: decode, batch, stylize, encode, with the audio passed alongside.

Four stages overlap, joined by bounded queues (:mod:`sanet_video.video._stages`):
a decoder thread converts frames (one reused swscale context, downscaling if asked)
into recycled uint8 batch buffers, pinned on CUDA; a flow thread computes each batch's
optical flow on the host (:meth:`FrameStylizer.estimate`); the calling thread stylizes
each batch (one transfer to the device, one back into a recycled host buffer); an
encoder thread writes the frames and the audio in input order. Decoding, flow and
encoding run while the device works; an error in any stage stops them all and surfaces
in the caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass

import av
import numpy as np
import torch
from av.video.reformatter import VideoReformatter
from tqdm import tqdm

from ._stages import Pool, Stages, prefetch
from .sink import VideoSink
from .source import VideoSource
from .stylizer import FrameStylizer

INPUT_BUFFERS = 4  # batches being decoded, flowed and stylized, and one waiting
OUTPUT_BUFFERS = 3  # batches being written, waiting and being filled


@dataclass(frozen=True)
class RunSummary:
    """What a run did: how many frames of which size in how many seconds (an image is one frame),
    and what the user should know of the result (``warnings``, one line each)."""

    frames: int
    seconds: float
    width: int
    height: int
    warnings: tuple[str, ...] = ()

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

    def spare(self) -> "FrameBatch":
        """Another empty batch of the same shape (sharing the converter: fill both from one thread)."""
        other = FrameBatch(len(self.pixels), *self.size, self.device)
        other._reformatter = self._reformatter
        return other

    def add(self, frame: av.VideoFrame, next_pts: int = 0) -> int:
        """Convert ``frame`` to RGB in the next free slot and remember its timing.

        Raw streams (e.g. .h264) carry no timestamps: a frame without one gets
        ``next_pts``, counted on from the previous frame. Returns the pts after this frame.
        """
        width, height = self.size
        scale = "AREA" if (frame.width, frame.height) != self.size else None
        rgb = self._reformatter.reformat(frame, width, height, "rgb24", interpolation=scale)
        self.pixels[len(self.timing)].copy_(torch.from_numpy(rgb.to_ndarray()))
        duration = frame.duration or 0
        pts = frame.pts if frame.pts is not None else next_pts
        self.timing.append((pts, duration))
        return pts + max(duration, 1)

    @property
    def full(self) -> bool:
        return len(self.timing) == len(self.pixels)

    def host_pixels(self, full: bool = False) -> np.ndarray:
        """The batch as (N, H, W, 3) uint8 on the host: a view of a reused buffer, valid until the next :meth:`add`.

        ``full``: all slots, those past the last frame filled with copies of it.
        """
        count = len(self.timing)
        if full:
            self.pixels[count:] = self.pixels[count - 1]
            count = len(self.pixels)
        return self.pixels[:count].numpy()

    def frames(self, full: bool = False) -> torch.Tensor:
        """The batch as (N, 3, H, W) float in [0, 1] on the device, in one transfer (``full``: all slots)."""
        pixels = self.pixels[:len(self.pixels) if full else len(self.timing)].to(self.device, non_blocking=True)
        # Plain NCHW: in eager mode channels-last makes every reflection pad a layout copy.
        return pixels.permute(0, 3, 1, 2).contiguous().float().div_(255.0)

    def clear(self) -> None:
        self.timing = []


def to_pixels(images: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """(N, 3, H, W) float in [0, 1] to (N, H, W, 3) uint8 on the CPU, in one transfer.

    ``out``, if given, is a host buffer of at least N frames that receives them.
    """
    pixels = images.mul(255.0).round_().to(torch.uint8).permute(0, 2, 3, 1)
    if out is None:
        return pixels.contiguous().cpu()
    return out[:len(pixels)].copy_(pixels)


def _batches(source: VideoSource, batches: Pool) -> Iterator[FrameBatch | av.Packet]:
    """The source's frames in filled batches (taken from ``batches``), its audio packets as they come."""
    batch = batches.take()
    next_pts = 0
    for item in source:
        if isinstance(item, av.VideoFrame):
            next_pts = batch.add(item, next_pts)
            if batch.full:
                yield batch
                batch = batches.take()
        else:
            yield item
    if batch.timing:
        yield batch


def _with_flow(items: Generator[FrameBatch | av.Packet, None, None], stylizer: FrameStylizer,
               full: bool) -> Iterator[tuple[FrameBatch, list] | av.Packet]:
    """Each batch with the stylizer's host-side work (optical flow) done for it, in order."""
    with closing(items):
        for item in items:
            yield (item, stylizer.estimate(item.host_pixels(full))) if isinstance(item, FrameBatch) else item


def run(source: VideoSource, sink: VideoSink, stylizer: FrameStylizer, batch: FrameBatch,
        progress: bool = True, on_frames: Callable[[int], None] | None = None) -> RunSummary:
    """Stylize every frame of ``source`` into ``sink``, audio alongside; the sink is left open.

    ``on_frames``, if given, is called with the number of frames of each batch once it is written.

    Returns:
        The number of frames and the seconds it took.
    """
    began = time.perf_counter()
    pinned = batch.device.type == "cuda"
    cancel = threading.Event()
    outputs = Pool((torch.empty_like(batch.pixels, pin_memory=pinned) for _ in range(OUTPUT_BUFFERS)), cancel)
    inputs = Pool([batch] + [batch.spare() for _ in range(INPUT_BUFFERS - 1)], cancel)
    written = 0
    bar = tqdm(total=source.estimated_frames(), unit="frame", disable=not progress, dynamic_ncols=True,
               desc=source.path.name)

    def encode(item: tuple[torch.Tensor, list[tuple[int, int]]] | av.Packet) -> None:
        nonlocal written
        if isinstance(item, av.Packet):
            sink.write_audio(item)
            return
        pixels, timing = item
        sink.write_frames(pixels[:len(timing)].numpy(), timing)
        outputs.give(pixels)
        written += len(timing)
        bar.update(len(timing))
        if on_frames is not None:
            on_frames(len(timing))

    full = stylizer.options.full_batches

    def produce() -> Iterator[tuple[FrameBatch, list] | av.Packet]:
        return _with_flow(prefetch(_batches(source, inputs), cancel), stylizer, full)

    with bar, Stages(produce, encode, cancel) as stages:
        for item in stages:
            if isinstance(item, tuple):
                filled, estimated = item
                with torch.inference_mode():
                    out = stylizer(filled.host_pixels(full), filled.frames(full), estimated)[:len(filled.timing)]
                    stylized = to_pixels(out, outputs.take())
                item = (stylized, filled.timing)
                filled.clear()
                inputs.give(filled)
            stages.send(item)
    width, height = batch.size
    return RunSummary(written, time.perf_counter() - began, width, height)

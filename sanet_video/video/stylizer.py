"""The per-stream stylizer: frames in, stylized frames out, in order.

:class:`FrameStylizer` holds what does not change over a stream (the model, the
encoded styles and the run-time controls) and the state that carries from one frame
to the next: the temporal smoothing of :class:`sanet_video.temporal.TemporalStylizer`
(attention smoothed spatially and warped from the previous frame by optical flow),
which sees every input frame in order, both as uint8 pixels on the host (for optical
flow) and as a float tensor on the device; :meth:`FrameStylizer.reset` clears it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..color import preserve_color
from ..net import SANet, StyleCode
from ..temporal import FlowPair, TemporalConfig, TemporalStylizer


@dataclass(frozen=True)
class StylizerOptions:
    """Run-time controls of :class:`FrameStylizer`.

    Attributes:
        style_weights: mixing weight of each style (normalised by the model).
        alpha: style strength in [0, 1].
        preserve_color: keep the content's colours (luminance-only transfer).
        autocast: dtype to run the network in under ``torch.autocast``; None for fp32.
        temporal: temporal smoothing; ``TemporalConfig(temporal="off")`` stylizes frame by frame.
        full_batches: the frame loop fills a video's last, partial batch up with copies of
            its last frame, so that a compiled model sees a single batch shape.
    """

    style_weights: tuple[float, ...]
    alpha: float = 1.0
    preserve_color: bool = False
    autocast: torch.dtype | None = None
    temporal: TemporalConfig = field(default_factory=lambda: TemporalConfig(temporal="off"))
    full_batches: bool = False


class FrameStylizer:
    """Stylizes the frames of one stream, batch by batch, in display order.

    Args:
        model: SANet in eval mode, on the device the frames will be on.
        styles: the encoded styles, computed once per run.
        options: strength, mixing weights, colour preservation and precision.
        masks: spatial control: given a number of frames, the masks of the stream's next
            frames (see :meth:`SANet.stylize`); None for none.
    """

    def __init__(self, model: SANet, styles: Sequence[StyleCode], options: StylizerOptions,
                 masks: Callable[[int], Tensor] | None = None) -> None:
        if len(styles) != len(options.style_weights):
            raise ValueError(f"{len(styles)} styles but {len(options.style_weights)} weights")
        self.options = options
        self.masks = masks
        self.temporal = TemporalStylizer(model, list(styles), options.temporal, list(options.style_weights),
                                         options.alpha)

    def estimate(self, pixels: np.ndarray) -> list[FlowPair | None]:
        """The host-only part (optical flow) for the next frames, in stream order; may run in
        another thread ahead of :meth:`__call__`, which then gets its result."""
        return self.temporal.estimate(pixels)

    def __call__(self, pixels: np.ndarray, frames: Tensor, estimated: list[FlowPair | None] | None = None) -> Tensor:
        """Stylize the next frames of the stream.

        Args:
            pixels: (N, H, W, 3) uint8 RGB on the host; a view of a buffer that the next
                batch overwrites, so copy what is kept beyond this call.
            frames: the same frames as (N, 3, H, W) float in [0, 1] on the model's device.
            estimated: :meth:`estimate` of these frames, if it ran already.

        Returns:
            (N, 3, H, W) float32 in [0, 1] on the device.
        """
        dtype = self.options.autocast
        with torch.autocast(frames.device.type, dtype=dtype, enabled=dtype is not None):
            out = self.stylize(pixels, frames, estimated).float()
        if self.options.preserve_color:
            out = preserve_color(out, frames)
        return out

    def stylize(self, pixels: np.ndarray, frames: Tensor, estimated: list[FlowPair | None] | None = None) -> Tensor:
        """The network's output for the next frames, smoothed over time as configured."""
        masks = None if self.masks is None else self.masks(len(frames))
        return self.temporal(pixels, frames, estimated, masks)

    def reset(self) -> None:
        """Forget the state carried from earlier frames (before a new stream)."""
        self.temporal.reset()

"""The per-stream stylizer: frames in, stylized frames out, in order.

:class:`FrameStylizer` holds what does not change over a stream (the model, the
encoded styles and the run-time controls) and is the place for state that carries
from one frame to the next. It has none yet: temporal smoothing (attention maps
smoothed spatially and warped from the previous frame by optical flow, e.g. ``sanet_video.temporal.TemporalStylizer``)
goes into :meth:`FrameStylizer.stylize`: it sees every input frame in order, both as
uint8 pixels on the host (for optical flow) and as a float tensor on the device, and
keeps its state on the instance, cleared by :meth:`FrameStylizer.reset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..color import preserve_color
from ..net import SANet, StyleCode


@dataclass(frozen=True)
class StylizerOptions:
    """Run-time controls of :class:`FrameStylizer`.

    Attributes:
        style_weights: mixing weight of each style (normalised by the model).
        alpha: style strength in [0, 1].
        preserve_color: keep the content's colours (luminance-only transfer).
        autocast: dtype to run the network in under ``torch.autocast``; None for fp32.
    """

    style_weights: tuple[float, ...]
    alpha: float = 1.0
    preserve_color: bool = False
    autocast: torch.dtype | None = None


class FrameStylizer:
    """Stylizes the frames of one stream, batch by batch, in display order.

    Args:
        model: SANet in eval mode, on the device the frames will be on.
        styles: the encoded styles, computed once per run.
        options: strength, mixing weights, colour preservation and precision.
    """

    def __init__(self, model: SANet, styles: Sequence[StyleCode], options: StylizerOptions) -> None:
        if len(styles) != len(options.style_weights):
            raise ValueError(f"{len(styles)} styles but {len(options.style_weights)} weights")
        self.model = model
        self.styles = list(styles)
        self.options = options

    def __call__(self, pixels: np.ndarray, frames: Tensor) -> Tensor:
        """Stylize the next frames of the stream.

        Args:
            pixels: (N, H, W, 3) uint8 RGB on the host; a view of a buffer that the next
                batch overwrites, so copy what is kept beyond this call.
            frames: the same frames as (N, 3, H, W) float in [0, 1] on the model's device.

        Returns:
            (N, 3, H, W) float32 in [0, 1] on the device.
        """
        dtype = self.options.autocast
        with torch.autocast(frames.device.type, dtype=dtype, enabled=dtype is not None):
            out = self.stylize(pixels, frames).float()
        if self.options.preserve_color:
            out = preserve_color(out, frames)
        return out

    def stylize(self, pixels: np.ndarray, frames: Tensor) -> Tensor:
        """The network's output for the next frames: the hook for per-stream (temporal) state.

        Frame by frame, it ignores ``pixels``; a temporal variant computes optical flow on them.
        """
        return self.model.stylize(frames, self.styles, self.options.style_weights, self.options.alpha)

    def reset(self) -> None:
        """Forget the state carried from earlier frames: call at a scene cut or before a new stream.

        The frame-by-frame stylizer carries none; temporal variants clear theirs here.
        """

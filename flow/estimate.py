"""Dense optical flow from OpenCV estimators (DIS, Farneback) behind one interface.

Convention: ``estimator(source, target)`` returns the flow ``w`` on the pixel grid of
``source`` such that ``source(x) ~ target(x + w(x))``; so ``warp(target, w)`` aligns
``target`` to ``source``. The *backward flow* of frame t is ``estimator(frame_t,
frame_{t-1})`` (:meth:`FlowEstimator.backward`): ``x + w(x)`` is where pixel ``x`` of frame
t was in frame t-1, and ``warp(frame_{t-1}, w)`` aligns the previous frame to the current
one.

Flows are float32 tensors ``(2, h, w)`` or ``(N, 2, h, w)``: channel 0 is the horizontal
(x, column) component, channel 1 the vertical (y, row) one, in pixels of the grid the flow
lives on. The flow is computed on the input frames resized to that grid (``size`` or
``scale``), so it is already in the units of the reduced grid; :func:`flow.warp.resize_flow`
moves it to another grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import cv2
import numpy as np
import torch
from torch import Tensor

from flow._frames import Frames, frame_size, is_batch, to_gray_uint8

DIS_PRESETS: dict[str, int] = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
"""OpenCV's DIS presets (Kroeger et al., 2016)."""

FARNEBACK_PRESETS: dict[str, dict[str, float]] = {
    "fast": dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.1),
    "medium": dict(pyr_scale=0.5, levels=5, winsize=21, iterations=5, poly_n=7, poly_sigma=1.5),
}
"""Parameters of ``cv2.calcOpticalFlowFarneback``; poly_sigma as OpenCV recommends per poly_n."""

_PRESETS = {"dis": DIS_PRESETS, "farneback": FARNEBACK_PRESETS}
MIN_SIDE = 32
"""A reduced grid keeps at least this many cells on its longer side (``scale`` only)."""
DIS_MIN_SIDE = 12
"""OpenCV's DIS needs an image at least this large on one side; smaller pairs use Farneback."""


@dataclass(frozen=True)
class FlowEstimator:
    """A configured flow estimator, created once and reused for every frame pair.

    The DIS instance is built once here, so estimating a pair allocates only the resized
    luma images and the flow itself. Not thread-safe (the OpenCV object holds buffers).

    Attributes:
        method: ``"dis"`` or ``"farneback"``.
        preset: a key of :data:`DIS_PRESETS` or :data:`FARNEBACK_PRESETS` for ``method``.
        size: ``(h, w)`` grid the flow is computed on and returned at. Prefer it to
            ``scale`` to match a feature map exactly (e.g. VGG relu4_1: three floor-halvings).
        scale: alternatively, the grid is ``round(H * scale), round(W * scale)`` of the
            input. With neither, the flow is computed at the input resolution.
    """

    method: str = "dis"
    preset: str = "medium"
    size: Optional[tuple[int, int]] = None
    scale: Optional[float] = None
    _dis: Optional[cv2.DISOpticalFlow] = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.method not in _PRESETS:
            raise ValueError(f"unknown method {self.method!r}; expected one of {sorted(_PRESETS)}")
        if self.preset not in _PRESETS[self.method]:
            raise ValueError(f"unknown {self.method} preset {self.preset!r}; "
                             f"expected one of {sorted(_PRESETS[self.method])}")
        if self.size is not None and self.scale is not None:
            raise ValueError("give size or scale, not both")
        if self.scale is not None and self.scale <= 0:
            raise ValueError(f"scale must be positive, got {self.scale}")
        if self.method == "dis":
            object.__setattr__(self, "_dis", cv2.DISOpticalFlow_create(DIS_PRESETS[self.preset]))

    def __reduce__(self) -> tuple:
        # The OpenCV object does not pickle; a copy builds its own (e.g. in worker processes).
        return type(self), (self.method, self.preset, self.size, self.scale)

    def grid_size(self, height: int, width: int) -> tuple[int, int]:
        """``(h, w)`` of the flow computed for ``(height, width)`` input frames."""
        if self.size is not None:
            return tuple(self.size)
        if self.scale is not None:
            # Never below MIN_SIDE on the longer side (the frame's own size if smaller).
            scale = max(self.scale, min(1.0, MIN_SIDE / max(height, width)))
            return max(1, round(height * scale)), max(1, round(width * scale))
        return height, width

    def __call__(self, source: Frames, target: Frames) -> Tensor:
        """Flow from ``source`` to ``target``: ``source(x) ~ target(x + w(x))``.

        Args:
            source: frame or batch (see :mod:`flow`); the flow lives on its grid.
            target: frame or batch of the same shape.

        Returns:
            ``(2, h, w)`` or ``(N, 2, h, w)`` float32 flow in pixels of the ``(h, w)`` grid,
            on the device of a tensor ``source`` (CPU otherwise).
        """
        sources, targets = self._prepare_pair(source, target)
        return _stack([self._pair(a, b) for a, b in zip(sources, targets)], source)

    def backward(self, previous: Frames, current: Frames) -> Tensor:
        """Backward flow of ``current``: from ``current`` to ``previous``."""
        return self(current, previous)

    def bidirectional(self, previous: Frames, current: Frames) -> tuple[Tensor, Tensor]:
        """Backward flow (current -> previous) and forward flow (previous -> current).

        Each frame is converted and resized once; the pair feeds
        :func:`flow.occlusion.validity_mask`.
        """
        prev_gray, cur_gray = self._prepare_pair(previous, current)
        backward = [self._pair(c, p) for p, c in zip(prev_gray, cur_gray)]
        forward = [self._pair(p, c) for p, c in zip(prev_gray, cur_gray)]
        return _stack(backward, current), _stack(forward, previous)

    def gray(self, frames: Frames) -> Tensor:
        """The frames as the estimator sees them: luma on its grid, ``(N, 1, h, w)`` floats in [0, 1]."""
        return torch.from_numpy(np.stack(self._prepare(frames))).unsqueeze(1).float().div_(255.0)

    def _prepare_pair(self, first: Frames, second: Frames) -> tuple[list[np.ndarray], list[np.ndarray]]:
        if first.shape != second.shape:
            raise ValueError(f"frames differ in shape: {tuple(first.shape)} vs {tuple(second.shape)}")
        return self._prepare(first), self._prepare(second)

    def _prepare(self, frames: Frames) -> list[np.ndarray]:
        height, width = self.grid_size(*frame_size(frames))
        return [gray if gray.shape == (height, width)
                else cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)
                for gray in to_gray_uint8(frames)]

    def _pair(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        if self._dis is not None and max(source.shape) >= DIS_MIN_SIDE:
            return self._dis.calc(source, target, None)
        preset = self.preset if self._dis is None else "fast"  # DIS cannot do images this small
        return cv2.calcOpticalFlowFarneback(source, target, None, flags=0, **FARNEBACK_PRESETS[preset])


def _stack(flows: list[np.ndarray], like: Frames) -> Tensor:
    """``(h, w, 2)`` OpenCV flows to a ``(N, 2, h, w)`` tensor, unbatched if ``like`` is."""
    flow = torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).contiguous()
    if isinstance(like, Tensor):
        flow = flow.to(like.device)
    return flow if is_batch(like) else flow[0]


def estimate_flow(source: Frames, target: Frames, method: str = "dis", preset: str = "medium",
                  size: Optional[tuple[int, int]] = None, scale: Optional[float] = None) -> Tensor:
    """One-off flow from ``source`` to ``target`` (see :class:`FlowEstimator`).

    Builds an estimator per call: for a video, create one :class:`FlowEstimator` and reuse it.
    """
    return FlowEstimator(method, preset, size, scale)(source, target)

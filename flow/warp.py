"""Backward warping of tensors by a flow, and resizing of flows between grids.

Pixel-centre convention: pixel ``(i, j)`` (row, column) sits at ``(x, y) = (j, i)`` and
covers ``[x - 0.5, x + 0.5] x [y - 0.5, y + 0.5]``; a frame of width ``W`` spans
``[-0.5, W - 0.5]``. ``grid_sample`` and ``interpolate`` are used with
``align_corners=False``, which is that convention, and so is ``cv2.resize``.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor


@functools.lru_cache(maxsize=8)
def pixel_coordinates(height: int, width: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """``(1, 2, H, W)`` coordinates ``(x, y)`` of the pixel centres (cached; do not modify)."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                            torch.arange(width, device=device, dtype=dtype), indexing="ij")
    return torch.stack([xs, ys]).unsqueeze(0)


def sample_positions(flow: Tensor) -> Tensor:
    """``x + w(x)`` for every pixel ``x``: ``(N, 2, H, W)`` positions ``(x, y)`` in pixels."""
    return pixel_coordinates(*flow.shape[-2:], flow.device, flow.dtype) + flow


def sample(image: Tensor, positions: Tensor, padding_mode: str = "border", mode: str = "bilinear") -> Tensor:
    """Bilinear samples of ``image`` at pixel positions.

    Args:
        image: ``(N, C, H, W)`` floating-point tensor.
        positions: ``(N, 2, h, w)`` positions ``(x, y)`` in pixels of ``image``; the output
            has this grid.
        padding_mode: ``grid_sample`` padding: ``"border"`` repeats the edge pixels,
            ``"zeros"`` reads 0, ``"reflection"`` mirrors about the frame edges.
        mode: ``"bilinear"``, or ``"bicubic"`` (sharper: repeated warps blur less; may
            overshoot slightly at edges), or ``"nearest"``.

    Returns:
        ``(N, C, h, w)`` samples.
    """
    height, width = image.shape[-2:]
    scale = positions.new_tensor([2.0 / width, 2.0 / height]).view(1, 2, 1, 1)
    grid = ((positions + 0.5) * scale - 1.0).permute(0, 2, 3, 1)
    return F.grid_sample(image, grid.to(image.dtype), mode=mode,
                         padding_mode=padding_mode, align_corners=False)


def resize_flow(flow: Tensor, size: tuple[int, int]) -> Tensor:
    """Flow resampled to another ``(h, w)`` grid, vectors rescaled to its pixel units.

    The x component is multiplied by ``w / W`` and the y component by ``h / H``. Bilinear,
    antialiased when shrinking. Returns ``flow`` itself when it already has that size.

    Args:
        flow: ``(2, H, W)`` or ``(N, 2, H, W)`` flow in pixels.
        size: target ``(h, w)``.
    """
    height, width = flow.shape[-2:]
    if (height, width) == tuple(size):
        return flow
    batch = flow if flow.ndim == 4 else flow.unsqueeze(0)
    resized = F.interpolate(batch, size=tuple(size), mode="bilinear", align_corners=False,
                            antialias=True)
    resized = resized * resized.new_tensor([size[1] / width, size[0] / height]).view(1, 2, 1, 1)
    return resized if flow.ndim == 4 else resized[0]


def warp(image: Tensor, flow: Tensor, padding_mode: str = "border", mode: str = "bilinear") -> Tensor:
    """Backward warp: ``out(x) = image(x + flow(x))``, bilinear (or ``mode``, see :func:`sample`).

    With the backward flow of frame t (frame t -> t-1), ``warp(frame_{t-1}, flow)`` is
    frame t-1 aligned to frame t. Where ``x + flow(x)`` leaves the frame the result follows
    ``padding_mode`` (edge pixels by default); mask those pixels with
    :func:`flow.occlusion.in_frame_mask`.

    Args:
        image: ``(N, C, H, W)`` or ``(C, H, W)`` floating-point tensor.
        flow: ``(N, 2, h, w)`` or ``(2, h, w)`` flow in pixels of its own grid; resized to
            ``(H, W)`` with :func:`resize_flow` when ``(h, w)`` differs.
        padding_mode, mode: see :func:`sample`.

    Returns:
        The warped tensor, shaped like ``image``.
    """
    batch = image if image.ndim == 4 else image.unsqueeze(0)
    flow = resize_flow(flow if flow.ndim == 4 else flow.unsqueeze(0), batch.shape[-2:])
    warped = sample(batch, sample_positions(flow.to(batch)), padding_mode, mode)
    return warped if image.ndim == 4 else warped[0]

"""Conversions of RGB frames between the layouts accepted by the ``flow`` package.

A frame is RGB, either a NumPy array channels-last ``(H, W, 3)`` or a torch tensor
channels-first ``(3, H, W)``; a batch adds a leading ``N``. uint8 frames are in [0, 255],
floating-point frames in [0, 1].
"""

from __future__ import annotations

from typing import Union

import cv2
import numpy as np
import torch
from torch import Tensor

Frames = Union[np.ndarray, Tensor]

_GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601, as cv2.COLOR_RGB2GRAY


def is_batch(frames: Frames) -> bool:
    """Whether ``frames`` holds a batch (4 dims) rather than one frame (3 dims)."""
    if frames.ndim not in (3, 4):
        raise ValueError(f"expected a frame (3 dims) or a batch (4 dims), got shape {tuple(frames.shape)}")
    return frames.ndim == 4


def frame_size(frames: Frames) -> tuple[int, int]:
    """``(H, W)`` of a frame or batch in either layout."""
    if isinstance(frames, np.ndarray):
        return frames.shape[-3], frames.shape[-2]
    return frames.shape[-2], frames.shape[-1]


def to_tensor(frames: Frames) -> Tensor:
    """Frames as a float32 ``(N, 3, H, W)`` tensor in [0, 1], on the device of a tensor input."""
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).movedim(-1, -3) \
        if isinstance(frames, np.ndarray) else frames
    if not is_batch(tensor):
        tensor = tensor.unsqueeze(0)
    if tensor.shape[1] != 3:
        raise ValueError(f"expected RGB frames, got shape {tuple(frames.shape)}")
    if tensor.dtype == torch.uint8:
        return tensor.float().div_(255.0)
    return tensor.float()


def to_gray_uint8(frames: Frames) -> list[np.ndarray]:
    """Frames as a list of ``(H, W)`` uint8 luma images (one per frame), on the CPU."""
    if isinstance(frames, np.ndarray) and frames.dtype == np.uint8:
        batch = frames if is_batch(frames) else frames[None]
        if batch.shape[-1] != 3:
            raise ValueError(f"expected RGB frames, got shape {frames.shape}")
        return [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in batch]
    tensor = to_tensor(frames)
    weights = tensor.new_tensor(_GRAY_WEIGHTS).view(1, 3, 1, 1)
    gray = (tensor * weights).sum(1).mul_(255.0).round_().clamp_(0.0, 255.0)
    return list(gray.to(torch.uint8).cpu().numpy())


def to_rgb_uint8(frame: Frames) -> np.ndarray:
    """One frame as an ``(H, W, 3)`` uint8 array, on the CPU."""
    if is_batch(frame):
        raise ValueError(f"expected one frame, got a batch of shape {tuple(frame.shape)}")
    if isinstance(frame, np.ndarray) and frame.dtype == np.uint8:
        return frame
    tensor = to_tensor(frame)[0].mul(255.0).round_().clamp_(0.0, 255.0)
    return tensor.to(torch.uint8).permute(1, 2, 0).cpu().numpy()

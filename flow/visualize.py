"""Flow fields as colour images for reports: hue = direction, saturation = magnitude.

Zero motion is white; a vector of ``max_magnitude`` or more is fully saturated. Hue follows
the angle of ``(x, y)`` in image coordinates (y down): red = right (+x), then clockwise
on screen through yellow-green (down), cyan (left) and blue-magenta (up).
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
import torch
from torch import Tensor


def flow_to_rgb(flow: Tensor, max_magnitude: Optional[float] = None) -> np.ndarray:
    """Colour-code a flow.

    Args:
        flow: ``(2, H, W)`` or ``(N, 2, H, W)`` flow in pixels.
        max_magnitude: magnitude shown fully saturated; ``None`` uses the largest in
            ``flow`` (over the whole batch, so frames of a clip are comparable).

    Returns:
        ``(H, W, 3)`` or ``(N, H, W, 3)`` uint8 RGB.
    """
    vectors = flow.detach().float().cpu().movedim(-3, -1).numpy()
    u, v = np.ascontiguousarray(vectors[..., 0]), np.ascontiguousarray(vectors[..., 1])
    magnitude, angle = cv2.cartToPolar(u.reshape(-1, u.shape[-1]), v.reshape(-1, v.shape[-1]),
                                       angleInDegrees=True)
    if max_magnitude is None:
        max_magnitude = float(magnitude.max())
    saturation = np.clip(magnitude / max(max_magnitude, 1e-12), 0.0, 1.0) * 255.0
    hsv = np.stack([angle / 2.0, saturation, np.full_like(angle, 255.0)], axis=-1)
    rgb = cv2.cvtColor(np.round(hsv).astype(np.uint8), cv2.COLOR_HSV2RGB)
    return rgb.reshape(*u.shape, 3)


def flow_wheel(size: int = 128) -> np.ndarray:
    """Legend of :func:`flow_to_rgb`: a disc whose rim is ``max_magnitude`` in each direction.

    Returns:
        ``(size, size, 3)`` uint8 RGB, white outside the disc.
    """
    radius = (size - 1) / 2.0
    ys, xs = torch.meshgrid(torch.arange(size) - radius, torch.arange(size) - radius, indexing="ij")
    vectors = torch.stack([xs, ys])
    vectors = vectors * (vectors.norm(dim=0) <= radius)
    return flow_to_rgb(vectors, max_magnitude=radius)

"""Colour preservation by luminance-only transfer (Gatys et al., 2016, "Preserving Color in
Neural Artistic Style Transfer", https://arxiv.org/abs/1606.05897).

The stylized image gives the luminance Y, the content image gives the chrominance
(Cb, Cr) of the result (ITU-R BT.601 YCbCr): strokes and textures of the style, colours
of the content.
"""

from __future__ import annotations

import torch
from torch import Tensor

_RGB_TO_YCBCR = torch.tensor([[0.299, 0.587, 0.114],
                              [-0.168736, -0.331264, 0.5],
                              [0.5, -0.418688, -0.081312]])


def rgb_to_ycbcr(image: Tensor) -> Tensor:
    """(N, 3, H, W) RGB in [0, 1] to YCbCr with Cb, Cr centred on 0."""
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YCBCR.to(image), image)


def ycbcr_to_rgb(image: Tensor) -> Tensor:
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB_TO_YCBCR).to(image), image)


def preserve_color(stylized: Tensor, content: Tensor) -> Tensor:
    """Y of ``stylized`` with Cb, Cr of ``content``, clamped to [0, 1]."""
    y = rgb_to_ycbcr(stylized)[:, :1]
    cbcr = rgb_to_ycbcr(content)[:, 1:]
    return ycbcr_to_rgb(torch.cat([y, cbcr], dim=1)).clamp(0.0, 1.0)

"""Validity masks for backward flows: forward-backward consistency and frame bounds.

Rule of Ruder et al. (2016, "Artistic style transfer for videos") as used by Lai et al.
(2018, "Learning Blind Video Temporal Consistency"): with the backward flow ``w``
(t -> t-1) and the forward flow ``w_hat`` (t-1 -> t) warped to frame t,
``w_tilde(x) = w_hat(x + w(x))``, pixel ``x`` is occluded where

    |w + w_tilde|^2 > alpha * (|w|^2 + |w_tilde|^2) + beta,   alpha = 0.01, beta = 0.5 px^2,

and also where ``x + w(x)`` leaves the frame. Masks are float ``(N, 1, H, W)``, 1 = valid
(visible in both frames, flow trusted), 0 = occluded or out of frame. ``beta`` is in
squared pixels of the flow's grid.
"""

from __future__ import annotations

from torch import Tensor

from flow.warp import sample_positions, warp


def in_frame_mask(flow: Tensor) -> Tensor:
    """1 where ``x + flow(x)`` lies within the pixel centres ``[0, W-1] x [0, H-1]``.

    That is where bilinear sampling needs no padding.

    Args:
        flow: ``(N, 2, H, W)`` flow in pixels.

    Returns:
        ``(N, 1, H, W)`` float mask.
    """
    height, width = flow.shape[-2:]
    positions = sample_positions(flow)
    x, y = positions[:, :1], positions[:, 1:]
    eps = 1e-3  # tolerance for positions computed in floating point on the edge
    inside = (x >= -eps) & (x <= width - 1 + eps) & (y >= -eps) & (y <= height - 1 + eps)
    return inside.to(flow.dtype)


def validity_mask(backward: Tensor, forward: Tensor, alpha: float = 0.01, beta: float = 0.5) -> Tensor:
    """Forward-backward consistency mask of a backward flow, with frame bounds.

    Args:
        backward: ``(N, 2, H, W)`` flow of frame t towards frame t-1 (on frame t's grid).
        forward: ``(N, 2, H, W)`` flow of frame t-1 towards frame t (on frame t-1's grid).
        alpha: relative tolerance of the consistency test.
        beta: absolute tolerance, squared pixels.

    Returns:
        ``(N, 1, H, W)`` float mask, 1 = valid.
    """
    if backward.shape != forward.shape:
        raise ValueError(f"flows differ in shape: {tuple(backward.shape)} vs {tuple(forward.shape)}")
    forward_warped = warp(forward, backward)
    mismatch = (backward + forward_warped).square().sum(1, keepdim=True)
    bound = alpha * (backward.square().sum(1, keepdim=True)
                     + forward_warped.square().sum(1, keepdim=True)) + beta
    return (mismatch <= bound).to(backward.dtype) * in_frame_mask(backward)


def photometric_mask(previous: Tensor, current: Tensor, backward: Tensor, threshold: float) -> Tensor:
    """Soft mask of where the previous frame, warped by the backward flow, matches the current one.

    Catches what the forward-backward check misses where both flows are smooth across a
    motion boundary (a band behind a moving object, uncovered background): there the warp
    brings the wrong content, and the colours say so. With ``e`` the mean absolute
    difference over channels, the mask is 1 for ``e <= threshold / 2``, 0 for
    ``e >= threshold``, linear between.

    Args:
        previous, current: ``(N, C, H, W)`` frames in [0, 1] on the flow's grid.
        backward: ``(N, 2, H, W)`` backward flow of ``current``.
        threshold: difference (in [0, 1] units) at which the warp is distrusted.

    Returns:
        ``(N, 1, H, W)`` float mask.
    """
    error = (current - warp(previous, backward)).abs().mean(1, keepdim=True)
    return ((threshold - error) * (2.0 / threshold)).clamp(0.0, 1.0)

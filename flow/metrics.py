"""Warping error (Lai et al., 2018, "Learning Blind Video Temporal Consistency").

For consecutive outputs ``O_{t-1}, O_t`` in [0, 1], the backward flow ``w_t`` of frame t
and its validity mask ``M_t`` (1 = valid):

    E_warp(t) = sum_x M_t(x) ||O_t(x) - warp(O_{t-1}, w_t)(x)||^2 / sum_x M_t(x),

the squared norm taken over channels; the clip's error is the mean over its pairs. A pair
without valid pixels scores 0, as in the reference code. Following Lai et al., flows and
masks come from the *input* video, not from the outputs being scored.

Sequences: ``flows[i]`` and ``masks[i]`` belong to the pair ``(frames[i], frames[i+1])``,
i.e. they are the backward flow and mask of ``frames[i+1]``.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

from torch import Tensor

from flow._frames import Frames, to_tensor
from flow.estimate import FlowEstimator
from flow.occlusion import in_frame_mask, validity_mask
from flow.warp import resize_flow, warp

FrameSequence = Union[Frames, Sequence[Frames]]


def pair_warping_error(current: Tensor, previous: Tensor, flow: Tensor,
                       mask: Optional[Tensor] = None) -> Tensor:
    """Warping error of each pair of a batch.

    Args:
        current: ``(N, C, H, W)`` frames t, values in [0, 1].
        previous: ``(N, C, H, W)`` frames t-1.
        flow: ``(N, 2, h, w)`` backward flows of frames t (resized to ``(H, W)`` if needed).
        mask: ``(N, 1, H, W)`` validity; ``None`` uses :func:`flow.occlusion.in_frame_mask`.

    Returns:
        ``(N,)`` errors.
    """
    flow = resize_flow(flow.to(current), current.shape[-2:])
    if mask is None:
        mask = in_frame_mask(flow)
    squared = (current - warp(previous, flow)).square().sum(1, keepdim=True)
    mask = mask.to(current)
    return (squared * mask).sum((1, 2, 3)) / mask.sum((1, 2, 3)).clamp_min(1.0)


def warping_error(frames: FrameSequence, flows: Union[Tensor, Sequence[Tensor]],
                  masks: Optional[Union[Tensor, Sequence[Tensor]]] = None) -> float:
    """Mean warping error of a clip.

    Args:
        frames: ``T`` frames (a batch or a sequence of frames, see :mod:`flow`).
        flows: ``T-1`` backward flows ``(2, h, w)``, ``flows[i]`` for ``frames[i+1]``.
        masks: ``T-1`` validity masks ``(1, H, W)``; ``None``: frame bounds only.

    Returns:
        Mean over the ``T-1`` pairs.
    """
    if len(flows) != len(frames) - 1 or (masks is not None and len(masks) != len(flows)):
        raise ValueError(f"{len(frames)} frames need {len(frames) - 1} flows and masks, got "
                         f"{len(flows)} and {None if masks is None else len(masks)}")
    total = 0.0
    previous = to_tensor(frames[0])
    for i in range(len(flows)):
        current = to_tensor(frames[i + 1])
        mask = None if masks is None else masks[i][None]
        total += float(pair_warping_error(current, previous, flows[i][None], mask))
        previous = current
    return total / len(flows)


def video_warping_error(outputs: FrameSequence, reference: Optional[FrameSequence] = None,
                        estimator: Optional[FlowEstimator] = None) -> float:
    """Warping error of ``outputs`` with flows and masks estimated on ``reference``.

    For each pair the backward and forward flows of ``reference`` are estimated, brought to
    the outputs' resolution, and checked for consistency (:func:`flow.occlusion.validity_mask`).

    Args:
        outputs: ``T`` frames to score.
        reference: ``T`` frames the flow is estimated on, normally the input video;
            ``None`` estimates it on ``outputs``.
        estimator: defaults to DIS "medium" at full resolution.

    Returns:
        Mean over the ``T-1`` pairs.
    """
    reference = outputs if reference is None else reference
    if len(reference) != len(outputs):
        raise ValueError(f"{len(outputs)} outputs but {len(reference)} reference frames")
    estimator = FlowEstimator() if estimator is None else estimator
    total = 0.0
    previous = to_tensor(outputs[0])
    for i in range(1, len(outputs)):
        current = to_tensor(outputs[i])
        size = current.shape[-2:]
        backward, forward = estimator.bidirectional(reference[i - 1][None], reference[i][None])
        backward, forward = resize_flow(backward, size), resize_flow(forward, size)
        total += float(pair_warping_error(current, previous, backward, validity_mask(backward, forward)))
        previous = current
    return total / (len(outputs) - 1)

"""Scores of one stylized clip: temporal consistency, style, content and speed.

- ``warp_exact``: warping error (Lai et al. 2018, :func:`flow.pair_warping_error`) with
  the exact backward flows and occlusion masks of a synthetic clip (absent for videos).
- ``warp_dis``, ``warp_farneback``: the same with flows estimated on the *input* frames
  at full resolution ("medium" presets) and forward-backward validity masks; pairs
  where that check keeps less than half the frame (a scene cut) are not scored.
- ``warp_indep``: the full-resolution estimate by the *other* method than the arm's own
  flow (Farneback for DIS arms and for arms without flow, whose ``flow`` is "dis"; DIS
  for Farneback arms), so that no arm is scored by the flow it was smoothed along.
- ``style_loss``: SANet's style loss (:func:`sanet_video.function.style_loss`, relu1_1
  .. relu5_1 channel means and stds) of each output frame against the style image.
- ``content_loss``: SANet's content loss (relu4_1, relu5_1) of each output frame against
  its input frame.
- ``runtime``: seconds per frame of the stylization, optical flow included.

Per-pair warping errors are kept as curves; a clip's value is their mean (a pair
without valid pixels, such as a scene cut under the exact flow, scores 0 as in
:func:`flow.warping_error`). Losses are means over frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from flow import FlowEstimator, pair_warping_error, validity_mask

from ..function import content_loss, style_loss
from ..net import SANet
from ..temporal import TemporalConfig

WARP_METRICS = ("warp_exact", "warp_indep", "warp_dis", "warp_farneback")
METRICS = (*WARP_METRICS, "style_loss", "content_loss", "runtime")
FLOW_METHODS = ("dis", "farneback")


@dataclass
class FlowPairs:
    """Backward flows ``(T-1, 2, H, W)`` of frames 1..T-1 and their validity masks ``(T-1, 1, H, W)``."""

    flows: Tensor
    masks: Tensor


CUT_VALID_FRACTION = 0.5
"""A pair whose estimated flow passes the forward-backward check on less of the frame is a cut."""


def estimated_pairs(frames: np.ndarray, method: str) -> FlowPairs:
    """Full-resolution flows of consecutive ``(T, H, W, 3)`` uint8 frames, forward-backward checked.

    Across a scene cut no flow links the frames, yet the check still keeps a good part
    of them (38% on the example clip's cut), and scoring those pixels would reward
    carrying the old shot over the cut. A pair where the check keeps less than
    :data:`CUT_VALID_FRACTION` of the pixels gets an empty mask: it scores 0, as the cut
    of a synthetic clip does under its exact flow.
    """
    backward, forward = FlowEstimator(method, "medium").bidirectional(frames[:-1], frames[1:])
    masks = validity_mask(backward, forward)
    linked = masks.mean((1, 2, 3), keepdim=True) >= CUT_VALID_FRACTION
    return FlowPairs(backward, masks * linked)


def independent_method(conf: TemporalConfig) -> str:
    """The estimator that scores an arm: the one it does not use itself."""
    return "dis" if conf.flow == "farneback" else "farneback"


def warping_curve(outputs: Tensor, pairs: FlowPairs) -> list[float]:
    """Warping error of each consecutive pair of ``(T, 3, H, W)`` outputs in [0, 1]."""
    return pair_warping_error(outputs[1:], outputs[:-1], pairs.flows, pairs.masks).tolist()


@torch.inference_mode()
def encode(model: SANet, images: Tensor, batch_size: int, first: int = 0) -> list[Tensor]:
    """VGG features relu1_1..relu5_1 (from index ``first``) of ``(T, 3, H, W)`` images, ``batch_size`` at a time."""
    batches = [model.encoder(images[i:i + batch_size])[first:] for i in range(0, len(images), batch_size)]
    return [torch.cat(level) for level in zip(*batches)]


@torch.inference_mode()
def feature_losses(model: SANet, outputs: Tensor, content_feats: list[Tensor], style_feats: list[Tensor],
                   batch_size: int) -> tuple[float, float]:
    """Mean style loss and mean content loss of each output frame.

    Args:
        model: its encoder gives the VGG features.
        outputs: ``(T, 3, H, W)`` in [0, 1] on the model's device.
        content_feats: relu4_1 and relu5_1 of the input frames (:func:`encode` with ``first=3``).
        style_feats: relu1_1..relu5_1 of the style image.
        batch_size: frames encoded together.
    """
    styles, contents = [], []
    for start in range(0, len(outputs), batch_size):
        feats = model.encoder(outputs[start:start + batch_size])
        for i in range(len(feats[0])):
            one = [f[i:i + 1] for f in feats]
            styles.append(float(style_loss(one, style_feats)))
            contents.append(float(content_loss(one[3:], [f[start + i:start + i + 1] for f in content_feats])))
    return float(np.mean(styles)), float(np.mean(contents))

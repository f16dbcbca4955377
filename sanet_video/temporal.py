"""Temporal smoothing of SANet's attention: spatially smoothed, flow-warped attention.

Per-frame SANet flickers because a small change of a content feature moves its
attention to other style positions. Two remedies act on the attention of each SA
module (relu4_1 and relu5_1):

- **spatial**: a Gaussian of width ``sigma`` (in feature cells of each level) over
  the content grid, so that neighbours attend alike;
- **flow**: the previous frame's (smoothed) attention, warped to the current frame by
  the backward optical flow of the input frames, is blended in where the
  forward-backward check says the warp is valid:
  ``x_t <- (1 - w m) x_t + w m warp(x_{t-1})``, recursively.

Both act on one of two targets. ``logits``: the logits ``F^T G`` are linear in the
query ``f(bar F_c)``, so smoothing or warping the logits over content positions is
smoothing or warping the query. ``probs``: the output ``sum_j P_ij h(F_s)_j`` is linear
in the probabilities ``P``, so smoothing or warping ``P`` over content positions is
smoothing or warping the attention output before ``out_conv``. :func:`explicit_attention`
does the same on the attention matrices themselves, for tests.

An output-level variant blends the decoded frame with the warped previous output
(same rule at full resolution), for the ablations.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from torch import Tensor

from flow import (CUT_THRESHOLD, FlowEstimator, color_histogram, intersection_distance, photometric_mask,
                  resize_flow, validity_mask, warp)

from .errors import UserError
from .function import style_attention_explicit
from .net import SANet, StyleCode

MODES = ("off", "spatial", "flow", "full")
FLOW_THREADS = min(4, os.cpu_count() or 1)
"""Threads computing optical flow of a batch's frame pairs side by side."""
TARGETS = ("logits", "probs")


@dataclass
class TemporalConfig:
    """Settings of the temporal smoothing (``configs/temporal/*.yaml``, ``--temporal`` etc.).

    The defaults were chosen by measurement (README, "Temporal smoothing"; protocol:
    the setting with the highest worst-clip warping-error reduction among those within
    +15% style loss on every clip of ``configs/ablation/flow.yaml``). ``off`` stylizes
    frame by frame (no output blend either).
    """

    temporal: str = field(default="flow", metadata={"help": "off | spatial | flow | full"})
    target: str = field(default="probs", metadata={"help": "smooth the attention logits or probabilities"})
    sigma: float = field(default=0.5, metadata={"help": "spatial Gaussian width, feature cells"})
    blend: float = field(default=0.9, metadata={"help": "weight w of the warped previous attention"})
    flow: str = field(default="dis", metadata={"help": "optical flow: dis | farneback"})
    flow_preset: str = field(default="medium", metadata={"help": "estimator preset"})
    flow_scale: float = field(default=0.25, metadata={"help": "flow resolution relative to the frame"})
    output_blend: float = field(default=0.7, metadata={
        "help": "weight of the warped previous output frame (any --temporal but off)"})
    scene_cuts: bool = field(default=True, metadata={"help": "reset the temporal state at scene cuts"})
    interpolation: str = field(default="bicubic", metadata={"help": "warping: bilinear | bicubic"})
    gate: float = field(default=0.0, metadata={
        "help": "reset where the warped previous query differs from the current one by this much (0: off)"})
    output_contrast: float = field(default=2.0, metadata={
        "help": "output blend: restore each frame's local contrast in windows of this width, pixels (0: off)"})
    photometric: float = field(default=0.15, metadata={
        "help": "also distrust the warp where the warped previous frame differs by this much, 0..1 (0: off)"})
    match_stats: bool = field(default=True, metadata={
        "help": "give the smoothed attention outputs each frame's own per-channel mean and std (target probs)"})

    def check(self) -> None:
        if self.temporal not in MODES:
            raise UserError(f"--temporal must be one of {', '.join(MODES)}, not {self.temporal!r}")
        if self.target not in TARGETS:
            raise UserError(f"--target must be one of {', '.join(TARGETS)}, not {self.target!r}")
        if self.flow not in ("dis", "farneback"):
            raise UserError(f"--flow must be dis or farneback, not {self.flow!r}")
        if not 0 <= self.photometric <= 1:
            raise UserError(f"--photometric must be between 0 and 1 (0: off), not {self.photometric}")
        if self.gate < 0:
            raise UserError(f"--gate must be >= 0 (0: off), not {self.gate}")
        if not (self.sigma >= 0 and 0 <= self.blend <= 1 and 0 <= self.output_blend <= 1):
            raise UserError("--sigma must be >= 0, and --blend and --output-blend between 0 and 1")
        if self.interpolation not in ("bilinear", "bicubic"):
            raise UserError(f"--interpolation must be bilinear or bicubic, not {self.interpolation!r}")
        if not 0 < self.flow_scale <= 1:
            raise UserError(f"--flow-scale must be in (0, 1], not {self.flow_scale}")

    @property
    def spatial(self) -> bool:
        return self.temporal in ("spatial", "full") and self.sigma > 0

    @property
    def warps(self) -> bool:
        return self.temporal in ("flow", "full") and self.blend > 0

    @property
    def blends_outputs(self) -> bool:
        return self.temporal != "off" and self.output_blend > 0

    @property
    def needs_flow(self) -> bool:
        return self.warps or self.blends_outputs


@dataclass
class FlowPair:
    """Optical flow between a frame and its predecessor, on the host (see TemporalStylizer.estimate)."""

    backward: Tensor  # (2, h, w) from the frame towards its predecessor
    forward: Tensor  # (2, h, w) the other way
    gray: Tensor | None  # (2, 1, h, w) both frames on the flow's grid, for the photometric check


@dataclass
class Motion:
    """Backward flow of a frame (towards the previous one) and its validity, on one grid."""

    flow: Tensor  # (1, 2, h, w) pixels of that grid
    valid: Tensor  # (1, 1, h, w) 1 = warp trusted

    def on_grid(self, size: tuple[int, int], covered: tuple[int, int]) -> "Motion":
        """The motion on another grid of which the frame covers the top-left ``covered`` cells.

        Feature grids belong to the frame padded at the bottom and right (to a multiple
        of 16): the motion is resized onto the covered part and edge-replicated beyond.
        """
        flow = resize_flow(self.flow, covered)
        valid = F.interpolate(self.valid, size=covered, mode="area")
        pad = (0, size[1] - covered[1], 0, size[0] - covered[0])
        if any(pad):
            flow, valid = F.pad(flow, pad, mode="replicate"), F.pad(valid, pad, mode="replicate")
        return Motion(flow, valid)


def covered_cells(grid: tuple[int, int], frame_size: tuple[int, int]) -> tuple[int, int]:
    """Cells of a feature grid of the padded frame that the frame itself covers."""
    return tuple(min(g, math.ceil(f * g / max(32, -(-f // 16) * 16))) for g, f in zip(grid, frame_size))


def gaussian_smooth(x: Tensor, sigma: float) -> Tensor:
    """Gaussian blur over the last two axes, width ``sigma`` cells, edges replicated."""
    if sigma <= 0:
        return x
    size = 2 * math.ceil(3 * sigma) + 1
    return gaussian_blur2d(x, (size, size), (sigma, sigma), border_type="replicate")


def channel_stats(x: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    """Per-sample, per-channel mean and standard deviation over the grid, ``(N, C, 1, 1)`` each."""
    var, mean = torch.var_mean(x, dim=(-2, -1), keepdim=True, correction=0)
    return mean, (var + eps).sqrt()


def match_stats(x: Tensor, target: tuple[Tensor, Tensor]) -> Tensor:
    """``x`` with each sample's channels moved to the mean and std ``target`` (:func:`channel_stats`).

    Blending attention outputs of several frames averages different style features and
    lowers their contrast; this gives each frame back the contrast of its own attention.
    """
    mean, std = channel_stats(x)
    scale = target[1] / std
    return x * scale + (target[0] - mean * scale)


def query_gates(queries: Tensor, previous: Tensor | None, motions: list[Motion | None], tau: float,
                frame_size: tuple[int, int], mode: str = "bilinear") -> list[Tensor | None]:
    """Confidence of the warp of each frame's features, from how well its query is predicted.

    ``d = |q_t - warp(q_{t-1})|^2 / ((|q_t|^2 + |warp(q_{t-1})|^2) / 2)`` per cell (means
    over channels); the gate is 1 for ``d <= tau / 2``, 0 for ``d >= tau``, linear between.
    Where the content under a cell changed (an object moved off it, a flow error, the
    receptive field of a cell next to a moving occluder) the previous attention is dropped,
    which the forward-backward check at flow resolution misses.

    Args:
        queries: (T, C, h, w) unfiltered queries of consecutive frames.
        previous: (1, C, h, w) the query of the frame before them, or None.

    Returns:
        Per frame a (1, 1, h, w) gate, or None where the frame has no predecessor.
    """
    gates: list[Tensor | None] = []
    for t, motion in enumerate(motions):
        current = queries[t:t + 1]
        if previous is None or motion is None:
            gates.append(None)
        else:
            size = tuple(current.shape[-2:])
            grid = motion.on_grid(size, covered_cells(size, frame_size))
            warped = warp(previous, grid.flow.to(previous.dtype), mode=mode)
            d = (current - warped).square().mean(1, keepdim=True) / (
                0.5 * (current.square().mean(1, keepdim=True) + warped.square().mean(1, keepdim=True)) + 1e-12)
            gates.append(((tau - d) * (2 / tau)).clamp(0, 1))
        previous = current
    return gates


def restore_contrast(x: Tensor, reference: Tensor, sigma: float, eps: float = 1e-4) -> Tensor:
    """``x`` with its local contrast raised to that of ``reference`` (Gaussian windows of width ``sigma``).

    Blending a frame with the warped previous output averages brush strokes that do not
    line up, which flattens texture. Around its local mean, ``x`` is scaled by
    ``std_ref / std_x`` (one factor per pixel for all channels, at least 1, at most 2), so
    that the stable blend keeps the contrast of the frame's own stylization.
    """
    def local_var(image: Tensor) -> tuple[Tensor, Tensor]:
        mean = gaussian_smooth(image, sigma)
        return mean, (gaussian_smooth(image.square(), sigma) - mean.square()).sum(1, keepdim=True).clamp_min(0)

    mean, var = local_var(x)
    _, ref_var = local_var(reference)
    ratio = ((ref_var + eps) / (var + eps)).sqrt().clamp(1.0, 2.0)
    return mean + (x - mean) * ratio


def propagate(x: Tensor, previous: Tensor | None, motions: list[Motion | None], blend: float,
              frame_size: tuple[int, int], mode: str = "bilinear",
              gates: list[Tensor | None] | None = None) -> Tensor:
    """``x_t <- (1 - w m) x_t + w m warp(x_{t-1})`` along the batch, in order.

    ``motions[t]`` is None where frame t has no predecessor (first frame, scene cut);
    ``gates[t]``, where given, multiplies the validity ``m`` (see :func:`query_gates`).
    """
    out = []
    for t, motion in enumerate(motions):
        current = x[t:t + 1]
        if previous is not None and motion is not None:
            size = tuple(current.shape[-2:])
            grid = motion.on_grid(size, covered_cells(size, frame_size))
            valid = grid.valid if gates is None or gates[t] is None else grid.valid * gates[t]
            weight = (blend * valid).to(current.dtype)
            current = (1 - weight) * current + weight * warp(previous, grid.flow.to(previous.dtype), mode=mode)
        out.append(current)
        previous = current
    return torch.cat(out)


class TemporalAttention:
    """The per-stream attention filter that SANet.stylize calls (net.AttentionFilter).

    Holds the last frame's filtered queries (target ``logits``) or attention outputs per
    style (target ``probs``). Call :meth:`set_motion` before each batch.
    """

    def __init__(self, conf: TemporalConfig) -> None:
        self.conf = conf
        self.state: dict[tuple[int | str, int], Tensor] = {}
        self.motions: list[Motion | None] = []
        self.frame_size = (0, 0)
        self.gates: list[list[Tensor | None] | None] = [None, None]

    def reset(self) -> None:
        self.state.clear()

    def set_motion(self, motions: list[Motion | None], frame_size: tuple[int, int]) -> None:
        self.motions, self.frame_size = motions, frame_size

    def _filter(self, key: int, tensors: list[Tensor]) -> list[Tensor]:
        out = []
        for level, x in enumerate(tensors):
            if self.conf.spatial:
                x = gaussian_smooth(x, self.conf.sigma)
            if self.conf.warps:
                x = propagate(x, self.state.get((key, level)), self.motions, self.conf.blend, self.frame_size,
                              self.conf.interpolation, self.gates[level])
                self.state[(key, level)] = x[-1:]
            out.append(x)
        return out

    def queries(self, queries: list[Tensor]) -> list[Tensor]:
        if self.conf.warps and self.conf.gate > 0:
            self.gates = []
            for level, q in enumerate(queries):
                self.gates.append(query_gates(q, self.state.get(("query", level)), self.motions, self.conf.gate,
                                              self.frame_size, self.conf.interpolation))
                self.state[("query", level)] = q[-1:]
        return self._filter(0, queries) if self.conf.target == "logits" else queries

    def attended(self, index: int, attended: list[Tensor]) -> list[Tensor]:
        if self.conf.target != "probs":
            return attended
        filtered = self._filter(1 + index, attended)
        if self.conf.match_stats:
            filtered = [match_stats(f, channel_stats(a)) for f, a in zip(filtered, attended)]
        return filtered


class TemporalStylizer:
    """Stylizes the frames of one stream in order, with temporal smoothing.

    Args:
        model: the SANet.
        styles: style codes from ``model.encode_style``.
        conf: temporal settings.
        style_weights, alpha: as for :meth:`SANet.stylize`.
    """

    def __init__(self, model: SANet, styles: list[StyleCode], conf: TemporalConfig,
                 style_weights: list[float] | None = None, alpha: float = 1.0) -> None:
        self.model, self.styles, self.conf = model, styles, conf
        self.style_weights, self.alpha = style_weights, alpha
        self.filter = TemporalAttention(conf) if conf.temporal != "off" else None
        self.previous_frame: np.ndarray | None = None
        self.previous_histogram: np.ndarray | None = None
        self.previous_output: Tensor | None = None
        self.previous_masks: Tensor | None = None
        self.cuts = 0
        self.pool = ThreadPoolExecutor(FLOW_THREADS, thread_name_prefix="flow")
        self._local = threading.local()

    def reset(self) -> None:
        """Forget the stream: the next frame starts afresh (a new clip or a scene cut)."""
        self.previous_frame, self.previous_histogram, self.previous_output = None, None, None
        self.previous_masks = None
        if self.filter is not None:
            self.filter.reset()

    def estimate(self, frames: np.ndarray) -> list[FlowPair | None]:
        """The host's share of :meth:`motions`: optical flow of each frame and its predecessor.

        Call it on consecutive frames in order (it carries the last frame and detects scene
        cuts); it touches no device, so a pipeline can run it in a thread ahead of the model.
        The colour histograms and the pairs' flows are computed in a pool of threads.
        """
        if not self.conf.needs_flow:
            return [None] * len(frames)
        cuts = self.conf.scene_cuts
        histograms = list(self.pool.map(color_histogram, frames)) if cuts else [None] * len(frames)
        pairs: list[tuple[np.ndarray, np.ndarray] | None] = []
        previous, previous_histogram = self.previous_frame, self.previous_histogram
        for frame, histogram in zip(frames, histograms):
            if previous is not None and cuts and intersection_distance(previous_histogram, histogram) > CUT_THRESHOLD:
                self.cuts += 1
                previous = None
            pairs.append(None if previous is None else (previous, frame))
            previous, previous_histogram = frame, histogram
        estimated = list(self.pool.map(self._flow_pair, pairs))
        self.previous_frame = frames[-1].copy()  # the caller may reuse its buffer
        self.previous_histogram = previous_histogram
        return estimated

    def _flow_pair(self, pair: tuple[np.ndarray, np.ndarray] | None) -> FlowPair | None:
        """Both flows of a (previous, current) pair, with this thread's own estimator
        (OpenCV releases the GIL; one DIS instance must not serve two threads)."""
        if pair is None:
            return None
        estimator = getattr(self._local, "estimator", None)
        if estimator is None:
            estimator = self._local.estimator = FlowEstimator(self.conf.flow, self.conf.flow_preset,
                                                              scale=self.conf.flow_scale)
        previous, frame = pair
        backward, forward = estimator.bidirectional(previous, frame)
        gray = estimator.gray(np.stack([previous, frame])) if self.conf.photometric > 0 else None
        return FlowPair(backward, forward, gray)

    def motions(self, frames: np.ndarray, device: torch.device,
                estimated: list[FlowPair | None] | None = None) -> list[Motion | None]:
        """Backward flow and validity of each frame towards its predecessor (None: none).

        ``estimated``: what :meth:`estimate` returned for these frames, if it ran already.
        """
        pairs = self.estimate(frames) if estimated is None else estimated
        out: list[Motion | None] = []
        for pair in pairs:
            if pair is None:
                out.append(None)
                continue
            backward, forward = pair.backward[None].to(device), pair.forward[None].to(device)
            valid = validity_mask(backward, forward)
            if pair.gray is not None:
                gray = pair.gray.to(device)
                valid = valid * photometric_mask(gray[:1], gray[1:], backward, self.conf.photometric)
            out.append(Motion(backward, valid))
        return out

    @torch.inference_mode()
    def __call__(self, frames: np.ndarray, content: Tensor,
                 estimated: list[FlowPair | None] | None = None, masks: Tensor | None = None) -> Tensor:
        """Stylize consecutive frames.

        Args:
            frames: (N, H, W, 3) uint8 RGB on the host, for optical flow.
            content: the same frames as (N, 3, H, W) floats in [0, 1] on the model's device.
            estimated: :meth:`estimate` of ``frames``, if it ran already.
            masks: spatial control of these frames, as for :meth:`SANet.stylize`; each style's
                attention is smoothed over time before its mask weighs it, and the output blend
                distrusts the warp where the warped previous masks differ from the current ones
                (a mask that moves with the content keeps it), so the styles' regions stay where
                the masks of each frame put them, static or moving.

        Returns:
            (N, 3, H, W) stylized frames in [0, 1].
        """
        motions = self.motions(frames, content.device, estimated)
        if self.filter is not None:
            self.filter.set_motion(motions, tuple(content.shape[-2:]))
        out = self.model.stylize(content, self.styles, self.style_weights, self.alpha, masks,
                                 attention_filter=self.filter)
        if self.conf.blends_outputs:
            out = self._blend_outputs(out, motions, masks)
        return out

    def _blend_outputs(self, out: Tensor, motions: list[Motion | None], masks: Tensor | None) -> Tensor:
        """The output blend, distrusting the warp where the ``masks`` (if any) do not move with the flow."""
        if masks is not None:
            masks = masks.reshape(-1, *masks.shape[-3:]).expand(len(out), -1, -1, -1)
        frames = []
        previous, previous_masks = self.previous_output, self.previous_masks
        for t, motion in enumerate(motions):
            current = out[t:t + 1]
            current_masks = None if masks is None else masks[t:t + 1].to(current.dtype)
            if previous is not None and motion is not None:
                grid = motion.on_grid(tuple(current.shape[-2:]), tuple(current.shape[-2:]))
                weight = self.conf.output_blend * grid.valid
                if current_masks is not None and previous_masks is not None:
                    moved = warp(previous_masks, grid.flow.to(current.dtype), mode="bilinear")
                    weight = weight * (1 - (current_masks - moved).abs().amax(1, keepdim=True)).clamp_min(0)
                raw = current
                current = (1 - weight) * current + weight * warp(previous, grid.flow, mode=self.conf.interpolation)
                if self.conf.output_contrast > 0:
                    current = restore_contrast(current, raw, self.conf.output_contrast)
                current = current.clamp(0.0, 1.0)  # bicubic warps and contrast may overshoot
            frames.append(current)
            previous, previous_masks = current, current_masks
        self.previous_output, self.previous_masks = previous, previous_masks
        return torch.cat(frames)


def explicit_attention(queries: Tensor, key: Tensor, value: Tensor, conf: TemporalConfig,
                       motions: list[Motion | None], frame_size: tuple[int, int]) -> Tensor:
    """The temporal filter applied to the attention matrices themselves (small inputs, tests).

    Args:
        queries: (T, C, h, w) queries of consecutive frames at one level.
        key, value: (1, C, hs, ws) of the style.

    Returns:
        (T, C, h, w) attention outputs; equal to what :class:`TemporalAttention` gives
        through ``scaled_dot_product_attention``.
    """
    t, _, h, w = queries.shape
    _, attention = style_attention_explicit(queries, key, value)  # (T, h*w, hs*ws)
    logits = torch.bmm(queries.flatten(2).transpose(1, 2), key.expand(t, -1, -1, -1).flatten(2))
    as_maps = (logits if conf.target == "logits" else attention).transpose(1, 2).reshape(t, -1, h, w)
    if conf.spatial:
        as_maps = gaussian_smooth(as_maps, conf.sigma)
    if conf.warps:
        gates = query_gates(queries, None, motions, conf.gate, frame_size, conf.interpolation) if conf.gate > 0 else None
        as_maps = propagate(as_maps, None, motions, conf.blend, frame_size, conf.interpolation, gates)
    matrices = as_maps.flatten(2).transpose(1, 2)
    if conf.target == "logits":
        matrices = matrices.softmax(dim=-1)
    out = torch.bmm(value.expand(t, -1, -1, -1).flatten(2), matrices.transpose(1, 2)).reshape(queries.shape)
    if conf.match_stats and conf.target == "probs":
        out = match_stats(out, channel_stats(torch.bmm(value.expand(t, -1, -1, -1).flatten(2),
                                                       attention.transpose(1, 2)).reshape(queries.shape)))
    return out

"""Runs every cell (clip, style, arm) of a grid that the cache does not hold yet."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from ..errors import UserError
from ..net import SANet, StyleCode
from ..temporal import TemporalConfig, TemporalStylizer
from ..weights import SANetWeights, load_sanet
from .cache import CellCache, cell_key
from .config import INPUT_ARM, Arm, Experiment, effective_settings
from .inputs import Clip, build_clips, frames_to_tensor, load_style
from .metrics import WARP_METRICS, encode, feature_losses, independent_method, warping_curve

REFERENCE = Arm(INPUT_ARM, TemporalConfig(temporal="off"), [])
"""The input video, scored as if it were an output; ``flow`` "dis" makes Farneback its independent flow."""


@dataclass
class RunStats:
    """What a run did: cells stylized, cells (re)scored, cells read whole from the cache."""

    stylized: int = 0
    scored: int = 0
    cached: int = 0


@dataclass
class GridResult:
    """Everything the report needs.

    Attributes:
        rows: one per cell: ``clip``, ``style``, ``arm``, ``key``, a value per metric (None
            where it does not apply) and ``curves`` (per-pair warping errors by metric).
        clips: the input clips by name.
        styles: the style images by name, ``(1, 3, H, W)``.
        weights: which model weights, in words.
        cache: where the cells' frames are.
        stats: what this run computed.
    """

    rows: list[dict[str, Any]]
    clips: dict[str, Clip]
    styles: dict[str, Tensor]
    weights: str
    cache: CellCache
    stats: RunStats

    def outputs(self, row: dict[str, Any]) -> np.ndarray:
        """A cell's ``(T, H, W, 3)`` uint8 frames (the input for the reference arm)."""
        if row["arm"] == INPUT_ARM:
            return self.clips[row["clip"]].frames
        return self.cache.frames(row["key"])


class GridRunner:
    """Computes the missing cells of an experiment.

    Args:
        experiment: the grid.
        cache: finished cells.
        progress: show a progress bar over the whole grid.
    """

    def __init__(self, experiment: Experiment, cache: CellCache, progress: bool = True) -> None:
        self.experiment, self.cache, self.progress = experiment, cache, progress
        self.settings = experiment.settings
        self.device = torch.device(self.settings.device)
        self.weights_meta = SANetWeights.resolve(self.settings.weights).meta
        self.weights_sha = self.weights_meta["sha256"]
        self.codes: dict[str, StyleCode] = {}
        self.style_feats: dict[str, list[Tensor]] = {}
        self.content_feats: dict[str, list[Tensor]] = {}
        self.stats = RunStats()

    @cached_property
    def model(self) -> SANet:
        """The model, loaded on first use (a run with everything cached never loads it) and warmed up."""
        model = load_sanet(weights=self.settings.weights, device=self.device).requires_grad_(False)
        if SANetWeights.resolve(self.settings.weights).meta["sha256"] != self.weights_sha:
            raise UserError("the model weights changed while the grid ran (cache keys hold their SHA-256); run again")
        with torch.inference_mode():
            warm = torch.rand(1, 3, 64, 64, device=self.device)
            model.stylize(warm, [model.encode_style(warm)])
        return model

    def run(self) -> GridResult:
        """All cells, in the order clips x styles x (reference, arms)."""
        clips = build_clips(self.experiment.clips)
        styles = {spec.name: load_style(spec) for spec in self.experiment.styles}
        cells = [(clip, style, arm) for clip in clips for style in styles
                 for arm in (REFERENCE, *self.experiment.arms) if not arm.clips or clip in arm.clips]
        rows = []
        bar = tqdm(cells, desc="ablation grid", unit="cell", disable=not self.progress)
        for clip, style, arm in bar:
            bar.set_postfix_str(f"{clip} / {style} / {arm.name}")
            rows.append(self._cell(clips[clip], style, *styles[style], arm))
        images = {name: image for name, (image, _) in styles.items()}
        weights = (f"{self.settings.weights} (SHA-256 {self.weights_sha[:12]}, "
                   f"{self.weights_meta.get('iterations', '?')} training iterations)")
        return GridResult(rows, clips, images, weights, self.cache, self.stats)

    def _cell(self, clip: Clip, style_name: str, style: Tensor, style_identity: dict[str, Any],
              arm: Arm) -> dict[str, Any]:
        material: dict[str, Any] = {"clip": clip.identity, "style": style_identity, "arm": INPUT_ARM}
        if arm is not REFERENCE:
            material.update(arm=effective_settings(arm.temporal), alpha=self.settings.alpha, weights=self.weights_sha)
        key = cell_key(material)
        record = self.cache.result(key)
        frames = None
        if "runtime" not in record or not (arm is REFERENCE or self.cache.has_frames(key)):
            frames, runtime = self._stylize(clip, style_name, style, arm)
            record = {"cell": material, "runtime": runtime, "metrics": {}, "curves": {}}
            if arm is not REFERENCE:
                self.cache.save_frames(key, frames)
                self.stats.stylized += 1
        missing = [m for m in self.settings.metrics if m not in record["metrics"]]
        if missing:
            if frames is None:
                frames = clip.frames if arm is REFERENCE else self.cache.frames(key)
            self._score(record, missing, clip, style_name, style, arm, frames)
            self.stats.scored += 1
            self.cache.save_result(key, record)
        else:
            self.stats.cached += 1
        metrics = {m: record["metrics"][m] for m in self.settings.metrics}
        curves = {m: record["curves"][m] for m in WARP_METRICS if m in self.settings.metrics and m in record["curves"]}
        return {"clip": clip.name, "style": style_name, "arm": arm.name, "key": key, **metrics, "curves": curves}

    def _stylize(self, clip: Clip, style_name: str, style: Tensor, arm: Arm) -> tuple[np.ndarray, float]:
        """The arm's outputs as uint8 frames (stored in the cache) and the seconds per frame."""
        if arm is REFERENCE:
            return clip.frames, 0.0
        if style_name not in self.codes:
            with torch.inference_mode():
                self.codes[style_name] = self.model.encode_style(style.to(self.device))
        stylizer = TemporalStylizer(self.model, [self.codes[style_name]], arm.temporal, alpha=self.settings.alpha)
        content = clip.tensor(self.device)
        size = self.settings.batch_size
        outputs = []
        start = time.perf_counter()
        for i in range(0, len(clip.frames), size):
            outputs.append(stylizer(clip.frames[i:i + size], content[i:i + size]).cpu())
        seconds = (time.perf_counter() - start) / len(clip.frames)
        return torch.cat(outputs).mul(255.0).round().to(torch.uint8).permute(0, 2, 3, 1).numpy(), seconds

    def _score(self, record: dict[str, Any], names: list[str], clip: Clip, style_name: str, style: Tensor,
               arm: Arm, frames: np.ndarray) -> None:
        """Add the metrics ``names`` of a cell's output ``frames`` to its ``record``."""
        outputs = frames_to_tensor(frames)
        for name in names:
            if name in WARP_METRICS:
                method = independent_method(arm.temporal) if name == "warp_indep" else name.removeprefix("warp_")
                pairs = clip.exact if method == "exact" else clip.estimated(method)
                curve = None if pairs is None else warping_curve(outputs, pairs)
                record["curves"][name] = curve
                record["metrics"][name] = None if curve is None else float(np.mean(curve))
            elif name == "runtime":
                record["metrics"][name] = record["runtime"]
        if {"style_loss", "content_loss"} & set(names):
            size = self.settings.batch_size
            if clip.name not in self.content_feats:
                self.content_feats[clip.name] = encode(self.model, clip.tensor(self.device), size, first=3)
            if style_name not in self.style_feats:
                self.style_feats[style_name] = encode(self.model, style.to(self.device), 1)
            losses = feature_losses(self.model, outputs.to(self.device), self.content_feats[clip.name],
                                    self.style_feats[style_name], size)
            record["metrics"].update(zip(("style_loss", "content_loss"), losses))

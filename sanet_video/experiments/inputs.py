"""The clips and style images of a grid, built from their specs.

Each comes with an ``identity``: what its pixels depend on (spec values and the
SHA-256 of the files read), which the cache keys are made of; names are left out so
that renaming an entry recomputes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import torch
from torch import Tensor

from flow import CameraMotion, Occluder, random_texture, synthetic_clip

from .._vgg import sha256_of
from ..errors import UserError
from ..image_io import fit_within, is_still_image, read_image, resize_short_side
from ..video.source import VideoSource
from .config import ClipSpec, StyleSpec
from .metrics import FlowPairs, estimated_pairs

MARGIN = 1.25
"""A synthetic clip's photo covers this many times the frame, so that motion reveals new content."""


@dataclass
class Clip:
    """Input frames and what is known of their motion.

    Attributes:
        name: as in the config.
        frames: ``(T, H, W, 3)`` uint8 RGB.
        fps: frame rate of the report videos.
        exact: exact flows and masks (synthetic clips and cuts of them), else None.
        identity: what the frames depend on (for cache keys).
    """

    name: str
    frames: np.ndarray
    fps: float
    exact: FlowPairs | None
    identity: dict[str, Any]
    _estimated: dict[str, FlowPairs] = field(default_factory=dict, repr=False)

    def estimated(self, method: str) -> FlowPairs:
        """Full-resolution flows of the input by ``method``, computed once."""
        if method not in self._estimated:
            self._estimated[method] = estimated_pairs(self.frames, method)
        return self._estimated[method]

    def tensor(self, device: torch.device | str = "cpu") -> Tensor:
        """The frames as ``(T, 3, H, W)`` floats in [0, 1]."""
        return frames_to_tensor(self.frames, device)


def frames_to_tensor(frames: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
    """``(T, H, W, 3)`` uint8 to ``(T, 3, H, W)`` float in [0, 1]."""
    return torch.from_numpy(frames).to(device).permute(0, 3, 1, 2).float().div(255.0)


def build_clips(specs: list[ClipSpec]) -> dict[str, Clip]:
    """All clips of a grid by name (a cut refers to clips built before it).

    Raises:
        UserError: a file is missing or unreadable, or the parts of a cut differ in size.
    """
    clips: dict[str, Clip] = {}
    for spec in specs:
        if spec.kind == "synthetic":
            clips[spec.name] = _synthetic(spec)
        elif spec.kind == "video":
            clips[spec.name] = _video(spec)
        else:
            clips[spec.name] = _cut(spec, [clips[name] for name in spec.parts])
    return clips


def _synthetic(spec: ClipSpec) -> Clip:
    cover = (round(spec.height * MARGIN), round(spec.width * MARGIN))
    if spec.path:
        photo = _photo(Path(spec.path), spec.start)
        scale = max(cover[0] / photo.shape[0], cover[1] / photo.shape[1])
        size = (max(cover[1], round(photo.shape[1] * scale)), max(cover[0], round(photo.shape[0] * scale)))
        photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        source: dict[str, Any] = {"photo": sha256_of(Path(spec.path)), "start": spec.start}
    else:
        photo = random_texture(cover, spec.seed)
        source = {}
    motion = CameraMotion(tuple(spec.translation), spec.zoom, spec.rotation)
    occluder = Occluder(spec.occluder, tuple(spec.occluder_position), tuple(spec.occluder_velocity),
                        seed=spec.seed + 1) if spec.occluder > 0 else None
    clip = synthetic_clip(photo, spec.frames, motion, occluder, size=(spec.height, spec.width))
    identity = {**source, **{k: v for k, v in dataclasses.asdict(spec).items()
                             if k not in ("name", "kind", "path", "start", "fps", "max_side", "parts")}}
    return Clip(spec.name, clip.frames, spec.fps, FlowPairs(clip.backward_flows, clip.masks), identity)


def _photo(path: Path, start: float) -> np.ndarray:
    """A still image as ``(H, W, 3)`` uint8: an image file, or the frame of a video at ``start`` seconds."""
    if is_still_image(path):
        image, _ = read_image(path, "photo of a synthetic clip")
        return (image.permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
    frames, _ = _decode(path, start, 1, 0)
    return frames[0]


def _video(spec: ClipSpec) -> Clip:
    path = Path(spec.path)
    frames, fps = _decode(path, spec.start, spec.frames, spec.max_side)
    if len(frames) < 2:
        raise UserError(f"clip {spec.name!r}: {path} has fewer than 2 frames from {spec.start} s; check 'start'")
    identity = {"video": sha256_of(path), "start": spec.start, "frames": spec.frames, "max_side": spec.max_side}
    return Clip(spec.name, frames, fps, None, identity)


def _decode(path: Path, start: float, count: int, max_side: int) -> tuple[np.ndarray, float]:
    """Up to ``count`` RGB frames from ``start`` seconds, at most ``max_side`` pixels, and the frame rate."""
    source = VideoSource(path, start=start)
    size = fit_within(source.first_frame.width, source.first_frame.height, max_side)
    frames = []
    try:
        for item in source:
            if isinstance(item, av.VideoFrame):
                frames.append(item.reformat(*size, format="rgb24", interpolation="AREA").to_ndarray())
                if len(frames) == count:
                    break
        fps = float(source.frame_rate or 25)
    finally:
        source.close()
    return np.stack(frames), fps


def _cut(spec: ClipSpec, parts: list[Clip]) -> Clip:
    if len({p.frames.shape[1:] for p in parts}) > 1:
        raise UserError(f"clip {spec.name!r}: its parts differ in size "
                        f"({', '.join(f'{p.name} {p.frames.shape[2]}x{p.frames.shape[1]}' for p in parts)})")
    exact = None
    if all(p.exact is not None for p in parts):
        flows, masks = [parts[0].exact.flows], [parts[0].exact.masks]
        for part in parts[1:]:  # no motion links one part to the next: zero flow, nothing valid
            flows += [torch.zeros_like(flows[0][:1]), part.exact.flows]
            masks += [torch.zeros_like(masks[0][:1]), part.exact.masks]
        exact = FlowPairs(torch.cat(flows), torch.cat(masks))
    frames = np.concatenate([p.frames for p in parts])
    return Clip(spec.name, frames, parts[0].fps, exact, {"cut": [p.identity for p in parts]})


def load_style(spec: StyleSpec) -> tuple[Tensor, dict[str, Any]]:
    """The style image as ``(1, 3, H, W)`` in [0, 1] with short side ``spec.size``, and its identity."""
    if spec.path:
        image, _ = read_image(Path(spec.path), "style image")
        identity: dict[str, Any] = {"image": sha256_of(Path(spec.path))}
    else:
        image = torch.from_numpy(random_texture((spec.size, spec.size), spec.seed)).permute(2, 0, 1).float() / 255.0
        identity = {"texture": spec.seed}
    return resize_short_side(image[None], spec.size), {**identity, "size": spec.size}

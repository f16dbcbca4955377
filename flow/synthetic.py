"""Synthetic clips with exact flow: an affine camera over a still image, plus an occluder.

Frame t samples the image at ``A_t(x) = M_t x + b_t`` (reflected beyond its edges), with
``M_t = R(t * rotation) / zoom**t`` about the frame centre and the camera moved by
``t * translation``. Pixel ``x`` of frame t shows the point the previous frame shows at
``A_{t-1}^{-1}(A_t(x))``, which gives the exact backward flow; for a pure pan it is
``translation`` everywhere (the content moves by ``-translation``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np
import torch
from torch import Tensor

from flow.occlusion import in_frame_mask
from flow.warp import pixel_coordinates, sample


def random_texture(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A colourful textured image, good for flow estimation: multi-scale noise plus shapes.

    Args:
        size: ``(H, W)``.
        seed: the same seed gives the same image; the palette changes with it.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    height, width = size
    rng = np.random.default_rng(seed)
    noise = np.zeros((height, width, 3), np.float32)
    for sigma in (1.0, 2.0, 4.0, 8.0, 16.0):
        octave = cv2.GaussianBlur(rng.standard_normal((height, width, 3)).astype(np.float32),
                                  (0, 0), sigma)
        noise += octave / octave.std()
    mixing = rng.uniform(-1.0, 1.0, (3, 3)).astype(np.float32)
    image = 0.5 + 0.12 * (noise @ mixing) / np.abs(mixing).sum(0) + rng.uniform(-0.2, 0.2, 3)
    for _ in range(8):
        colour = rng.uniform(0.0, 1.0, 3).tolist()
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        extent = int(rng.integers(4, max(5, min(height, width) // 5)))
        if rng.random() < 0.5:
            cv2.circle(image, centre, extent, colour, -1, cv2.LINE_AA)
        else:
            corner = (centre[0] + extent, centre[1] + int(rng.integers(4, extent + 1)))
            cv2.rectangle(image, centre, corner, colour, -1, cv2.LINE_AA)
    image = cv2.GaussianBlur(image, (0, 0), 0.7)
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class CameraMotion:
    """Affine camera motion per frame, about the frame centre.

    Attributes:
        translation: ``(x, y)`` camera displacement per frame, in pixels.
        zoom: scale factor per frame; > 1 zooms in (content grows).
        rotation: camera rotation per frame, in degrees (image coordinates, y down).
    """

    translation: tuple[float, float] = (0.0, 0.0)
    zoom: float = 1.0
    rotation: float = 0.0


@dataclass(frozen=True)
class Occluder:
    """A textured square moving over the frames in frame coordinates.

    Attributes:
        size: side in pixels.
        position: ``(x, y)`` of its top-left pixel in frame 0.
        velocity: ``(x, y)`` displacement per frame (positions are rounded to pixels).
        seed: seed of its texture (:func:`random_texture`).
    """

    size: int
    position: tuple[float, float]
    velocity: tuple[float, float]
    seed: int = 1


@dataclass(frozen=True)
class SyntheticClip:
    """Frames and their exact motion.

    Attributes:
        frames: ``(T, H, W, 3)`` uint8 RGB.
        backward_flows: ``(T-1, 2, H, W)``; ``backward_flows[i]`` maps frame ``i+1`` to frame
            ``i`` (camera motion; inside the occluder it is masked out).
        forward_flows: ``(T-1, 2, H, W)``; ``forward_flows[i]`` maps frame ``i`` to ``i+1``
            (camera motion).
        masks: ``(T-1, 1, H, W)`` float validity of ``backward_flows`` (1 = valid): 0 where
            ``x + w(x)`` leaves the frame, on the occluder in frame ``i+1``, and where the
            bilinear footprint of ``x + w(x)`` touches the occluder in frame ``i``.
    """

    frames: np.ndarray
    backward_flows: Tensor
    forward_flows: Tensor
    masks: Tensor


def synthetic_clip(image: np.ndarray, num_frames: int, motion: CameraMotion = CameraMotion(),
                   occluder: Optional[Occluder] = None,
                   size: Optional[tuple[int, int]] = None) -> SyntheticClip:
    """Render a clip of an affine camera over ``image`` with exact flows and masks.

    Args:
        image: ``(H_i, W_i, 3)`` uint8 RGB still image.
        num_frames: ``T >= 2``.
        motion: camera motion per frame.
        occluder: optional square drawn over every frame.
        size: frame ``(H, W)``; defaults to the image size. Frame 0 is the centred crop.

    Returns:
        The :class:`SyntheticClip`.
    """
    if num_frames < 2:
        raise ValueError(f"need at least 2 frames, got {num_frames}")
    height, width = image.shape[:2] if size is None else size
    cameras = [_camera(t, motion, image.shape[:2], (height, width)) for t in range(num_frames)]
    coords = pixel_coordinates(height, width, torch.device("cpu"), torch.float64)[0]
    positions = torch.stack([_apply(camera, coords) for camera in cameras])
    source = torch.from_numpy(image).permute(2, 0, 1)[None].double().expand(num_frames, -1, -1, -1)
    frames = sample(source, positions, padding_mode="reflection")
    frames = frames.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy().copy()

    backward = torch.stack([_relative_flow(cameras[t], cameras[t - 1], coords)
                            for t in range(1, num_frames)]).float()
    forward = torch.stack([_relative_flow(cameras[t - 1], cameras[t], coords)
                           for t in range(1, num_frames)]).float()
    masks = in_frame_mask(backward)
    if occluder is not None:
        covered = _draw_occluder(frames, occluder)
        touched = sample(covered[:-1], coords + backward, padding_mode="zeros") > 0
        masks = masks * (1.0 - covered[1:]) * (~touched).float()
    return SyntheticClip(frames, backward, forward, masks)


def _camera(t: int, motion: CameraMotion, image_size: tuple[int, int],
            frame_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(M_t, b_t)`` of the map from frame-t pixels to image pixels."""
    angle = math.radians(t * motion.rotation)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    matrix = rotation / motion.zoom ** t
    frame_centre = np.array([(frame_size[1] - 1) / 2.0, (frame_size[0] - 1) / 2.0])
    image_centre = np.array([(image_size[1] - 1) / 2.0, (image_size[0] - 1) / 2.0])
    offset = image_centre + t * np.asarray(motion.translation, dtype=np.float64) - matrix @ frame_centre
    return matrix, offset


def _apply(camera: tuple[np.ndarray, np.ndarray], coords: Tensor) -> Tensor:
    """``M x + b`` for ``(2, H, W)`` coordinates."""
    matrix, offset = (torch.from_numpy(a) for a in camera)
    return torch.einsum("ij,jhw->ihw", matrix, coords) + offset.view(2, 1, 1)


def _relative_flow(source: tuple[np.ndarray, np.ndarray], target: tuple[np.ndarray, np.ndarray],
                   coords: Tensor) -> Tensor:
    """Flow on the source frame's grid to the target frame: ``A_target^-1(A_source(x)) - x``."""
    inverse = np.linalg.inv(target[0])
    return _apply((inverse, -inverse @ target[1]), _apply(source, coords)) - coords


def _draw_occluder(frames: np.ndarray, occluder: Occluder) -> Tensor:
    """Paste the occluder into ``frames`` in place; return its ``(T, 1, H, W)`` coverage."""
    num_frames, height, width = frames.shape[:3]
    texture = random_texture((occluder.size, occluder.size), occluder.seed)
    covered = torch.zeros(num_frames, 1, height, width, dtype=torch.float32)
    for t in range(num_frames):
        left = round(occluder.position[0] + t * occluder.velocity[0])
        top = round(occluder.position[1] + t * occluder.velocity[1])
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + occluder.size, width), min(top + occluder.size, height)
        if x0 < x1 and y0 < y1:
            frames[t, y0:y1, x0:x1] = texture[y0 - top:y1 - top, x0 - left:x1 - left]
            covered[t, 0, y0:y1, x0:x1] = 1.0
    return covered


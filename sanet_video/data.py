"""Training images: the held-out split, and random crops drawn on the GPU.

The training set (``shared/datasets/sanet-train``) has ``content/`` photos and two
folders of artworks, ``style/`` and ``style_paintings/``. One image in ten of each
folder, chosen by a hash of its name, is held out for evaluation.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

IMAGE_SUFFIXES = {".webp", ".jpg", ".jpeg", ".png"}
CONTENT_DIRS = ("content",)
STYLE_DIRS = ("style", "style_paintings")
HELD_OUT_EVERY = 10


def is_held_out(path: Path) -> bool:
    return int(hashlib.sha1(path.name.encode()).hexdigest(), 16) % HELD_OUT_EVERY == 0


def list_images(root: Path, folders: tuple[str, ...], held_out: bool) -> list[Path]:
    """Images of the given folders of ``root`` (a missing folder has none), sorted, on one side of the split."""
    paths = sorted(p for folder in folders if (root / folder).is_dir() for p in (root / folder).iterdir()
                   if p.suffix.lower() in IMAGE_SUFFIXES)
    return [p for p in paths if is_held_out(p) == held_out]


def read_rgb(path: Path, short_side: int | None = None) -> Tensor:
    """A (3, H, W) uint8 tensor, the short side resized to ``short_side`` if given."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        if short_side is not None:
            scale = short_side / min(img.size)
            img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                             Image.Resampling.BICUBIC)
        return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1)


class CropSampler:
    """Random square crops of a pool of images kept on the device as uint8.

    Each crop covers a random square of side ``size * 2**u`` (u uniform in [0, 1],
    capped by the image) at a random place, resized to ``size`` and flipped
    left-right half of the time.
    """

    def __init__(self, paths: list[Path], device: torch.device, short_side: int = 512, size: int = 256) -> None:
        if not paths:
            raise ValueError("no training images found")
        self.images = [read_rgb(p, short_side).to(device) for p in paths]
        self.size = size

    def _crop(self, image: Tensor) -> Tensor:
        _, h, w = image.shape
        side = min(h, w, round(self.size * 2 ** random.random()))
        top, left = random.randint(0, h - side), random.randint(0, w - side)
        crop = image[None, :, top:top + side, left:left + side].float() / 255.0
        if side != self.size:
            crop = F.interpolate(crop, size=(self.size, self.size), mode="bilinear",
                                 antialias=True, align_corners=False)
        return crop.flip(-1) if random.random() < 0.5 else crop

    def sample(self, count: int) -> Tensor:
        """(count, 3, size, size) float crops in [0, 1]."""
        return torch.cat([self._crop(random.choice(self.images)) for _ in range(count)]).clamp_(0, 1)

    def sample_textured(self, count: int, oversample: int = 2, min_std: float = 0.06,
                        min_mean: float = 0.08) -> Tensor:
        """Like :meth:`sample`, preferring crops that are neither flat nor mostly black.

        Draws ``oversample * count`` crops and keeps ``count`` of them, the ones with
        a luminance std of at least ``min_std`` and a mean of at least ``min_mean``
        first, in random order; no host/device synchronisation.
        """
        crops = self.sample(count * oversample)
        luma = crops.mul(crops.new_tensor([0.299, 0.587, 0.114])[:, None, None]).sum(1)
        good = (luma.std(dim=(1, 2)) >= min_std) & (luma.mean(dim=(1, 2)) >= min_mean)
        order = torch.argsort(good.float() + torch.rand(len(crops), device=crops.device), descending=True)
        return crops[order[:count]]


def shuffle_patches(images: Tensor, grid: int, probability: float) -> Tensor:
    """Cut each image into ``grid`` x ``grid`` tiles and permute them, with ``probability`` per image.

    A style augmentation: the tiles keep the style's colours, strokes and channel
    statistics (what the style loss measures) but lose the layout of its objects, so
    attention cannot learn to copy whole faces or figures. H and W must be multiples
    of ``grid``.
    """
    n, c, h, w = images.shape
    th, tw = h // grid, w // grid
    tiles = images.reshape(n, c, grid, th, grid, tw).permute(0, 2, 4, 1, 3, 5).reshape(n, grid * grid, c, th, tw)
    order = torch.argsort(torch.rand(n, grid * grid, device=images.device), dim=1)
    keep = torch.rand(n, device=images.device) >= probability
    order = torch.where(keep[:, None], torch.arange(grid * grid, device=images.device), order)
    shuffled = tiles[torch.arange(n, device=images.device)[:, None], order]
    return shuffled.reshape(n, grid, grid, c, th, tw).permute(0, 3, 1, 4, 2, 5).reshape(n, c, h, w)


def random_motion(count: int, size: int, max_degrees: float, max_scale: float, max_shift: float,
                  device: torch.device) -> Tensor:
    """Sampling grids of random small similarity motions, for ``F.grid_sample``.

    Rotation uniform in +-``max_degrees``, scale in 1 +- ``max_scale``, translation
    in +-``max_shift`` of the image size: the motion between two video frames.
    Returns (count, size, size, 2).
    """
    def uniform(limit: float) -> Tensor:
        return (torch.rand(count, device=device) * 2 - 1) * limit

    angle = uniform(max_degrees) * (torch.pi / 180)
    scale = 1 + uniform(max_scale)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, uniform(2 * max_shift)], 1),
                         torch.stack([sin, cos, uniform(2 * max_shift)], 1)], 1)
    return F.affine_grid(theta, [count, 1, size, size], align_corners=False)


def move(images: Tensor, grid: Tensor) -> Tensor:
    """``images`` resampled along ``grid`` (bilinear, zeros outside)."""
    return F.grid_sample(images, grid.to(images.dtype), mode="bilinear", padding_mode="zeros", align_corners=False)


def moved_valid(grid: Tensor, margin: int) -> Tensor:
    """(N, 1, H, W) mask of the pixels a motion takes from inside the image, ``margin`` px from its edge."""
    n, h, w, _ = grid.shape
    inside = (move(torch.ones(n, 1, h, w, device=grid.device), grid) > 0.999).float()
    if margin > 0:  # erode, the frame's own border included (zeros around it)
        inside = -F.max_pool2d(-F.pad(inside, (margin,) * 4), 2 * margin + 1, stride=1)
    return inside > 0.5

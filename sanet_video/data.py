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
    """Images of the given folders of ``root``, sorted, on one side of the split."""
    paths = sorted(p for folder in folders for p in (root / folder).iterdir()
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

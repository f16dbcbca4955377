"""Per-channel mean activations of the raw VGG19, for Gatys et al.'s normalisation.

``python -m sanet_video.vgg_stats DATA_DIR OUT.safetensors`` averages, over every
training image at short side 512, each channel's activation after each ReLU up to
relu5_1. ``VGGEncoder`` divides by these means, so that in the normalised network
every channel's mean activation over the training images is 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor, nn
from tqdm import tqdm

from . import _vgg
from .data import CONTENT_DIRS, STYLE_DIRS, list_images, read_rgb
from .net import VGGEncoder

MIN_SCALE = 1e-3  # a channel that never fires keeps a harmless finite scale


@torch.no_grad()
def channel_means(images: list[Path], device: torch.device, short_side: int = 512) -> dict[str, Tensor]:
    encoder = VGGEncoder(None).to(device)
    relus = [m for stage in encoder.stages for m in stage if isinstance(m, nn.ReLU)]
    sums = [torch.zeros(0)] * len(relus)
    count = 0
    for path in tqdm(images, desc="VGG channel means", unit="img"):
        x = read_rgb(path, short_side).to(device)[None].float() / 255.0
        index = 0
        for stage in encoder.stages:
            for layer in stage:
                x = layer(x)
                if isinstance(layer, nn.ReLU):
                    mean = x.double().mean(dim=(0, 2, 3))
                    sums[index] = mean if count == 0 else sums[index] + mean
                    index += 1
        count += 1
    return {name: (s / count).float().clamp_min(MIN_SCALE).cpu() for name, s in zip(_vgg.CONV_NAMES, sums)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    paths = list_images(args.data, CONTENT_DIRS + STYLE_DIRS, held_out=False)
    means = channel_means(paths, torch.device(args.device))
    save_file(means, str(args.out))
    for name in _vgg.CONV_NAMES:
        print(f"{name}: mean of channel means {means[name].mean():.2f}")


if __name__ == "__main__":
    main()

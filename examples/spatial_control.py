"""Spatial control: one photo, two styles, one mask; writes the README's picture, docs/spatial_control.jpg.

    python examples/spatial_control.py [OUTPUT.jpg]

The photo is a held-out landscape of the training set (``../shared/datasets/sanet-train``)
where that folder is present, else the first frame of examples/city.mp4. The mask is made
from the photo: what lies above the horizon (the sky) takes The Starry Night, the rest a
second style: a held-out Hiroshige woodcut
of the training set where present, else generated stripes. The picture shows, left to
right: the photo, the mask (white: first style), the two styles, and the result.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image, ImageFilter

from sanet_video import stylize_image
from sanet_video.data import is_held_out
from sanet_video.masks import luminance

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets" / "sanet-train"
PHOTO = SHARED / "content" / "endless_sky_land__valley2@2x.webp"
WOODCUT = SHARED / "style" / "gcompris_paintings__board8_0_Utagawa_Hiroshige_The_Benzaiten_Shrine_at_Inokashi.webp"
HEIGHT = 200  # of each tile of the picture, pixels


def photo() -> Image.Image:
    if PHOTO.is_file() and is_held_out(PHOTO):
        return Image.open(PHOTO).convert("RGB")
    with av.open(str(REPO / "examples" / "city.mp4")) as video:
        return next(video.decode(video=0)).to_image()


def second_style(folder: Path) -> Path:
    if WOODCUT.is_file() and is_held_out(WOODCUT):
        return WOODCUT
    y, x = np.mgrid[0:256, 0:256]
    stripes = (((x + y) // 16) % 2)[..., None] * np.array([230, 120, 30]) + 20
    path = folder / "stripes.png"
    Image.fromarray(stripes.astype(np.uint8)).save(path)
    return path


def sky_mask(image: Image.Image) -> Image.Image:
    """White above the horizon, black below, with a soft edge.

    Pixels are bright or dark by Otsu's threshold of the blurred luminance; in each column
    the horizon is the row that best splits bright above from dark below (fewest pixels on
    the wrong side), then smoothed along the image with a running median.
    """
    blurred = image.filter(ImageFilter.GaussianBlur(radius=max(2, image.width // 100)))
    y = luminance(torch.from_numpy(np.asarray(blurred, np.float32) / 255).permute(2, 0, 1)[None])[0].numpy()
    levels = np.linspace(0.01, 0.99, 99)
    spread = [(y < t).mean() * (y >= t).mean() * (y[y < t].mean() - y[y >= t].mean()) ** 2
              if 0 < (y < t).mean() < 1 else 0.0 for t in levels]
    bright = y >= levels[int(np.argmax(spread))]
    zeros = np.zeros((1, bright.shape[1]))
    wrong = np.concatenate([zeros, np.cumsum(~bright, 0)]) + np.concatenate([np.cumsum(bright[::-1], 0)[::-1], zeros])
    horizon = wrong.argmin(0).astype(np.float32)  # rows of sky per column
    half = max(1, image.width // 40)
    horizon = np.array([np.median(horizon[max(0, x - half):x + half + 1]) for x in range(len(horizon))])
    rows = np.arange(image.height, dtype=np.float32)[:, None]
    mask = 1 / (1 + np.exp((rows - horizon[None]) / (0.01 * image.height)))
    return Image.fromarray((mask * 255).round().astype(np.uint8))


def tile(image: Image.Image, square: bool = False) -> Image.Image:
    if square:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    return image.convert("RGB").resize((round(image.width * HEIGHT / image.height), HEIGHT), Image.LANCZOS)


def main(output: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        content = photo()
        content.thumbnail((768, 768))
        content.save(folder / "photo.png")
        mask = sky_mask(content)
        mask.save(folder / "sky.png")
        Image.fromarray(255 - np.asarray(mask)).save(folder / "ground.png")
        starry, woodcut = REPO / "examples" / "starry_night.jpg", second_style(folder)
        stylize_image(folder / "photo.png", [(starry, 1, folder / "sky.png"), (woodcut, 1, folder / "ground.png")],
                      folder / "out.png", device="cpu")
        tiles = [tile(content), tile(mask), tile(Image.open(starry), square=True),
                 tile(Image.open(woodcut), square=True), tile(Image.open(folder / "out.png"))]
    gap = 4
    picture = Image.new("RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), HEIGHT), "white")
    left = 0
    for t in tiles:
        picture.paste(t, (left, 0))
        left += t.width + gap
    output.parent.mkdir(parents=True, exist_ok=True)
    picture.save(output, quality=85)
    print(f"wrote {output} ({output.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "spatial_control.jpg")

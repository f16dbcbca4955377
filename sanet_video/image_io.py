"""Reading and writing still images as tensors, whatever their mode.

Grayscale, palette, RGBA/LA, CMYK, 16-bit and float images are all read as RGB in
[0, 1]; transparency is composited over white and handed back separately. The EXIF
orientation is applied. Images above :data:`MAX_PIXELS` are refused before they are
decoded.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from .errors import UserError
from .input_files import require_file

MAX_PIXELS = 50_000_000
"""Largest image accepted, in pixels (50 megapixels, e.g. 8660 x 5773)."""

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_FORMATS = ("PNG", "WEBP", "TIFF")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Pillow's warnings (a damaged tag, a large image...) silenced: what cannot be read raises instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def is_still_image(path: Path) -> bool:
    """Whether ``path`` holds a single still image, judged by its content, not its name.

    Animated images (GIF, APNG, WebP) count as videos; a multi-page TIFF is a still image
    (its first page: the pages of a document or a scan, not the frames of an animation).
    """
    try:
        with _quiet(), Image.open(path) as image:
            return image.format == "TIFF" or not getattr(image, "is_animated", False)
    except Image.DecompressionBombError:
        return True
    except Exception:  # Pillow's parsers fed damaged bytes raise anything (IndexError, struct.error...)
        return False


PILLOW_ANIMATIONS = ("WEBP",)
"""Animated formats that FFmpeg cannot decode and Pillow can."""


def pillow_animation(path: Path) -> bool:
    """Whether ``path`` holds an animation in one of PILLOW_ANIMATIONS, judged by its content."""
    try:
        with _quiet(), Image.open(path) as image:
            return image.format in PILLOW_ANIMATIONS and getattr(image, "is_animated", False)
    except Exception:  # as in is_still_image
        return False


def to_rgb8(image: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an 8-bit image, transparency composited over white as in :func:`read_image`."""
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
    alpha = rgba[..., 3:] / 255.0
    return (rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)


def open_image(path: Path, what: str) -> Image.Image:
    """Open an image lazily (header only), refusing unreadable and oversized files.

    Args:
        path: the file.
        what: what the image is for, as said in error messages ("style image").

    Raises:
        UserError: the file is missing, not a regular file, not an image, or has more than MAX_PIXELS pixels.
    """
    require_file(path, what, "give an image file")
    try:
        with _quiet():
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise _too_large(path, what, None) from None
    except (UnidentifiedImageError, OSError) as err:
        raise UserError(f"{what} {path} cannot be read as an image ({err}); "
                        "give a PNG, JPEG, WebP, TIFF or BMP file") from None
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise _too_large(path, what, image.size)
    return image


def _too_large(path: Path, what: str, size: tuple[int, int] | None) -> UserError:
    dims = f"{size[0]}x{size[1]} pixels" if size else "too large"
    return UserError(f"{what} {path} is {dims}, above the limit of {MAX_PIXELS // 1_000_000} megapixels; "
                     "downscale it first")


def read_image(path: Path, what: str = "image") -> tuple[Tensor, Tensor | None]:
    """An image as (3, H, W) float32 RGB in [0, 1], and its (H, W) alpha or None.

    Transparent pixels are composited over white, so the RGB stays meaningful where
    the alpha is zero.

    Raises:
        UserError: see :func:`open_image`; also a file that is cut short or corrupt.
    """
    with open_image(path, what) as image, _quiet():
        try:
            image.load()
            image = ImageOps.exif_transpose(image)
            array = _to_float_array(image)
        except Exception as err:  # as in is_still_image
            raise UserError(f"{what} {path} is truncated or corrupt ({err}); re-export or replace it") from None
    pixels = torch.from_numpy(array).permute(2, 0, 1)
    if pixels.shape[0] == 1:
        pixels = pixels.expand(3, -1, -1)
    if pixels.shape[0] == 4:
        rgb, alpha = pixels[:3], pixels[3]
        return (rgb * alpha + (1.0 - alpha)).contiguous(), alpha
    return pixels.contiguous(), None


def _to_float_array(image: Image.Image) -> np.ndarray:
    """(H, W, C) float32 in [0, 1] with C = 1 (gray), 3 (RGB) or 4 (RGBA)."""
    if image.mode in _SIXTEEN_BIT_MODES:
        return (np.asarray(image, dtype=np.float32) / 65535.0).clip(0.0, 1.0)[..., None]
    if image.mode == "F":
        return np.asarray(image, dtype=np.float32).clip(0.0, 1.0)[..., None]
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    mode = "RGBA" if has_alpha else ("L" if image.mode in ("1", "L") else "RGB")
    array = np.asarray(image.convert(mode), dtype=np.float32) / 255.0
    return array[..., None] if array.ndim == 2 else array


def resize_short_side(image: Tensor, size: int) -> Tensor:
    """Resize a (N, 3, H, W) image so its shorter side is ``size`` (antialiased bicubic)."""
    h, w = image.shape[-2:]
    scale = size / min(h, w)
    new = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(image, size=new, mode="bicubic", antialias=True, align_corners=False).clamp(0.0, 1.0)


def fit_within(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size after downscaling to at most ``max_side`` on the longer side (0: no limit).

    The aspect ratio is kept and each side is rounded down to an even number, the
    form 4:2:0 video needs; a size that already fits is returned unchanged.
    """
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def image_format(path: Path) -> str:
    """Pillow's format name for an output path, from its extension.

    Raises:
        UserError: an extension Pillow cannot write.
    """
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise UserError(f"cannot write an image as {path.name}: unknown extension {path.suffix or '(none)'}; "
                        "use .png, .jpg, .webp or .tif")
    return fmt


def write_image(path: Path, rgb: Tensor, alpha: Tensor | None, fmt: str) -> None:
    """Save (3, H, W) RGB in [0, 1] as 8-bit, with ``alpha`` where the format keeps it."""
    channels = [rgb] if alpha is None or fmt not in _ALPHA_FORMATS else [rgb, alpha[None]]
    array = torch.cat(channels).mul(255.0).round_().to(torch.uint8).permute(1, 2, 0).numpy()
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(array).save(path, format=fmt, **options)

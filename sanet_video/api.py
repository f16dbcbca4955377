"""The Python API: one call per image or video.

Example::

    from sanet_video import stylize_image, stylize_video
    summary = stylize_video("in.mp4", [("starry.jpg", 0.7), ("wave.jpg", 0.3)], "out.mp4", alpha=0.8)
    print(summary.frames, summary.fps)
    # Spatial control: a mask per style (a grayscale image, or for a video also a mask video)
    stylize_image("photo.jpg", [("starry.jpg", 1, "sky.png"), ("woodcut.jpg", 1, "ground.png")], "out.png")

Every keyword of :class:`~sanet_video.options.StylizeOptions` is accepted. To stylize
many files with the same styles, build one :class:`~sanet_video.stylist.Stylist`
and call it for each file: the model is loaded and the styles encoded once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from . import config
from .net import SANet
from .options import MASK_TAG, StylizeOptions
from .stylist import Stylist
from .video.pipeline import RunSummary

StylePath = str | PathLike
StyleItem = StylePath | tuple[StylePath, float] | tuple[StylePath, float, StylePath]
"""A style: its path, (path, weight), or (path, weight, mask)."""
Styles = StylePath | Sequence[StyleItem]


def _spec(item: StyleItem) -> str:
    """A style as a ``PATH[:WEIGHT][:mask=MASK]`` item."""
    if not isinstance(item, tuple):
        return str(item)
    path, weight, *mask = item
    return f"{path}:{weight}" + "".join(f"{MASK_TAG}{m}" for m in mask)


def _options(styles: Styles, options: StylizeOptions | None, overrides: dict[str, Any], caller: str) -> StylizeOptions:
    items = [styles] if isinstance(styles, (str, PathLike)) else list(styles)
    specs = [_spec(item) for item in items]
    base = dataclasses.asdict(options) if options is not None else {}
    return config.from_dict(StylizeOptions, {**base, **overrides, "styles": specs}, caller)


def stylize_image(content: StylePath, styles: Styles, output: StylePath, *,
                  options: StylizeOptions | None = None, model: SANet | None = None, **overrides: Any) -> RunSummary:
    """Stylize one image file into another (format from ``output``'s extension).

    Args:
        content: the photo: any mode Pillow reads (grayscale, RGBA, CMYK, 16-bit...).
        styles: a style image path, or a list of paths, (path, weight) pairs and
            (path, weight, mask) triples (spatial control: a mask each, or none); a path
            may also be written ``PATH[:WEIGHT][:mask=MASK]``.
        output: where to write the result.
        options: base options; ``overrides`` (any StylizeOptions field) win over them.
        model: an already loaded SANet, to skip loading it again.

    Returns:
        One frame, its size and the seconds it took.

    Raises:
        UserError: an unreadable input or style, an existing output without
            ``overwrite=True``, a missing output directory, or a bad option.
    """
    run = _options(styles, options, overrides, "stylize_image()")
    return Stylist(run, model).image(Path(content), Path(output))


def stylize_video(video: StylePath, styles: Styles, output: StylePath, *,
                  options: StylizeOptions | None = None, model: SANet | None = None, **overrides: Any) -> RunSummary:
    """Stylize a video file into another with the same length, timing, size and sound.

    Args:
        video: the input video.
        styles: as for :func:`stylize_image`; a mask may also be a mask video with the
            input's frame count (frame i masks frame i).
        output: where to write the result (container from the extension).
        options: base options; ``overrides`` (any StylizeOptions field) win over them.
        model: an already loaded SANet, to skip loading it again.

    Returns:
        Frames written, their size and the seconds it took.

    Raises:
        UserError: as :func:`stylize_image`, and for a video without video stream
            or frames, a corrupt file or an unsupported codec.
    """
    run = _options(styles, options, overrides, "stylize_video()")
    return Stylist(run, model).video(Path(video), Path(output))

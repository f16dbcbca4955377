"""The Python API: one call per image or video.

Example::

    from sanet_video import stylize_video
    summary = stylize_video("in.mp4", [("starry.jpg", 0.7), ("wave.jpg", 0.3)], "out.mp4", alpha=0.8)
    print(summary.frames, summary.fps)

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
from .options import StylizeOptions
from .stylist import Stylist
from .video.pipeline import RunSummary

StylePath = str | PathLike
Styles = StylePath | Sequence[StylePath | tuple[StylePath, float]]


def _options(styles: Styles, options: StylizeOptions | None, overrides: dict[str, Any], caller: str) -> StylizeOptions:
    items = [styles] if isinstance(styles, (str, PathLike)) else list(styles)
    specs = [f"{item[0]}:{item[1]}" if isinstance(item, tuple) else str(item) for item in items]
    base = dataclasses.asdict(options) if options is not None else {}
    return config.from_dict(StylizeOptions, {**base, **overrides, "styles": specs}, caller)


def stylize_image(content: StylePath, styles: Styles, output: StylePath, *,
                  options: StylizeOptions | None = None, model: SANet | None = None, **overrides: Any) -> RunSummary:
    """Stylize one image file into another (format from ``output``'s extension).

    Args:
        content: the photo: any mode Pillow reads (grayscale, RGBA, CMYK, 16-bit...).
        styles: a style image path, or a list of paths and (path, weight) pairs.
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
        styles: a style image path, or a list of paths and (path, weight) pairs.
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

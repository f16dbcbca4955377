"""The options of a stylization run, shared by the command line, YAML files and the Python API.

Every field of :class:`StylizeOptions` is a ``--field-name`` option and a key of
``configs/stylize.yaml``; see :mod:`sanet_video.config` for the precedence rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .accel import COMPILE_MODES
from .errors import UserError
from .temporal import TemporalConfig

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
CODECS = ("auto", "h264", "h265", "vp9")
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
PIX_FMTS = ("auto", "yuv420p", "yuv444p")
MIN_MAX_SIDE = 16
"""Smallest ``max_side``: the network's deepest features are 16 times smaller than the frame."""


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class StylizeOptions(TemporalConfig):
    """How to stylize an image or a video; the defaults are those of ``configs/stylize.yaml``.

    The temporal-smoothing fields (``temporal``, ``sigma``, ``blend``, ``flow``...) come from
    :class:`~sanet_video.temporal.TemporalConfig`; they apply to videos only.
    """

    styles: list[str] = field(default_factory=list, metadata=_help(
        "style image, optionally with a mixing weight and a mask: PATH[:WEIGHT][:mask=MASK]; repeat to mix "
        "styles, with a mask each to give them regions (a weight then scales the mask)"))
    alpha: float = field(default=1.0, metadata=_help("style strength, 0 (content) to 1 (full style)"))
    style_size: int = field(default=512, metadata=_help(
        "resize each style image so its shorter side has this many pixels; 0 keeps its size"))
    preserve_color: bool = field(default=False, metadata=_help(
        "keep the colours of the content (luminance-only transfer, Gatys et al. 2016)"))
    max_side: int = field(default=0, metadata=_help(
        "downscale content larger than this on its longer side (sides rounded to even numbers); 0 keeps the size, "
        "else at least 16"))
    start: float = field(default=0.0, metadata=_help("video: skip this many seconds from the start"))
    duration: float | None = field(default=None, metadata=_help("video: stylize at most this many seconds"))
    batch_size: int = field(default=4, metadata=_help("video frames stylized together"))
    device: str = field(default="auto", metadata=_help("auto (CUDA if available, else CPU), cpu, cuda, cuda:N, mps"))
    precision: str = field(default="auto", metadata=_help(
        "auto (bf16 on CUDA and on CPUs with native bf16, else fp32), fp32, bf16 or fp16 (CUDA only)"))
    compile: str = field(default="off", metadata=_help(
        "torch.compile the convolutions: off, default, max-autotune, max-autotune-no-cudagraphs or "
        "reduce-overhead (a one-off compilation per frame size; pays off on long videos)"))
    weights: str = field(default="default", metadata=_help("which shipped SANet weights to use"))
    codec: str = field(default="auto", metadata=_help(
        "video encoder: auto (H.264, or VP9 where the container needs it), h264, h265, vp9"))
    crf: int | None = field(default=None, metadata=_help(
        "constant quality, lower is better (default: 18 for h264, 22 for h265, 32 for vp9)"))
    preset: str = field(default="medium", metadata=_help("encoder speed/size trade-off, ultrafast .. veryslow"))
    pix_fmt: str = field(default="auto", metadata=_help(
        "auto (yuv420p; yuv444p for odd sizes with h264/h265), yuv420p or yuv444p"))
    overwrite: bool = field(default=False, metadata=_help("replace an existing output file"))
    quiet: bool = field(default=False, metadata=_help("no progress bar and no summary line"))

    def check(self) -> None:
        """Refuse values out of range, in one line each.

        Raises:
            UserError: an option has a value it cannot take.
        """
        super().check()
        _choice("device", self.device.split(":")[0], DEVICES)
        _choice("precision", self.precision, PRECISIONS)
        _choice("compile", self.compile, COMPILE_MODES)
        _choice("codec", self.codec, CODECS)
        _choice("preset", self.preset, PRESETS)
        _choice("pix_fmt", self.pix_fmt, PIX_FMTS)
        if not 0.0 <= self.alpha <= 1.0:
            raise UserError(f"alpha must be between 0 and 1, got {self.alpha}")
        for name in ("style_size", "max_side", "start"):
            if getattr(self, name) < 0:
                raise UserError(f"{name.replace('_', '-')} must not be negative, got {getattr(self, name)}")
        if 0 < self.max_side < MIN_MAX_SIDE:
            raise UserError(f"max-side must be 0 (keep the size) or at least {MIN_MAX_SIDE}, got {self.max_side}")
        if self.duration is not None and self.duration <= 0:
            raise UserError(f"duration must be positive, got {self.duration}; leave it out to go to the end")
        if self.batch_size < 1:
            raise UserError(f"batch-size must be at least 1, got {self.batch_size}")
        if self.crf is not None and not 0 <= self.crf <= 63:
            raise UserError(f"crf must be between 0 and 51 (h264, h265) or 63 (vp9), got {self.crf}")
        parse_styles(self.styles)


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UserError(f"{name.replace('_', '-')} must be one of {', '.join(choices)}; got {value!r}")


def parse_styles(specs: list[str]) -> list[tuple[Path, float]]:
    """Style images and their mixing weights from ``PATH`` or ``PATH:WEIGHT`` items.

    A suffix after the last colon is a weight only where it reads as a number, so
    paths that contain colons still work. Weights default to 1 and are normalised
    by the model.

    Raises:
        UserError: no style, a negative or non-finite weight, all weights zero, or
            weights whose sum overflows.
    """
    if not specs:
        raise UserError("no style image given; pass one as STYLE or with --style PATH[:WEIGHT]")
    styles = []
    for spec in (split_mask(item)[0] for item in specs):
        path, weight = spec, 1.0
        head, sep, tail = spec.rpartition(":")
        if sep:
            try:
                path, weight = head, float(tail)
            except ValueError:
                pass
        if not math.isfinite(weight):
            raise UserError(f"style weight must be a finite number in {spec!r}; give e.g. {head}:0.5")
        if weight < 0:
            raise UserError(f"style weight must not be negative in {spec!r}")
        styles.append((Path(path), weight))
    total = sum(weight for _, weight in styles)
    if not math.isfinite(total):
        raise UserError("style weights are too large (their sum overflows); give relative weights such as 0.7 and 0.3")
    if total <= 0:
        raise UserError("style weights are all zero; give at least one style a positive weight")
    return styles


MASK_TAG = ":mask="


def split_mask(spec: str) -> tuple[str, Path | None]:
    """A ``PATH[:WEIGHT][:mask=MASK]`` style item as ``PATH[:WEIGHT]`` and the mask's path (None: no mask).

    Raises:
        UserError: ``:mask=`` with no path after it.
    """
    style, tag, mask = spec.partition(MASK_TAG)
    if tag and not mask:
        raise UserError(f"style {spec!r} ends in {MASK_TAG!r} without a mask file; give {style}{MASK_TAG}MASK.png")
    return style, Path(mask) if tag else None


def parse_masks(specs: list[str]) -> list[Path] | None:
    """The mask of each style from ``PATH[:WEIGHT][:mask=MASK]`` items, or None where no style has one.

    Raises:
        UserError: some styles have a mask and others not (every region needs its style).
    """
    masks = [split_mask(spec)[1] for spec in specs]
    paths = [mask for mask in masks if mask is not None]
    if paths and len(paths) < len(masks):
        bare = specs[masks.index(None)]
        raise UserError(f"style {bare!r} has no mask but others have one; give every style a mask "
                        f"({bare}{MASK_TAG}MASK.png), or none")
    return paths or None

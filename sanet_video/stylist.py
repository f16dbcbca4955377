"""A model with its styles encoded, ready to stylize any number of images and videos.

:class:`Stylist` reads the style images and encodes them once; each call then
stylizes one input, image or video (told apart by content), into one output file,
written whole or not at all (:mod:`sanet_video.outputs`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import torch
import torch.nn.functional as F
from PIL import Image

from .accel import optimize
from .devices import resolve_device, resolve_precision
from .errors import UserError
from .image_io import (MAX_PIXELS, fit_within, image_format, is_still_image, read_image, resize_short_side,
                       write_image)
from .input_files import require_file
from .masks import FrameMasks, is_mask_video
from .net import SANet, StyleCode
from .options import StylizeOptions, parse_masks, parse_styles
from .outputs import atomic_output, check_output, write_error
from .video.animation import open_video
from .video.pipeline import FrameBatch, RunSummary, run
from .video.sink import VideoSink, check_video_output
from .video.stylizer import FrameStylizer, StylizerOptions
from .temporal import TemporalConfig
from .weights import load_sanet


def temporal_config(options: StylizeOptions) -> TemporalConfig:
    """The temporal-smoothing part of the options."""
    return TemporalConfig(**{f.name: getattr(options, f.name) for f in dataclasses.fields(TemporalConfig)})


def read_files(options: StylizeOptions, source: Path) -> list[Path]:
    """Every file a run on ``source`` reads, which its output must not replace: the input, the styles, the masks."""
    return [source, *(path for path, _ in parse_styles(options.styles)), *(parse_masks(options.styles) or [])]


def check_run(options: StylizeOptions, source: Path, output: Path) -> bool:
    """Check what a run can check in a moment, before the model loads: the input is a regular
    file, and the output path, its format and the encoder options suit it.

    Returns:
        Whether ``source`` is a still image.

    Raises:
        UserError: what is wrong, in one line.
    """
    require_file(source, "input", "give a video or an image file (or use the batch command)")
    still = is_still_image(source)
    if still:
        _check_image_run(options, source, output)
    else:
        _check_video_run(options, source, output)
    return still


def _check_image_run(options: StylizeOptions, source: Path, output: Path) -> str:
    """Check the output of an image run; returns its Pillow format."""
    check_output(output, options.overwrite, read_files(options, source))
    if output.suffix.lower() not in Image.registered_extensions():
        raise UserError(f"input {source} is an image, so the output must be an image file "
                        f"(.png, .jpg, .webp, .tif), not {output.name}")
    return image_format(output)


def _check_video_run(options: StylizeOptions, source: Path, output: Path) -> None:
    """Check the output of a video run: its path, container and encoder options."""
    check_output(output, options.overwrite, read_files(options, source))
    if output.suffix.lower() in Image.registered_extensions():
        raise UserError(f"input {source} is a video, so the output must be a video file "
                        f"(.mp4, .mkv, .mov, .webm), not {output.name}")
    check_video_output(output, options)


def _transparent(frame: av.VideoFrame) -> bool:
    """Whether ``frame`` has an alpha channel that is not opaque everywhere."""
    if not any(component.is_alpha for component in frame.format.components):
        return False
    return bool(frame.to_ndarray(format="rgba")[..., 3].min() < 255)


class Stylist:
    """Stylizes images and videos with the styles and settings of ``options``.

    Args:
        options: the run's options (``options.styles`` must name at least one style).
        model: an already loaded SANet (used on its own device when ``options.device`` is
            "auto", else moved to that device); loaded from ``options.weights`` if omitted.

    Raises:
        UserError: a style image cannot be read, a mask is neither an image nor a video, or
            the device or precision is not available.
    """

    def __init__(self, options: StylizeOptions, model: SANet | None = None) -> None:
        options.check()
        self.options = options
        # A given model's device stands for "auto"; an explicit --device moves it there.
        self.device = (next(model.parameters()).device if model is not None and options.device == "auto"
                       else resolve_device(options.device))
        autocast = resolve_precision(options.precision, self.device)
        specs = parse_styles(options.styles)
        self.masks = parse_masks(options.styles)
        for mask in self.masks or []:
            is_mask_video(mask)  # a missing or unreadable mask is refused before the model loads
        images = [self._style_image(path) for path, _ in specs]
        model = model.to(self.device) if model is not None else load_sanet(weights=options.weights, device=self.device)
        self.model = optimize(model, self.device, options.compile)
        with torch.inference_mode(), self._memory("the style images", "a smaller --style-size"):
            self.styles: list[StyleCode] = [self.model.encode_style(image.to(self.device)) for image in images]
        self.stylizer_options = StylizerOptions(
            style_weights=tuple(weight for _, weight in specs), alpha=options.alpha,
            preserve_color=options.preserve_color, autocast=autocast, temporal=temporal_config(options),
            full_batches=options.compile != "off")

    def _style_image(self, path: Path) -> torch.Tensor:
        image = read_image(path, "style image")[0][None]
        size = self.options.style_size
        if not size:
            return image
        height, width = image.shape[-2:]
        if size * size * max(width, height) / min(width, height) > MAX_PIXELS:
            raise UserError(f"--style-size {size} would make style image {path} larger than "
                            f"{MAX_PIXELS // 1_000_000} megapixels; use a smaller --style-size (default 512)")
        return resize_short_side(image, size)

    def new_stylizer(self, still: bool = False, masks: FrameMasks | None = None) -> FrameStylizer:
        """A fresh per-stream stylizer (no state carried from earlier inputs), with ``masks`` if any.

        A still image is stylized without temporal smoothing.
        """
        options = self.stylizer_options
        if still:
            options = dataclasses.replace(options, temporal=TemporalConfig(temporal="off"))
        return FrameStylizer(self.model, self.styles, options, None if masks is None else masks.take)

    def frame_masks(self, width: int, height: int, source: VideoSource | None = None) -> FrameMasks | None:
        """The styles' masks for frames of ``width`` x ``height`` of one input (a video's ``source``); None
        without masks."""
        if self.masks is None:
            return None
        return FrameMasks(self.masks, self.stylizer_options.style_weights, (height, width), self.device, source)

    def stylize(self, source: Path, output: Path, on_frames: Callable[[int], None] | None = None) -> RunSummary:
        """Stylize an image or a video, told apart by the file's content (``on_frames``: see :meth:`video`)."""
        if check_run(self.options, source, output):
            return self.image(source, output)
        return self.video(source, output, on_frames)

    def image(self, source: Path, output: Path) -> RunSummary:
        """Stylize one image into an image file whose format follows ``output``'s extension."""
        fmt = _check_image_run(self.options, source, output)
        began = time.perf_counter()
        rgb, alpha = read_image(source, "input image")
        width, height = fit_within(rgb.shape[2], rgb.shape[1], self.options.max_side)
        if (width, height) != (rgb.shape[2], rgb.shape[1]):
            rgb = F.interpolate(rgb[None], size=(height, width), mode="bicubic", antialias=True)[0].clamp(0, 1)
            if alpha is not None:
                alpha = F.interpolate(alpha[None, None], size=(height, width), mode="bilinear", antialias=True)[0, 0]
        pixels = rgb.mul(255.0).round().to(torch.uint8).permute(1, 2, 0)[None].numpy()
        stylizer = self.new_stylizer(still=True, masks=self.frame_masks(width, height))
        with torch.inference_mode(), self._memory(f"a {width}x{height} image", "--max-side (e.g. 1024)"):
            out = stylizer(pixels, rgb[None].to(self.device))[0].cpu()
        with atomic_output(output, self.options.overwrite) as temp:
            try:
                write_image(temp, out, alpha, fmt)
            except OSError as err:
                raise write_error(output.parent, err.strerror or str(err)) from None
        return RunSummary(1, time.perf_counter() - began, width, height)

    def video(self, source: Path, output: Path, on_frames: Callable[[int], None] | None = None) -> RunSummary:
        """Stylize one video into a video file whose container follows ``output``'s extension.

        ``on_frames``, if given, is told the number of frames of each batch once it is written.
        """
        _check_video_run(self.options, source, output)
        video = open_video(source, self.options.start, self.options.duration)
        masks = None
        try:
            first = video.first_frame
            width, height = fit_within(first.width, first.height, self.options.max_side)
            masks = self.frame_masks(width, height, video)
            # A short clip needs no batch buffer larger than itself.
            capacity = max(1, min(self.options.batch_size, video.estimated_frames() or self.options.batch_size))
            advice = f"a smaller --batch-size (now {self.options.batch_size}) or --max-side (e.g. 720)"
            with self._memory(f"batches of {capacity} frames of {width}x{height}", advice):
                batch = FrameBatch(capacity, width, height, self.device)
                with atomic_output(output, self.options.overwrite) as temp:
                    sink = VideoSink(temp, video, width, height, self.options)
                    try:
                        summary = run(video, sink, self.new_stylizer(masks=masks), batch,
                                      progress=not self.options.quiet, on_frames=on_frames)
                        if masks is not None:
                            masks.finish(summary.frames)
                    except BaseException:
                        sink.abort()
                        raise
                    sink.close()
            lost = video.frame_loss(summary.frames)
            alpha = (f"input {source} is transparent in places; the output video has no alpha channel, so the "
                     "transparency is dropped") if _transparent(video.first_frame) else None
        finally:
            if masks is not None:
                masks.close()
            video.close()
        retimed = (f"input {source}: the timestamps of {sink.retimed} video frame{'s' * (sink.retimed > 1)} go back "
                   "or repeat; each was moved to just after the frame before it") if sink.retimed else None
        return dataclasses.replace(summary, warnings=tuple(text for text in (lost, retimed, alpha) if text))

    @contextlib.contextmanager
    def _memory(self, work: str, advice: str) -> Iterator[None]:
        """Turn running out of memory on the device (or the host) into one line: ``work`` needs less, use ``advice``."""
        try:
            yield
        except (torch.OutOfMemoryError, MemoryError, RuntimeError) as err:
            if not isinstance(err, (torch.OutOfMemoryError, MemoryError)) and "can't allocate memory" not in str(err):
                raise
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            raise UserError(f"out of memory on {self.device} for {work}; use {advice}") from None

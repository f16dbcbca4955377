"""Spatial control: the masks that say where each style goes, read and resized to the frame.

A mask is a grayscale image: its luminance is the style's coverage, white (1) meaning
"this style here" and black (0) "not this style" (a colour image counts by its
luminance, transparent pixels count as black). Any size is resized to the frame. For
a video, a mask may also be a **mask video**, e.g. exported from an editor's
rotoscoping: frame i is the mask of the input's frame i, so it must have as many frames
(the same ``start`` and ``duration`` are applied to it). How the model combines the
coverages of several styles, and of none, is told in :meth:`sanet_video.net.SANet.stylize`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import av.error
import torch
import torch.nn.functional as F
from torch import Tensor

from .color import rgb_to_ycbcr
from .errors import UserError
from .image_io import is_still_image, read_image
from .video.source import VideoSource, open_input

_FIX_BLACK = "paint where the style goes in white (or grey for less), or drop the mask"


def luminance(rgb: Tensor) -> Tensor:
    """(N, 3, H, W) RGB in [0, 1] to (N, H, W) luminance (BT.601 Y), clamped to [0, 1]."""
    return rgb_to_ycbcr(rgb)[:, 0].clamp(0.0, 1.0)


def _resize(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """(N, h, w) to (N, *size), antialiased when shrinking."""
    if tuple(mask.shape[-2:]) == size:
        return mask
    return F.interpolate(mask[:, None], size=size, mode="bilinear", antialias=True)[:, 0].clamp(0.0, 1.0)


def is_mask_video(path: Path) -> bool:
    """Whether the mask file ``path`` is a video (else an image).

    Raises:
        UserError: the file is missing, or neither an image nor a video.
    """
    if path.is_dir() or not path.is_file():
        raise UserError(f"mask {path} {'is a folder' if path.is_dir() else 'not found'}; "
                        "give a grayscale image (or, for a video, a mask video)")
    if is_still_image(path):
        return False
    try:
        with open_input(path) as container:
            if container.streams.video:
                return True
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        pass
    raise UserError(f"mask {path} is neither an image nor a video; give a grayscale PNG or JPEG "
                    "(or, for a video, a mask video of the same length)")


def read_mask(path: Path, size: tuple[int, int]) -> Tensor:
    """A mask image as its (H, W) coverage in [0, 1], resized to ``size`` (height, width).

    Raises:
        UserError: the image cannot be read, or is black everywhere.
    """
    rgb, alpha = read_image(path, "mask")
    mask = luminance(rgb[None])
    if alpha is not None:  # read_image composited over white; count transparency as black instead
        mask = (mask - (1.0 - alpha)).clamp_min(0.0)
    if not mask.max() > 0:
        raise UserError(f"mask {path} is black everywhere, so its style would go nowhere; {_FIX_BLACK}")
    return _resize(mask, size)[0]


class MaskVideo:
    """The frames of a mask video, read in step with the input's frames.

    Args:
        path: the mask video.
        source: the input video, whose range (``start``, ``duration``) the mask follows.
        size: (height, width) of the frames the masks are for.

    Raises:
        UserError: the file cannot be read as a video, or the headers say that it and the
            input differ by more than a frame (rounding); :meth:`finish` checks the exact count.
    """

    def __init__(self, path: Path, source: VideoSource, size: tuple[int, int]) -> None:
        self.path, self.size, self.source = path, size, source
        self.video = VideoSource(path, source.offset, None if source.end is None else source.end - source.start)
        try:
            mine, theirs = self.video.estimated_frames(), source.estimated_frames()
            if mine is not None and theirs is not None and abs(mine - theirs) > 1:
                raise self._wrong_length(mine, theirs)
        except BaseException:
            self.video.close()
            raise
        self._frames = (item for item in self.video if isinstance(item, av.VideoFrame))
        self._last = torch.zeros(size)
        self.decoded = 0
        self.peak = 0.0

    def _wrong_length(self, mine: int, theirs: int) -> UserError:
        span = " in the chosen range" if self.source.offset or self.source.end is not None else ""
        return UserError(f"mask video {self.path} has {mine} frames{span} but input {self.source.path} has {theirs}; "
                         "export the mask for the same frames as the input")

    def take(self, count: int) -> Tensor:
        """The next ``count`` masks, (count, H, W); past the mask's end its last frame repeats
        (:meth:`finish` then refuses the run)."""
        masks = []
        for _ in range(count):
            frame = next(self._frames, None)
            if frame is not None:
                rgb = frame.reformat(self.size[1], self.size[0], "rgb24", interpolation="AREA").to_ndarray()
                self._last = luminance(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255.0)[0]
                self.decoded += 1
                self.peak = max(self.peak, float(self._last.max()))
            masks.append(self._last)
        return torch.stack(masks)

    def finish(self, frames: int) -> None:
        """Check that the mask had exactly ``frames`` frames and was not black throughout.

        Raises:
            UserError: it had more or fewer, or was black in every frame.
        """
        total = self.decoded + sum(1 for _ in self._frames)
        if total != frames:
            raise self._wrong_length(total, frames)
        if not self.peak > 0:
            raise UserError(f"mask video {self.path} is black in every frame, so its style would go nowhere; "
                            f"{_FIX_BLACK}")

    def close(self) -> None:
        self.video.close()


class FrameMasks:
    """The masks of a run's styles for the frames of one input, each scaled by its style's weight.

    Args:
        paths: one mask file per style.
        weights: the styles' weights; with masks a weight multiplies its style's coverage.
        size: (height, width) of the frames.
        device: where the model runs.
        source: the input video; None for a still image, which takes no mask video.

    Raises:
        UserError: a mask that cannot be read, is black everywhere, is a video for a still
            image, or a mask video of another length than the input.
    """

    def __init__(self, paths: Sequence[Path], weights: Sequence[float], size: tuple[int, int],
                 device: torch.device, source: VideoSource | None = None) -> None:
        self.weights, self.device = list(weights), device
        self.videos: dict[int, MaskVideo] = {}
        fixed: dict[int, Tensor] = {}
        try:
            for index, path in enumerate(paths):
                if not is_mask_video(path):
                    fixed[index] = read_mask(path, size).to(device) * self.weights[index]
                elif source is None:
                    raise UserError(f"mask {path} is a video, but the input is a still image; give a mask image")
                else:
                    self.videos[index] = MaskVideo(path, source, size)
        except BaseException:
            self.close()
            raise
        self.fixed = fixed

    def take(self, count: int) -> Tensor:
        """The masks of the next ``count`` frames: (styles, H, W) while every mask is an image,
        else (count, styles, H, W)."""
        if not self.videos:
            return torch.stack([self.fixed[index] for index in range(len(self.weights))])
        per_style = [self.videos[index].take(count).to(self.device) * self.weights[index] if index in self.videos
                     else self.fixed[index].expand(count, -1, -1) for index in range(len(self.weights))]
        return torch.stack(per_style, dim=1)

    def finish(self, frames: int) -> None:
        """After the input's last frame: check each mask video (see :meth:`MaskVideo.finish`)."""
        for video in self.videos.values():
            video.finish(frames)

    def close(self) -> None:
        for video in self.videos.values():
            video.close()

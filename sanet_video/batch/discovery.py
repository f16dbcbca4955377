"""Finding the work: the images and videos under a folder, and the style images.

Files are told apart by content (:func:`classify`); a file that cannot be read but
whose extension says image or video is kept, so that its job fails with a reason
instead of vanishing (an animated GIF is a video). Hidden files and folders (names starting with a dot) are
skipped; symbolic links are followed, each real folder is visited once (so link
loops end), and the output folder is left out when it lies inside the input folder.
In a folder of styles, ``NAME.mask.EXT`` is the mask of style ``NAME`` (spatial control,
:mod:`sanet_video.masks`), not a style.

Links that lead out of the input folder are skipped and reported unless asked for (a
private file linked from elsewhere is not stylized by surprise); so are pipes, devices
and sockets (reading one would block or never end).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import av.error

from ..errors import UserError
from ..image_io import is_still_image, pillow_animation
from ..input_files import not_regular, require_file
from ..options import parse_styles, split_mask
from ..video.source import VideoSource, open_input, video_streams

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".wmv", ".flv", ".gif")


@dataclass(frozen=True)
class MediaFile:
    """An input found under the input folder.

    Attributes:
        path: the file, as reached from the input folder (links not resolved).
        relative: ``path`` relative to the input folder.
        kind: "image" or "video".
    """

    path: Path
    relative: Path
    kind: str


@dataclass(frozen=True)
class Style:
    """A style image, the name its outputs carry (the file's stem) and its mask, if any."""

    name: str
    path: Path
    mask: Path | None = None


def classify(path: Path) -> str | None:
    """"image", "video" or None (not a picture: text, audio, ...), by content, else by extension.

    A file named as an image that Pillow cannot open is a (broken) image, whatever FFmpeg makes of it.
    """
    if is_still_image(path):
        return "image"
    if pillow_animation(path):
        return "video"
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return "image"
    try:
        with open_input(path) as container:
            if video_streams(container):
                return "video"
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        pass
    return "video" if path.suffix.lower() in VIDEO_SUFFIXES else None


def _visible(name: str) -> bool:
    return not name.startswith(".")


def _key(path: str | Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _leaves(path: Path, root: Path) -> bool:
    """Whether ``path`` is a symbolic link whose target lies outside ``root`` (a resolved path)."""
    return path.is_symlink() and not path.resolve().is_relative_to(root)


def find_media(root: Path, exclude: Path | None = None,
               follow_outside: bool = False) -> tuple[list[MediaFile], list[str]]:
    """Every image and video under ``root``, in sorted order, and what was skipped, with why (one line each):
    folders that could not be read, links out of ``root``, pipes, devices and sockets.

    Args:
        root: the input folder.
        exclude: a folder to leave out (the output folder), if it exists.
        follow_outside: also follow symbolic links whose target lies outside ``root``.
    """
    skipped: list[str] = []
    real_root = root.resolve()

    def inside(folder: str, name: str) -> bool:
        if follow_outside or not _leaves(Path(folder, name), real_root):
            return True
        skipped.append(f"{Path(folder, name)} links outside {root} (--follow-symlinks takes it)")
        return False

    seen = {_key(exclude)} if exclude is not None and exclude.is_dir() else set()
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True,
                                       onerror=lambda err: skipped.append(f"cannot read folder {err.filename}")):
        dirs[:] = sorted(name for name in dirs if _visible(name) and inside(folder, name))
        key = _key(folder)
        if key in seen:
            dirs[:] = []
            continue
        seen.add(key)
        for name in sorted(name for name in files if _visible(name) and inside(folder, name)):
            path = Path(folder, name)
            try:
                special = not_regular(path.stat().st_mode)
            except OSError:  # a broken link
                continue
            if special is not None:  # reading it would block or never end
                skipped.append(f"{path} is {special}, not a regular file")
                continue
            kind = classify(path)
            if kind is not None:
                found.append(MediaFile(path, path.relative_to(root), kind))
    return found, skipped


MASK_SUFFIX = ".mask"
"""``NAME.mask.EXT`` in a folder of styles is the mask of style ``NAME``."""


def _folder_styles(folder: Path) -> list[Style]:
    """The styles of a folder: its images but masks, each with its ``NAME.mask.EXT`` if there is one.

    Raises:
        UserError: a folder without style images, a mask without its style, or a style with two masks.
    """
    files = [p for p in sorted(folder.iterdir()) if _visible(p.name) and p.is_file()]
    masks: dict[str, Path] = {}
    for mask in (p for p in files if p.stem.endswith(MASK_SUFFIX)):
        name = mask.stem.removesuffix(MASK_SUFFIX)
        if name in masks:
            raise UserError(f"style {name} in {folder} has two masks, {masks[name].name} and {mask.name}; "
                            "keep one")
        masks[name] = mask
    images = [p for p in files if not p.stem.endswith(MASK_SUFFIX) and classify(p) == "image"]
    if not images:
        raise UserError(f"style folder {folder} holds no image; put style images in it or name them")
    orphans = sorted(set(masks) - {p.stem for p in images})
    if orphans:
        raise UserError(f"mask {masks[orphans[0]]} belongs to no style: {folder} has no style image named "
                        f"{orphans[0]}; name a mask after its style (NAME.mask.png next to NAME.jpg) or remove it")
    return [Style(p.stem, p, masks.get(p.stem)) for p in images]


def find_styles(specs: list[str]) -> list[Style]:
    """The style images named by ``specs``: image files, or folders whose images each are a style.

    A style file may carry a mask (``PATH:mask=MASK``); a folder's styles take their masks
    from it (``NAME.mask.EXT``).

    Raises:
        UserError: a path that does not exist, a mixing weight (a batch applies each
            style on its own), a folder without images, a mask given to a folder, a mask
            without its style, or two styles of the same name.
    """
    styles = []
    for spec, (path, weight) in zip(specs, parse_styles(specs), strict=True):
        mask = split_mask(spec)[1]  # each style on its own: some may have a mask, others not
        path = path.absolute()  # workers elsewhere must find it
        if weight != 1.0:
            raise UserError(f"style {spec!r} has a weight, but a batch applies each style on its own; drop the weight")
        if path.is_dir():
            if mask is not None:
                raise UserError(f"style folder {path} is given a mask; put each style's mask next to it in the "
                                f"folder instead (NAME{MASK_SUFFIX}.png next to NAME.jpg)")
            styles += _folder_styles(path)
        else:
            require_file(path, "style image", "give an image file")
            styles.append(Style(path.stem, path, None if mask is None else mask.absolute()))
    unique: dict[Path, Style] = {}
    for style in styles:  # each file once, where it first appears
        unique.setdefault(style.path.resolve(), style)
    styles = list(unique.values())
    names = [style.name for style in styles]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise UserError(f"several styles are named {', '.join(twice)} (outputs are named after the style's file "
                        "name); rename one of them")
    return styles


def estimate_frames(media: MediaFile, start: float, duration: float | None) -> int:
    """About how many frames stylizing ``media`` writes (1 for an image; 1 where a video cannot tell)."""
    if media.kind == "image":
        return 1
    try:
        source = VideoSource(media.path, start, duration)
    except UserError:
        return 1
    try:
        return source.estimated_frames() or 1
    finally:
        source.close()

"""The command line: ``python -m sanet_video [COMMAND] ...``.

Commands live in :data:`COMMANDS`; the first argument picks one, and anything that
is not a command name means ``stylize``, so ``python -m sanet_video in.mp4 style.jpg
out.mp4`` works. A later command (e.g. ``batch``) adds its entry there and reuses
:func:`add_stylize_options` and :class:`~sanet_video.stylist.Stylist`.

Errors the user can fix print one line, ``error: ...``, on stderr and exit with 1;
Ctrl-C, SIGTERM or SIGHUP (a closed terminal) exits with 130 and leaves no output file
behind. Warnings about a finished run (frames the input had but that could not be
decoded...) print ``warning: ...`` lines on stderr, also under ``--quiet``. A closed
stdout (``... | head``) only loses the summary line.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from . import __version__, config
from .errors import UserError
from .options import StylizeOptions
from .stylist import Stylist, check_run

_FLAGS = ("preserve_color", "overwrite", "quiet", "scene_cuts")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one-line UserErrors."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message}; see {self.prog} --help")


def add_stylize_options(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``--style`` and one option per field of StylizeOptions."""
    parser.add_argument("--config", metavar="YAML", help="read options from this file (command-line options win)")
    parser.add_argument("--style", dest="styles", action="append", metavar="PATH[:WEIGHT][:mask=MASK]",
                        help="a style image, optionally weighted; repeat to mix styles; with a mask each, "
                             "styles take regions (MASK: grayscale image or mask video, white = this style)")
    config.add_arguments(parser, StylizeOptions, skip=("styles", *_FLAGS))
    for name in _FLAGS:
        field = StylizeOptions.__dataclass_fields__[name]
        parser.add_argument("--" + name.replace("_", "-"), dest=name, action=argparse.BooleanOptionalAction,
                            default=None, help=field.metadata["help"])


def _stylize_parser() -> _Parser:
    parser = _Parser(
        prog="python -m sanet_video",
        usage="%(prog)s [stylize] INPUT [STYLE] OUTPUT [options]",
        description="Stylize a video or an image with SANet; videos keep their length, timing, size and sound.",
        epilog="Examples:\n"
               "  python -m sanet_video examples/city.mp4 examples/starry_night.jpg /tmp/city_starry.mp4\n"
               "  python -m sanet_video photo.jpg --style a.jpg:0.7 --style b.jpg:0.3 out.png\n"
               "  python -m sanet_video photo.jpg --style sky.jpg:mask=sky.png --style land.jpg:mask=land.png out.png\n"
               "  python -m sanet_video in.mkv style.jpg out.mkv --config configs/stylize.yaml --alpha 0.8",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", metavar="INPUT [STYLE] OUTPUT",
                        help="the video or image, the style image (or use --style), and the output file; "
                             "after a lone -- every argument is a path, also one that starts with -")
    parser.add_argument("--version", action="version", version=f"sanet-video {__version__}")
    add_stylize_options(parser)
    return parser


def stylize_command(argv: Sequence[str]) -> int:
    """``stylize INPUT [STYLE] OUTPUT [options]``: one image or video."""
    parser = _stylize_parser()
    # argparse's intermixed parsing loses a lone "--": split there, what follows is paths only.
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_intermixed_args(argv[:split])
    args.paths += argv[split + 1:]
    if len(args.paths) not in (2, 3):
        parser.error(f"expected INPUT [STYLE] OUTPUT, got {len(args.paths)} paths")
    source, *style, output = args.paths
    if style or args.styles:
        args.styles = style + (args.styles or [])
    options = config.resolve(StylizeOptions, args, args.config)
    check_run(options, Path(source), Path(output))  # before the model loads
    summary = Stylist(options).stylize(Path(source), Path(output))
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not options.quiet:
        size = f"{summary.width}x{summary.height}"
        rate = "" if summary.frames == 1 else f"{summary.frames} frames of {size} in {summary.seconds:.2f} s " \
                                                f"({summary.fps:.1f} fps)"
        say(f"{output}: {rate or f'{size} in {summary.seconds:.2f} s'}")
    return 0


def say(text: str) -> None:
    """Print ``text`` on stdout, file names that are not valid UTF-8 escaped; a closed stdout
    (``... | head``) loses it without an error, the work being done."""
    encoding = sys.stdout.encoding or "utf-8"
    try:
        print(text.encode(encoding, "backslashreplace").decode(encoding), flush=True)
    except BrokenPipeError:  # and no complaint when Python flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def batch_command(argv: Sequence[str]) -> int:
    """``batch IN_DIR OUT_DIR [options]``: a folder times a set of styles (:mod:`sanet_video.batch`)."""
    from .batch.command import batch_command as run  # imported here: it builds on this module

    return run(argv)


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {"stylize": stylize_command, "batch": batch_command}


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "stylize"
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        return COMMANDS[command](argv)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130

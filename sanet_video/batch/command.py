"""``python -m sanet_video batch IN_DIR OUT_DIR --style S [--style S2 ...] [options]``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import config
from ..cli import _Parser, add_stylize_options, say
from ..options import StylizeOptions
from .manifest import MANIFEST
from .options import BatchOptions
from .runner import run_batch

EXIT_FAILED = 2
"""The exit code when the batch ran to its end but some jobs failed."""


def _parser() -> _Parser:
    parser = _Parser(
        prog="python -m sanet_video batch",
        usage="%(prog)s IN_DIR OUT_DIR (--style IMAGE | --styles DIR)... [options]",
        description="Stylize every video and image under IN_DIR (recursively, told apart by content) with every "
                    "style, into the same tree under OUT_DIR, named {stem}__{style}.{ext}. Resumable: a re-run "
                    f"skips what is done and unchanged (see OUT_DIR/{MANIFEST}). Exit code: 0 when every job is "
                    f"done, {EXIT_FAILED} when some failed (see OUT_DIR/batch_report.csv), 1 on a usage error, "
                    "130 when interrupted.",
        epilog="Examples:\n"
               "  python -m sanet_video batch clips/ styled/ --style starry.jpg --style wave.jpg\n"
               "  python -m sanet_video batch dataset/ out/ --styles styles/ --devices all --max-side 720\n"
               "  python -m sanet_video batch library/ /shared/out --styles styles/ --engine ray --address auto\n"
               "  python -m sanet_video batch clips/ styled/ --config configs/batch.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("in_dir", metavar="IN_DIR", type=Path, help="the folder of videos and images")
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="where the outputs, manifest and report go")
    add_stylize_options(parser)
    for action in parser._actions:
        if action.dest == "styles":
            action.metavar = "PATH[:mask=MASK]"
            action.help = ("a style image (with a mask, it styles only the mask's region), or a folder of them; "
                           "each style is applied on its own; repeat for more")
    parser.add_argument("--styles", dest="styles", action="append", metavar="DIR",
                        help="a folder whose images each are a style (same as --style DIR); NAME.mask.png in it "
                             "is the mask of style NAME")
    config.add_arguments(parser, BatchOptions,
                         skip=(*(f.name for f in dataclasses.fields(StylizeOptions)), "follow_symlinks"))
    parser.add_argument("--follow-symlinks", dest="follow_symlinks", action=argparse.BooleanOptionalAction,
                        default=None, help=BatchOptions.__dataclass_fields__["follow_symlinks"].metadata["help"])
    return parser


def batch_command(argv: Sequence[str]) -> int:
    """Run a batch; returns the exit code (see the parser's description)."""
    args = _parser().parse_intermixed_args(argv)
    options = config.resolve(BatchOptions, args, args.config)
    try:
        report = run_batch(args.in_dir, args.out_dir, options)
    except KeyboardInterrupt:
        print(f"error: interrupted; finished jobs are kept and recorded in {args.out_dir / MANIFEST}, no partial "
              "output is left; run the same command again to resume", file=sys.stderr)
        return 130
    if not options.quiet:
        say(report.summary())
    return EXIT_FAILED if report.counts["failed"] else 0

"""Console scripts: ``sanet-video`` (= ``python -m sanet_video``) and ``sanet-video-experiments``.

Each checks the Python and PyAV first (:mod:`sanet_video.environment`), so an unsupported one is
one line on stderr before any work starts, then runs the command.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .environment import require_supported
from .errors import UserError


def _supported() -> bool:
    try:
        require_supported()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``sanet-video [stylize|batch] ...``: see :mod:`sanet_video.cli`."""
    if not _supported():
        return 1
    from .cli import main as cli_main  # imported once the environment is known to be supported

    return cli_main(argv)


def experiments(argv: Sequence[str] | None = None) -> int:
    """``sanet-video-experiments CONFIG --out DIR``: see :mod:`sanet_video.experiments`."""
    if not _supported():
        return 1
    from .experiments.__main__ import main as experiments_main

    experiments_main(None if argv is None else list(argv))
    return 0

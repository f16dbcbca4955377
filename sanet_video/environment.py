"""The Python and PyAV releases this package supports, and the one-line message for any other.

Older PyAV releases lack APIs the video code needs (``av.error.ArgumentError`` came in PyAV 17.0,
``VideoStream.set_display_matrix`` in 17.1); :mod:`sanet_video.video.pyav` covers the differences
between the supported ones. ``setup.cfg`` declares the same bounds (a test checks).
"""

from __future__ import annotations

import re
import sys

from .errors import UserError

MIN_PYTHON = (3, 10)
MIN_AV = (17, 1)


def _release(version: str) -> tuple[int, ...]:
    """``"19.0.2"`` -> (19, 0, 2); a pre-release suffix is ignored."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _dotted(release: tuple[int, ...]) -> str:
    return ".".join(map(str, release))


def problem(python: tuple[int, ...], av_version: str | None) -> str | None:
    """What is wrong with this Python and PyAV (``None``: not installed), or None if they are supported."""
    if python[:2] < MIN_PYTHON:
        return (f"sanet-video needs Python {_dotted(MIN_PYTHON)} or newer, this is Python {_dotted(python[:3])}; "
                "run it with a newer Python")
    need = f'pip install --upgrade "av>={_dotted(MIN_AV)}"'
    if av_version is None:
        return f"sanet-video needs PyAV {_dotted(MIN_AV)} or newer, which is not installed; run: {need}"
    if _release(av_version) < MIN_AV:
        return f"sanet-video needs PyAV {_dotted(MIN_AV)} or newer, PyAV {av_version} is installed; run: {need}"
    return None


def installed_av() -> str | None:
    """The version of the PyAV that imports here, or None."""
    try:
        import av
    except ImportError:
        return None
    return av.__version__


def require_supported() -> None:
    """Raises: UserError: this Python or PyAV is not supported (the message says which and what to do)."""
    message = problem(sys.version_info, installed_av())
    if message is not None:
        raise UserError(message)

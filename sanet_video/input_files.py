"""Inputs must be regular files: a named pipe, a device or a socket would block a reader or never end."""

from __future__ import annotations

import stat
from pathlib import Path

from .errors import UserError

_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def not_regular(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, where it is neither a regular file nor a folder; else None."""
    return next((kind for test, kind in _KINDS if test(mode)), None)


def require_file(path: Path, what: str, folder_hint: str) -> None:
    """Refuse ``path`` (links followed) unless it is a regular file, before anything opens it.

    Args:
        path: the input.
        what: what it is for, as said in the message ("input", "style image").
        folder_hint: what to do instead where it is a folder.

    Raises:
        UserError: it is missing, unreachable, a folder, a pipe, a device or a socket.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UserError(f"{what} {path} not found; check the path") from None
    except OSError as err:
        raise UserError(f"{what} {path} cannot be read ({err.strerror}); check the path and its permissions") \
            from None
    if stat.S_ISDIR(mode):
        raise UserError(f"{what} {path} is a folder; {folder_hint}")
    kind = not_regular(mode)
    if kind is not None:
        raise UserError(f"{what} {path} is {kind}, not a regular file; save the data to a file and give that")

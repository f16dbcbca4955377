"""Output files that appear whole or not at all.

The result is written to a hidden temporary file next to the target and renamed onto
it once complete; an exception or Ctrl-C on the way removes the temporary file, so
no half-written output and no temporary file is left behind. (A process killed with
SIGKILL cannot clean up: its ``.NAME.*.partial.EXT`` file stays.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import UserError


def check_output(path: Path, overwrite: bool, inputs: Sequence[Path] = ()) -> None:
    """Refuse an output path that cannot or should not be written, before any work is done.

    Raises:
        UserError: its directory is missing or not writable, it is a directory, it
            exists and ``overwrite`` is false, or it is one of ``inputs``.
    """
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{parent} is not a directory; choose another output path")
    if not parent.is_dir():
        raise UserError(f"output directory {parent} does not exist; create it or choose another output path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot write to {parent} (permission denied); choose a writable output directory")
    if path.is_dir():
        raise UserError(f"output {path} is a directory; give a file name such as {path / 'out.mp4'}")
    if path.exists():
        if any(p.exists() and path.samefile(p) for p in inputs):
            raise UserError(f"output {path} is also an input; choose another output path")
        if not overwrite:
            raise UserError(f"output {path} already exists; pass --overwrite to replace it")


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path next to ``path`` (same extension), renamed onto ``path`` on success.

    Raises:
        UserError: the directory is not writable, or the finished file cannot be renamed
            into place (e.g. the directory was removed meanwhile).
    """
    temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as err:
        raise UserError(f"cannot write to {path.parent} ({err.strerror}); "
                        "choose a writable output directory") from None
    try:
        yield temp
        try:
            os.replace(temp, path)
        except OSError as err:
            raise write_error(path.parent, err.strerror or str(err)) from None
    finally:
        temp.unlink(missing_ok=True)


def write_error(directory: Path, reason: str) -> UserError:
    """The one-line error for an output that could not be written into ``directory``, for ``reason``."""
    if not directory.is_dir():
        return UserError(f"the output directory {directory} was removed while writing; recreate it and run again")
    return UserError(f"could not write the output ({reason}); check the free disk space, that {directory} "
                     "is writable, and the options")

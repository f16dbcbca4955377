"""Output files that appear whole or not at all.

The result is written to a hidden temporary file next to the target and renamed onto
it once complete; an exception or Ctrl-C on the way removes the temporary file, so
no half-written output and no temporary file is left behind. Without ``overwrite`` the
rename never replaces a file, even one that appeared while the run was writing (another
run to the same output): the later run fails instead.

The temporary file ``.STEM.XXXXXXXX.partial.EXT`` (STEM shortened where the name would
exceed the file system's limit) is locked (``flock``) by its process while it lives. A
process killed with SIGKILL cannot clean up, so every later run to the same output removes
the temporary files whose lock nobody holds: their process is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import glob
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


_TOKEN_CHARS = 8
_PARTIAL = ".partial"
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100
_renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
"""Linux's rename that refuses to replace (glibc 2.28+); None elsewhere."""


def _temp_stem(path: Path) -> str:
    """``path``'s stem, cut (in bytes) so that its temporary name fits the file system's name limit."""
    try:
        limit = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    spare = limit - len(os.fsencode(f"..{'0' * _TOKEN_CHARS}{_PARTIAL}{path.suffix}"))
    return os.fsdecode(os.fsencode(path.stem)[:max(0, spare)])


def _create_locked(path: Path) -> tuple[Path, int]:
    """A new temporary file for ``path``, and a descriptor holding its lock.

    Raises:
        OSError: it cannot be created.
    """
    while True:
        temp = path.with_name(f".{_temp_stem(path)}.{secrets.token_hex(_TOKEN_CHARS // 2)}{_PARTIAL}{path.suffix}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return temp, fd
        os.close(fd)  # another run took it for dead between its creation and the lock: make another


def remove_dead_partials(path: Path) -> None:
    """Remove the temporary files that runs to ``path`` left behind and whose process is gone."""
    pattern = (f".{glob.escape(_temp_stem(path))}.{'[0-9a-f]' * _TOKEN_CHARS}"
               f"{_PARTIAL}{glob.escape(path.suffix)}")
    for temp in path.parent.glob(pattern):
        try:
            fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: its process still runs
            if os.path.samestat(os.fstat(fd), os.stat(temp)):
                temp.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)


def _rename_new(temp: Path, path: Path) -> None:
    """Rename ``temp`` to ``path``, atomically, unless ``path`` exists.

    Raises:
        FileExistsError: ``path`` exists.
        OSError: the rename failed otherwise.
    """
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(temp), _AT_FDCWD, os.fsencode(path), _RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS):  # else the file system cannot: link, then unlink
            raise OSError(code, os.strerror(code), str(path))
    os.link(temp, path)
    os.unlink(temp)


@contextlib.contextmanager
def atomic_output(path: Path, overwrite: bool) -> Iterator[Path]:
    """A temporary path next to ``path`` (same extension), renamed onto ``path`` on success.

    Args:
        path: the output.
        overwrite: whether the rename may replace a file at ``path``, also one that
            appeared while the caller was writing.

    Raises:
        UserError: the directory is not writable, the finished file cannot be renamed
            into place (e.g. the directory was removed meanwhile), or ``path`` appeared
            meanwhile and ``overwrite`` is false.
    """
    remove_dead_partials(path)
    try:
        temp, lock = _create_locked(path)
    except OSError as err:
        raise UserError(f"cannot write to {path.parent} ({err.strerror}); "
                        "choose a writable output directory") from None
    try:
        yield temp
        try:
            (os.replace if overwrite else _rename_new)(temp, path)
        except FileExistsError:
            raise UserError(f"output {path} appeared while this run was writing it (another run to the same "
                            "output?) and was kept; pass --overwrite to replace it, or choose another output "
                            "path") from None
        except OSError as err:
            raise write_error(path.parent, err.strerror or str(err)) from None
    finally:
        temp.unlink(missing_ok=True)
        os.close(lock)


def write_error(directory: Path, reason: str) -> UserError:
    """The one-line error for an output that could not be written into ``directory``, for ``reason``."""
    if not directory.is_dir():
        return UserError(f"the output directory {directory} was removed while writing; recreate it and run again")
    return UserError(f"could not write the output ({reason}); check the free disk space, that {directory} "
                     "is writable, and the options")

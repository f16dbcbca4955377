"""The manifest: an append-only JSON-lines journal of the jobs of an output folder.

``OUT_DIR/batch_manifest.jsonl`` holds one JSON object per line; the last line of a
job (its input's relative path and its style's name) is its state:

``{"input": "season 1/ep01.mp4", "style": "starry", "status": "done", "reason": null,
"output": "season 1/ep01__starry.mp4", "input_file": {"size", "mtime_ns", "sha256"},
"style_file": {"path", "size", "mtime_ns", "sha256"}, "output_file": {...},
"options": {...}, "weights": "<sha256 of the weights>", "device": "cuda:0",
"started": "2026-01-02T03:04:05+00:00", "seconds": 12.5, "frames": 300, "size": "1280x720"}``

``status`` is "started" when a job is handed to a worker (its output path now belongs
to the batch), then "done" once the output has been renamed into place, or "failed"
with a one-line ``reason``. Each line is flushed and fsynced as it is written; a line
cut short by a crash is ignored. A file name that is not valid UTF-8 keeps its
undecodable bytes as JSON escapes (``\\udcff``), which read back to the same name.
When the manifest is opened, it is rewritten with the last line of each job only (a
temporary file renamed over it). A lock file keeps two batches from writing to one
output folder at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UserError
from .jobs import JobKey

MANIFEST = "batch_manifest.jsonl"
LOCK = ".batch.lock"

Record = dict[str, Any]
ESCAPE = "backslashreplace"
"""How text files of a batch write file names that are not valid UTF-8 (JSON reads the escapes back)."""


def fingerprint(path: Path, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """Size, modification time and SHA-256 of a file.

    Args:
        path: the file.
        known: an earlier fingerprint of it; its hash is reused where size and time still match.

    Raises:
        OSError: the file cannot be read.
    """
    info = path.stat()
    if known and known.get("size") == info.st_size and known.get("mtime_ns") == info.st_mtime_ns:
        return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": known["sha256"]}
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": digest.hexdigest()}


def unchanged(path: Path, known: dict[str, Any] | None) -> bool:
    """Whether ``path`` is still the file that ``known`` describes (same size and hash)."""
    if not known or not path.is_file() or path.is_symlink():
        return False
    try:
        return fingerprint(path, known)["sha256"] == known["sha256"]
    except OSError:
        return False


class Manifest:
    """The journal of an output folder, opened with :meth:`open`.

    Attributes:
        records: the last record of each job.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST
        self.records: dict[JobKey, Record] = {}
        self._file: Any = None

    @classmethod
    @contextlib.contextmanager
    def open(cls, out_dir: Path) -> Iterator[Manifest]:
        """Lock the output folder, read its manifest and compact it.

        Raises:
            UserError: another batch holds the folder, or it is not writable.
        """
        manifest = cls(out_dir)
        try:
            lock = (out_dir / LOCK).open("a")
        except OSError as err:
            raise UserError(f"cannot write to {out_dir} ({err.strerror}); choose a writable output folder") from None
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UserError(f"another batch is writing to {out_dir}; wait for it to end or choose "
                                "another output folder") from None
            manifest._load()
            manifest._compact()
            with manifest.path.open("a", encoding="utf-8", errors=ESCAPE) as manifest._file:
                yield manifest

    def _load(self) -> None:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8", errors="replace") as file:
            for line in file:
                try:
                    record = json.loads(line)
                    self.records[record["input"], record["style"]] = record
                except (ValueError, TypeError, KeyError):
                    continue  # a line cut short by a crash

    def _compact(self) -> None:
        temp = self.path.with_name(f".{self.path.name}.tmp")
        with temp.open("w", encoding="utf-8", errors=ESCAPE) as file:
            for record in self.records.values():
                file.write(json.dumps(record, ensure_ascii=False) + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, self.path)

    def append(self, record: Record) -> None:
        """Write ``record`` as the job's new state, durably.

        Raises:
            UserError: the manifest is no longer in the output folder (the folder was
                removed or moved while the batch ran); nothing more can be recorded.
        """
        try:
            in_place = os.path.samestat(os.fstat(self._file.fileno()), os.stat(self.path))
        except FileNotFoundError:
            in_place = False
        if not in_place:
            raise UserError(f"the output folder {self.path.parent} or its {MANIFEST} was removed or moved while "
                            "the batch ran; the batch stopped: run it again to redo what is not recorded as done")
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.records[record["input"], record["style"]] = record

"""Finished cells on disk, keyed by a hash of what their outputs depend on.

A cell's key hashes the clip's and the style's identities, the temporal settings the
arm uses (not its name; see :func:`runner.effective_settings`), the strength ``alpha``
and the SHA-256 of the model weights. ``DIR/cache/<key>.npz`` holds the stylized frames
(uint8) and ``DIR/cache/<key>.json`` what the key was made of, the runtime and the
metrics computed so far, so that adding a metric scores the stored frames without
stylizing again. The cache does not see code changes: delete ``DIR/cache`` after
changing the model or the temporal code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..outputs import atomic_output


def cell_key(material: dict[str, Any]) -> str:
    """A short hex digest of JSON-serialisable ``material`` (key order does not matter)."""
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class CellCache:
    """Stylized frames and results of cells under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def has_frames(self, key: str) -> bool:
        """Whether the cell's outputs are stored."""
        return (self.folder / f"{key}.npz").is_file()

    def frames(self, key: str) -> np.ndarray:
        """The cell's ``(T, H, W, 3)`` uint8 outputs (see :meth:`has_frames`)."""
        with np.load(self.folder / f"{key}.npz") as data:
            return data["frames"]

    def result(self, key: str) -> dict[str, Any]:
        """The cell's stored record (``cell``, ``runtime``, ``metrics``, ``curves``); empty if none."""
        path = self.folder / f"{key}.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def save_frames(self, key: str, frames: np.ndarray) -> None:
        with atomic_output(self.folder / f"{key}.npz", overwrite=True) as temp:
            np.savez_compressed(temp, frames=frames)

    def save_result(self, key: str, record: dict[str, Any]) -> None:
        with atomic_output(self.folder / f"{key}.json", overwrite=True) as temp:
            temp.write_text(json.dumps(record, indent=1))

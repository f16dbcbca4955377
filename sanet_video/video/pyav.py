"""Where PyAV releases differ in what this package uses: one probe each, made here and nowhere else.

The releases supported are :data:`sanet_video.environment.MIN_AV` and newer.
"""

from __future__ import annotations

import av.container

OPEN_TOLERANT: dict[str, str] = (
    {"metadata_errors": "ignore"} if hasattr(av.container.Container, "metadata_errors") else {})
"""Keywords for :func:`av.open` that let a file with tags that are not UTF-8 open. PyAV before 19 decodes
tags strictly unless told to drop what does not decode; PyAV 19 dropped the option and keeps such bytes
(as surrogate escapes, written back unchanged)."""

"""A worker: runs jobs on one device, with the model loaded once and each style encoded once."""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Callable

from ..errors import UserError
from ..net import SANet
from ..options import MASK_TAG, StylizeOptions
from ..stylist import Stylist
from .discovery import Style
from .jobs import Job, JobResult
from .manifest import fingerprint

CACHED_STYLES = 8
"""Encoded styles a worker keeps (a few MB each on the device)."""


class Worker:
    """Stylizes jobs on one device, keeping one :class:`~sanet_video.stylist.Stylist` per style.

    Args:
        options: the batch's options for a single file (``styles`` is set per job).
        device: where the model runs ("cpu", "cuda:1", ...).
    """

    def __init__(self, options: StylizeOptions, device: str) -> None:
        self.options = dataclasses.replace(options, device=device, overwrite=True, quiet=True)
        self.device = device
        self._model: SANet | None = None
        self._stylists: OrderedDict[Style, Stylist] = OrderedDict()

    def _stylist(self, style: Style) -> Stylist:
        """The stylist of ``style``: the last :data:`CACHED_STYLES` used are kept."""
        if style in self._stylists:
            self._stylists.move_to_end(style)
            return self._stylists[style]
        # ":1" so that a colon in the file name is not read as a weight
        spec = f"{style.path}:1" + ("" if style.mask is None else f"{MASK_TAG}{style.mask}")
        stylist = Stylist(dataclasses.replace(self.options, styles=[spec]), self._model)
        self._model = stylist.model
        self._stylists[style] = stylist
        if len(self._stylists) > CACHED_STYLES:
            self._stylists.popitem(last=False)
        return stylist

    def run(self, job: Job, on_frames: Callable[[int], None] | None = None) -> JobResult:
        """Stylize one job; any failure is returned as a failed result, not raised.

        Args:
            job: the job; the folders between the output folder and its output are created if need be.
            on_frames: told the number of frames of each batch of a video as it is written.
        """
        started, began = time.time(), time.perf_counter()
        timing = {"device": self.device, "started": started}
        try:
            out_dir = job.output.parents[len(job.relative_output.parts) - 1]
            if not out_dir.is_dir():
                raise UserError(f"the output folder {out_dir} was removed; run the batch again")
            job.output.parent.mkdir(parents=True, exist_ok=True)
            summary = self._stylist(job.style).stylize(job.media.path, job.output, on_frames)
            output = fingerprint(job.output)
        except UserError as err:
            return JobResult.failed(job.key, str(err), seconds=time.perf_counter() - began, **timing)
        except Exception as err:  # one job's crash must not end the batch
            return JobResult.failed(job.key, f"{type(err).__name__}: {err}", seconds=time.perf_counter() - began,
                                    **timing)
        return JobResult(job.key, "done", reason="; ".join(summary.warnings) or None,
                         seconds=time.perf_counter() - began, frames=summary.frames,
                         size=f"{summary.width}x{summary.height}", output_file=output, **timing)

"""Batch processing: every video and image of a folder times every style, resumable, local or on Ray.

:func:`run_batch` finds the inputs (:mod:`.discovery`), makes one job per input and
style with its output in the mirrored tree (:mod:`.jobs`), skips what the manifest
(:mod:`.manifest`) shows done and unchanged (:mod:`.scheduler`), runs the rest on
local workers, one per device (:mod:`.local`, :mod:`.worker`), or as Ray tasks
(:mod:`.ray_engine`), shows progress (:mod:`.progress`) and writes a report
(:mod:`.report`). The command line is :mod:`.command`; see docs/BATCH.md.
"""

from .options import BatchOptions
from .report import Report
from .runner import run_batch

__all__ = ["BatchOptions", "Report", "run_batch"]

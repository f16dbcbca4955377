"""The end of a batch: a summary table on the terminal and a report file of every job.

``OUT_DIR/batch_report.csv`` has one row per job of the run (input, style, output,
status, frames, seconds, fps, device, reason); ``OUT_DIR/batch_report.json`` has the
same rows with the totals. A job's status is "done" (stylized in this run), "skipped"
(done before, nothing changed), "failed" (with its reason), "interrupted" (it was
running when the batch was stopped) or "pending" (it had not started).
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..outputs import atomic_output
from .manifest import ESCAPE

REPORT = "batch_report"
COLUMNS = ("input", "style", "output", "status", "frames", "seconds", "fps", "device", "reason")
STATUSES = ("done", "skipped", "failed", "interrupted", "pending")
_REASON_CHARS = 100
"""Longest reason shown in the summary table (the report has it whole)."""


def _cut(text: str) -> str:
    return text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS - 1] + "…"


@dataclass
class Report:
    """The jobs of one batch run and what came of them.

    Attributes:
        out_dir: the output folder.
        seconds: how long the run took.
        rows: one mapping per job, with the keys of :data:`COLUMNS`.
    """

    out_dir: Path
    seconds: float
    rows: list[dict[str, Any]]

    @property
    def counts(self) -> Counter[str]:
        return Counter(row["status"] for row in self.rows)

    @property
    def paths(self) -> tuple[Path, Path]:
        """The CSV and the JSON file."""
        return self.out_dir / f"{REPORT}.csv", self.out_dir / f"{REPORT}.json"

    def write(self) -> None:
        """Write the CSV and JSON files, each whole or not at all."""
        csv_path, json_path = self.paths
        with (atomic_output(csv_path, overwrite=True) as temp,
              temp.open("w", newline="", encoding="utf-8", errors=ESCAPE) as file):
            writer = csv.DictWriter(file, COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)
        totals = {status: self.counts[status] for status in STATUSES}
        totals["frames"] = sum(row["frames"] or 0 for row in self.rows if row["status"] == "done")
        with atomic_output(json_path, overwrite=True) as temp:
            temp.write_text(json.dumps({"out_dir": os.fspath(self.out_dir), "seconds": round(self.seconds, 3),
                                        "totals": totals, "jobs": self.rows}, indent=1, ensure_ascii=False),
                            encoding="utf-8", errors=ESCAPE)

    def summary(self, limit: int = 40) -> str:
        """A headline and a table of the jobs that ran, failed or were left (at most ``limit`` rows)."""
        counts = self.counts
        ran = [row for row in self.rows if row["status"] == "done"]
        frames = sum(row["frames"] or 0 for row in ran)
        work = sum(row["seconds"] or 0.0 for row in ran)
        parts = [f"{counts[status]} {status}" for status in STATUSES if counts[status]]
        lines = [f"batch: {len(self.rows)} jobs: {', '.join(parts) or 'nothing to do'}; "
                 f"{frames} frames in {self.seconds:.1f} s ({work:.1f} s of stylizing)"]
        shown = [row for row in self.rows if row["status"] != "skipped"]
        if shown:
            table = [("status", "frames", "seconds", "job", "output / reason")]
            table += [(row["status"], str(row["frames"] if row["frames"] is not None else "-"),
                       f"{row['seconds']:.2f}" if row["seconds"] is not None else "-",
                       f"{row['input']} × {row['style']}",
                       _cut(row["reason"]) if row["status"] == "failed" else row["output"] or "")
                      for row in shown[:limit]]
            widths = [max(len(cells[i]) for cells in table) for i in range(4)]
            for cells in table:
                aligned = (cell.rjust(width) if i in (1, 2) else cell.ljust(width)
                           for i, (cell, width) in enumerate(zip(cells[:4], widths, strict=True)))
                lines.append(f"  {'  '.join(aligned)}  {cells[4]}")
            if len(shown) > limit:
                lines.append(f"  ... and {len(shown) - limit} more")
        lines.append(f"report: {self.paths[0]}, {self.paths[1]}")
        return "\n".join(lines)

"""Cell results as tables: per-cell CSV and JSON, per-arm summary, Markdown.

Ratios compare an arm with the baseline arm on the same clip and style; an arm's
ratio is the geometric mean over its cells, so that clips with large and small
errors weigh alike.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from .metrics import METRICS

LABELS = {  # metric names as the report writes them
    "warp_exact": "warp error, exact flow", "warp_indep": "warp error, independent flow",
    "warp_dis": "warp error, DIS flow", "warp_farneback": "warp error, Farneback flow",
    "style_loss": "style loss", "content_loss": "content loss", "runtime": "ms / frame",
}

HEADLINE = ("warp_exact", "warp_indep", "style_loss", "content_loss", "runtime")
"""Metrics of the Markdown table and the bar chart (the per-estimator warping errors are in the full tables)."""


def metric_names(rows: list[dict[str, Any]]) -> list[str]:
    """The metrics present in ``rows``, in the order of :data:`METRICS`."""
    return [m for m in METRICS if rows and m in rows[0]]


def ratios(rows: list[dict[str, Any]], metric: str, baseline: str) -> dict[str, list[float]]:
    """``metric`` of each cell divided by the baseline arm's on the same clip and style.

    Returns:
        By arm, the ratio of each cell where both values exist and the baseline's is positive.
    """
    base = {(r["clip"], r["style"]): r[metric] for r in rows if r["arm"] == baseline}
    out: dict[str, list[float]] = {}
    for row in rows:
        reference = base.get((row["clip"], row["style"]))
        if row[metric] is not None and reference:
            out.setdefault(row["arm"], []).append(row[metric] / reference)
    return out


def summarize(rows: list[dict[str, Any]], baseline: str) -> list[dict[str, Any]]:
    """Per arm, in order of appearance: cell count, mean of each metric and its ratio to the baseline.

    Keys: ``arm``, ``cells``, ``<metric>`` (mean over cells, None if it never applies) and
    ``<metric>_ratio`` (geometric mean of per-cell ratios; not for runtime).
    """
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    names = metric_names(rows)
    by_metric = {m: ratios(rows, m, baseline) for m in names if m != "runtime"}
    summary = []
    for arm in arms:
        cells = [r for r in rows if r["arm"] == arm]
        entry: dict[str, Any] = {"arm": arm, "cells": len(cells)}
        for m in names:
            values = [r[m] for r in cells if r[m] is not None]
            entry[m] = sum(values) / len(values) if values else None
            if m in by_metric:
                entry[f"{m}_ratio"] = geometric_mean(by_metric[m].get(arm, []))
        summary.append(entry)
    return summary


def geometric_mean(values: list[float]) -> float | None:
    """Of non-negative values; 0 if one is 0, None if there are none."""
    if not values:
        return None
    return 0.0 if min(values) == 0 else math.exp(sum(map(math.log, values)) / len(values))


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """One line per cell: clip, style, arm, cache key and the metrics (empty where they do not apply)."""
    fields = ["clip", "style", "arm", "key", *metric_names(rows)]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_json(rows: list[dict[str, Any]], summary: list[dict[str, Any]], path: Path) -> None:
    """Cells (with their per-pair warping-error curves) and the per-arm summary."""
    path.write_text(json.dumps({"cells": rows, "summary": summary}, indent=1) + "\n")


def summary_markdown(summary: list[dict[str, Any]], baseline: str, descriptions: dict[str, str]) -> str:
    """The :data:`HEADLINE` metrics per arm as a Markdown table: ratios to the baseline, and ms per frame.

    Args:
        summary: from :func:`summarize`.
        baseline: the arm the ratios are to.
        descriptions: a few words per arm name (its settings).
    """
    names = [m for m in HEADLINE if m in summary[0] and m != "runtime"]
    header = ["arm", "settings", "cells", *(f"{LABELS[m]} (x {baseline})" for m in names)]
    if "runtime" in summary[0]:
        header.append(LABELS["runtime"])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for entry in summary:
        cells = [entry["arm"], descriptions[entry["arm"]], str(entry["cells"]),
                 *(_ratio(entry[f"{m}_ratio"]) for m in names)]
        if "runtime" in entry:
            cells.append(f"{1000 * entry['runtime']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"

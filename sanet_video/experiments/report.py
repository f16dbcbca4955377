"""The report folder: ``index.html`` with videos, plots and tables, and the files behind them.

Everything is local and relative (no scripts, fonts or styles from the network), so
the folder can be opened from disk or served as is::

    report/index.html  results.csv  results.json  summary.md  config.yaml
    report/plots/{tradeoff,bars,curves}.png  report/videos/*.mp4  report/styles/*.png
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import plots
from .config import INPUT_ARM, Experiment
from .media import mosaic, write_mp4
from .metrics import WARP_METRICS
from .results import LABELS, metric_names, summarize, summary_markdown, write_csv, write_json
from .runner import GridResult

COLUMNS = 5
"""Tiles per row of the side-by-side videos."""

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th.name, td.name { text-align: left; }
tr:nth-child(even) { background: #f4f4f4; }
img.plot { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
img.style { height: 96px; vertical-align: middle; margin-left: 1em; }
video { max-width: 100%; background: #000; display: block; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.85em; }
"""

METRIC_NOTES = """<ul>
<li><b>warp error</b>: Lai et al. (2018): masked mean squared difference of each output frame and the previous
output warped to it by the backward flow of the <i>input</i>; mean over pairs. <b>exact flow</b>: the known motion
and occlusion of synthetic clips; <b>independent flow</b>: estimated on the input at full resolution by the other
method than the arm's own (Farneback for DIS arms and arms without flow, DIS for Farneback arms), masked by a
forward-backward check. A pair without valid pixels (a cut under the exact flow) scores 0.</li>
<li><b>style loss</b>: SANet's style loss (channel means and deviations of VGG relu1_1..relu5_1) of each output
frame against the style image; <b>content loss</b>: SANet's content loss (normalised relu4_1, relu5_1) against its
input frame; means over frames.</li>
<li><b>ms / frame</b>: wall-clock time of the stylization with its optical flow on the machine of the run (noisy
where the machine is shared).</li></ul>"""


def write_report(experiment: Experiment, result: GridResult, folder: Path, title: str) -> list[dict[str, Any]]:
    """Write the report folder.

    Args:
        experiment: the grid as read from its file.
        result: the run's cells.
        folder: created if needed; files of an earlier report are replaced.
        title: heading of the page (the config file's name).

    Returns:
        The per-arm summary (see :func:`results.summarize`).
    """
    baseline = experiment.settings.baseline
    for sub in ("plots", "videos", "styles"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    rows = result.rows
    summary = summarize(rows, baseline)
    descriptions = {INPUT_ARM: "the input video, unstylized", **{a.name: a.describe() for a in experiment.arms}}
    write_csv(rows, folder / "results.csv")
    write_json(rows, summary, folder / "results.json")
    (folder / "summary.md").write_text(summary_markdown(summary, baseline, descriptions))
    (folder / "config.yaml").write_text(experiment.text)

    figures = _plots(rows, summary, baseline, folder / "plots")
    videos = _videos(result, folder / "videos")
    styles = _styles(result, folder / "styles")

    page = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
            f"<style>{STYLE}</style></head><body>", f"<h1>Ablation: {html.escape(title)}</h1>",
            f"<p>{len(rows)} cells ({len(result.clips)} clips x {len(result.styles)} styles x arms, plus the "
            f"unstylized input as arm <code>{INPUT_ARM}</code>); ratios are to the arm <code>{html.escape(baseline)}"
            "</code> on the same clip and style, geometric means over cells. Lower is better for every metric. "
            f"Model weights: {html.escape(result.weights)}. "
            "Files: <a href='results.csv'>results.csv</a>, <a href='results.json'>results.json</a>, "
            "<a href='summary.md'>summary.md</a>, <a href='config.yaml'>config.yaml</a>.</p>",
            "<h2>Summary per arm</h2>", _summary_table(summary, baseline, descriptions), METRIC_NOTES]
    page += [f"<h2>{html.escape(caption)}</h2><img class='plot' src='{src}' alt='{html.escape(caption)}'>"
             for caption, src in figures]
    page.append("<h2>Videos</h2><p>Input, then each arm, in the order of the summary table.</p>")
    for (clip, style), src in videos.items():
        page.append(f"<h3>{html.escape(clip)} / {html.escape(style)}<img class='style' src='{styles[style]}' "
                    f"alt='style {html.escape(style)}'></h3>"
                    f"<video src='{src}' controls autoplay loop muted playsinline></video>")
    page += ["<h2>All cells</h2>", _cell_table(rows),
             "<h2>Config</h2>", f"<pre>{html.escape(experiment.text)}</pre>", "</body></html>"]
    (folder / "index.html").write_text("\n".join(page))
    return summary


def _styles(result: GridResult, folder: Path) -> dict[str, str]:
    """The style images as PNG; relative path by style name."""
    styles = {}
    for index, (name, image) in enumerate(result.styles.items()):
        styles[name] = f"{folder.name}/{index:02d}-{_slug(name)}.png"
        array = (image[0].permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
        Image.fromarray(array).save(folder.parent / styles[name])
    return styles


def _plots(rows: list[dict[str, Any]], summary: list[dict[str, Any]], baseline: str,
           folder: Path) -> list[tuple[str, str]]:
    """Draw the figures the metrics allow; (caption, relative path) of each."""
    names = metric_names(rows)
    figures = []
    warp = next((m for m in ("warp_indep", *WARP_METRICS) if m in names and any(r[m] is not None for r in rows)), None)
    if warp and "style_loss" in names:
        plots.tradeoff(summary, warp, baseline, folder / "tradeoff.png")
        figures.append(("Warping error vs style loss (Pareto front in red)", "plots/tradeoff.png"))
    plots.bars(rows, baseline, folder / "bars.png")
    figures.append(("Metrics per arm (bar: geometric mean; whiskers: range over cells; dots: cells)",
                    "plots/bars.png"))
    if warp:
        plots.curves(rows, warp, folder / "curves.png")
        figures.append((f"Per-frame {LABELS[warp]}", "plots/curves.png"))
    return figures


def _videos(result: GridResult, folder: Path) -> dict[tuple[str, str], str]:
    """One side-by-side video per clip and style; relative path by (clip, style)."""
    videos = {}
    pairs = list(dict.fromkeys((r["clip"], r["style"]) for r in result.rows))
    for index, (clip, style) in enumerate(pairs):
        tiles = [(r["arm"], result.outputs(r)) for r in result.rows if (r["clip"], r["style"]) == (clip, style)]
        src = f"videos/{index:02d}-{_slug(clip)}-{_slug(style)}.mp4"
        write_mp4(folder.parent / src, mosaic(tiles, min(COLUMNS, len(tiles))), result.clips[clip].fps)
        videos[clip, style] = src
    return videos


def _summary_table(summary: list[dict[str, Any]], baseline: str, descriptions: dict[str, str]) -> str:
    names = [m for m in LABELS if m in summary[0]]
    head = "".join(f"<th>{LABELS[m]}" + ("" if m == "runtime" else f"<br>mean (x {html.escape(baseline)})") + "</th>"
                   for m in names)
    body = []
    for entry in summary:
        cells = []
        for m in names:
            ratio = entry.get(f"{m}_ratio")
            cells.append(_number(m, entry[m]) + ("" if ratio is None else f" ({ratio:.3f})"))
        arm = html.escape(entry["arm"])
        body.append(f"<tr><td class='name'>{arm}</td><td class='name'>{html.escape(descriptions[entry['arm']])}</td>"
                    f"<td>{entry['cells']}</td>"
                    + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{_text_headers('arm', 'settings')}<th>cells</th>{head}</tr>{''.join(body)}</table>"


def _cell_table(rows: list[dict[str, Any]]) -> str:
    names = metric_names(rows)
    head = "".join(f"<th>{LABELS[m]}</th>" for m in names)
    body = "".join("<tr>" + "".join(f"<td class='name'>{html.escape(r[k])}</td>" for k in ("clip", "style", "arm"))
                   + "".join(f"<td>{_number(m, r[m])}</td>" for m in names) + "</tr>" for r in rows)
    return f"<table><tr>{_text_headers('clip', 'style', 'arm')}{head}</tr>{body}</table>"


def _text_headers(*names: str) -> str:
    """Left-aligned headers of text columns."""
    return "".join(f"<th class='name'>{name}</th>" for name in names)


def _number(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{1000 * value:.0f}" if metric == "runtime" else f"{value:.4g}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)

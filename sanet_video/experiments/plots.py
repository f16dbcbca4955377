"""The report's figures (matplotlib, PNG): trade-off with its Pareto front, per-frame curves, bars per arm.

Figures are drawn with matplotlib's object API, without pyplot, so no backend is chosen or changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from .config import INPUT_ARM
from .results import HEADLINE, LABELS, geometric_mean, metric_names, ratios

DPI = 110


def pareto_front(points: dict[str, tuple[float, float]]) -> list[str]:
    """Names of the points that no other point beats on both coordinates (lower is better), by x."""
    front = [name for name, (x, y) in points.items()
             if not any(ox <= x and oy <= y and (ox, oy) != (x, y) for ox, oy in points.values())]
    return sorted(front, key=lambda name: points[name])


def tradeoff(summary: list[dict[str, Any]], warp: str, baseline: str, path: Path) -> None:
    """Warping error against style loss, one point per arm (ratios to the baseline), Pareto front marked."""
    points = {e["arm"]: (e["style_loss_ratio"], e[f"{warp}_ratio"]) for e in summary
              if e["arm"] != INPUT_ARM and e["style_loss_ratio"] is not None and e[f"{warp}_ratio"] is not None}
    front = pareto_front(points)
    fig = Figure(figsize=(7.5, 5.5))
    ax = fig.subplots()
    xs, ys = zip(*points.values())
    ax.scatter(xs, ys, s=28, color="tab:blue", zorder=3, label="arm")
    ax.plot(*zip(*(points[n] for n in front)), color="tab:red", lw=1.2, marker="o", mfc="none", ms=11,
            zorder=2, label="Pareto front")
    _label(fig, ax, points)
    ax.set_xlabel(f"{LABELS['style_loss']} (x {baseline}, lower is more stylized)")
    ax.set_ylabel(f"{LABELS[warp]} (x {baseline}, lower is steadier)")
    ax.set_title("Temporal consistency vs stylization, geometric mean over clips and styles", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def curves(rows: list[dict[str, Any]], warp: str, path: Path) -> None:
    """Per-frame warping error of each arm, one panel per clip (mean over styles); the input dashed."""
    clips = list(dict.fromkeys(r["clip"] for r in rows if r["curves"].get(warp)))
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    fig = Figure(figsize=(8, 2.4 * len(clips) + 0.6))
    axes = fig.subplots(len(clips), 1, squeeze=False)
    for ax, clip in zip(axes[:, 0], clips):
        for index, arm in enumerate(arms):
            found = [r["curves"][warp] for r in rows if r["clip"] == clip and r["arm"] == arm and r["curves"].get(warp)]
            if not found:
                continue
            curve = np.mean(found, axis=0)
            frames = np.arange(1, len(curve) + 1)
            if arm == INPUT_ARM:
                ax.plot(frames, curve, "k--", lw=1.4, label="input video")
            else:
                ax.plot(frames, curve, lw=1.1, color=_colour(index), label=arm)
        ax.set_title(clip, fontsize=9, loc="left")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("warp error", fontsize=8)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("frame t (error of the pair t-1, t)")
    fig.suptitle(LABELS[warp], fontsize=10)
    fig.tight_layout()
    legend = {label: handle for ax in axes[:, 0] for handle, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(legend.values(), legend.keys(), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    _save(fig, path)


def bars(rows: list[dict[str, Any]], baseline: str, path: Path) -> None:
    """Per metric of :data:`results.HEADLINE`, a bar per arm from the baseline (1) to the geometric mean of its
    ratios to the baseline (green: better, red: worse), whiskers over cells, dots per cell.

    Runtime is shown in milliseconds per frame instead of as a ratio.
    """
    names = [m for m in HEADLINE if m in metric_names(rows)]
    arms = [a for a in dict.fromkeys(r["arm"] for r in rows) if a != INPUT_ARM]
    fig = Figure(figsize=(2.6 * len(names) + 1.6, 0.28 * len(arms) + 1.4))
    axes = fig.subplots(1, len(names), sharey=True, squeeze=False)
    positions = np.arange(len(arms))
    for ax, metric in zip(axes[0], names):
        if metric == "runtime":
            values = {a: [1000 * r[metric] for r in rows if r["arm"] == a] for a in arms}
            ax.set_title(LABELS[metric], fontsize=8)
        else:
            values = ratios(rows, metric, baseline)
            ax.set_title(f"{LABELS[metric]}\n(x {baseline})", fontsize=8)
            ax.axvline(1.0, color="k", lw=0.8)
        for pos, arm in zip(positions, arms):
            cell_values = np.array(values.get(arm, []))
            if not len(cell_values):
                continue
            centre = cell_values.mean() if metric == "runtime" else geometric_mean(values[arm])
            start = 0.0 if metric == "runtime" else 1.0  # ratios: bars grow from the baseline
            ax.barh(pos, centre - start, left=start, color=_bar_colour(metric, centre), alpha=0.5)
            ax.errorbar(centre, pos, xerr=[[centre - cell_values.min()], [cell_values.max() - centre]],
                        color="k", lw=0.8, capsize=2)
            ax.scatter(cell_values, np.full(len(cell_values), pos), s=6, color="k", zorder=3)
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].set_yticks(positions, arms)
    axes[0, 0].invert_yaxis()
    _save(fig, path)


LABEL_SIZE = 7.5
LABEL_OFFSETS = ((5, 1, "left"), (5, -10, "left"), (-5, 1, "right"), (-5, -10, "right"), (5, 10, "left"),
                 (-5, 10, "right"), (5, -19, "left"), (-5, -19, "right"), (5, 19, "left"), (-5, 19, "right"))
"""Where a point's label may go (points right and up, alignment), tried in order."""


def _label(fig: Figure, ax: Axes, points: dict[str, tuple[float, float]]) -> None:
    """Name each point, moving a label around its point (with a leader line) until it overlaps no label placed
    before; where every place is taken, the first one is used."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # fixes the axes' limits, hence where each point lands
    renderer = canvas.get_renderer()
    font = FontProperties(size=LABEL_SIZE)
    pixels = fig.dpi / 72.0
    placed: list[Bbox] = []
    for name, xy in sorted(points.items(), key=lambda item: item[1]):
        width, height, _ = renderer.get_text_width_height_descent(name, font, ismath=False)
        x, y = ax.transData.transform(xy)
        boxes = [Bbox.from_bounds(x + dx * pixels - (width if align == "right" else 0), y + dy * pixels, width, height)
                 for dx, dy, align in LABEL_OFFSETS]
        free = [i for i, box in enumerate(boxes) if not any(box.overlaps(other) for other in placed)]
        choice = free[0] if free else 0
        dx, dy, align = LABEL_OFFSETS[choice]
        ax.annotate(name, xy, xytext=(dx, dy), textcoords="offset points", fontsize=LABEL_SIZE, ha=align,
                    va="bottom", arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5", "shrinkA": 0, "shrinkB": 3})
        placed.append(boxes[choice])


def _bar_colour(metric: str, value: float) -> str:
    if metric == "runtime":
        return "tab:blue"
    return "tab:green" if value < 1.0 else "tab:red"


def _colour(index: int) -> tuple[float, ...]:
    """Distinct hues of tab20 first (its even entries), then their light variants."""
    return colormaps["tab20"]((2 * index) % 20 + (2 * index) // 20 % 2)


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")

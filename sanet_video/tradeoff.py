"""The trade-off curve of SANet candidates: content loss against style ratio, one point per strength.

``python -m sanet_video.tradeoff v1=runs/v1/metrics.json c6s=runs/c6s/metrics.json --out curve.png
--mark v1@1.0 --mark c6s@0.9`` reads the ``by_alpha`` lists that ``sanet_video.evaluate --alphas``
writes, draws one line per candidate (each point a strength alpha, labelled) and rings the marked
points (e.g. the shipped default). Lower-left is better on both axes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .errors import UserError


def read_curve(path: Path) -> list[dict]:
    try:
        points = json.loads(path.read_text())["by_alpha"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"{path} has no 'by_alpha' list; make it with sanet_video.evaluate --alphas") from None
    return sorted(points, key=lambda p: -p["alpha"])


def plot(curves: dict[str, list[dict]], marks: dict[str, float], path: Path,
         target: tuple[float, float] | None = None) -> None:
    """One line per candidate; ``marks`` rings candidate -> alpha; ``target`` is a (style ratio, content) corner."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for name, points in curves.items():
        xs, ys = [p["style_loss_ratio"] for p in points], [p["content_loss"] for p in points]
        line, = ax.plot(xs, ys, "o-", ms=3.5, lw=1.2, label=name)
        for p in points:
            ax.annotate(f"{p['alpha']:g}", (p["style_loss_ratio"], p["content_loss"]), fontsize=6,
                        xytext=(3, 2), textcoords="offset points", color=line.get_color())
        if name in marks:
            chosen = [p for p in points if abs(p["alpha"] - marks[name]) < 1e-9]
            if not chosen:
                raise UserError(f"{name} has no point at alpha {marks[name]}")
            ax.plot(chosen[0]["style_loss_ratio"], chosen[0]["content_loss"], "o", ms=11, mfc="none",
                    mec=line.get_color(), mew=1.6)
    if target is not None:
        ax.axvline(target[0], color="0.6", lw=0.8, ls="--")
        ax.axhline(target[1], color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("style loss ratio (lower: more style)")
    ax.set_ylabel("content loss (lower: more content)")
    ax.set_title("held-out photos x styles; points: strength alpha; rings: marked", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves", nargs="+", metavar="NAME=METRICS.json")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mark", action="append", default=[], metavar="NAME@ALPHA")
    parser.add_argument("--target", help="STYLE_RATIO,CONTENT corner to draw, e.g. 0.30,2.0")
    args = parser.parse_args(argv)
    try:
        curves = {}
        for item in args.curves:
            name, sep, path = item.rpartition("=")
            if not sep:
                raise UserError(f"{item!r}: give NAME=METRICS.json")
            curves[name] = read_curve(Path(path))
        marks = {}
        for item in args.mark:
            name, sep, alpha = item.partition("@")
            if not sep or name not in curves:
                raise UserError(f"--mark {item!r}: give NAME@ALPHA with a NAME of the curves")
            marks[name] = float(alpha)
        target = tuple(float(v) for v in args.target.split(",")) if args.target else None
        plot(curves, marks, args.out, target)
    except (UserError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

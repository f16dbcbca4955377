"""``python -m sanet_video.experiments CONFIG --out DIR``: run an ablation grid and write its report."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from ..errors import UserError
from .cache import CellCache
from .config import load_experiment
from .report import write_report
from .runner import GridRunner


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the grid, write the report and say where it is."""
    parser = argparse.ArgumentParser(prog="python -m sanet_video.experiments", description=__doc__)
    parser.add_argument("config", type=Path, help="experiment YAML, e.g. configs/ablation/flow.yaml")
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder: cache/ (finished cells) and report/ (index.html, CSV, JSON, plots)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--weights", help="override the file's settings.weights (v1, v2, ...)")
    parser.add_argument("--device", help="override the file's settings.device (cpu, cuda)")
    args = parser.parse_args(argv)
    try:
        experiment = load_experiment(args.config)
        overrides = {k: v for k, v in (("weights", args.weights), ("device", args.device)) if v is not None}
        experiment.settings = dataclasses.replace(experiment.settings, **overrides)
        result = GridRunner(experiment, CellCache(args.out / "cache"), progress=not args.quiet).run()
        write_report(experiment, result, args.out / "report", args.config.name)
    except UserError as err:
        sys.exit(f"error: {err}")
    stats = result.stats
    print(f"{len(result.rows)} cells: {stats.stylized} stylized, {stats.scored} scored, {stats.cached} from the cache")
    print(f"report: {args.out / 'report' / 'index.html'}")


if __name__ == "__main__":
    main()

"""Ablation experiments: what each piece of the temporal smoothing buys.

``python -m sanet_video.experiments configs/ablation/flow.yaml --out DIR`` stylizes
every clip with every style under every arm (a named set of
:class:`sanet_video.temporal.TemporalConfig` overrides), scores the outputs
(:mod:`.metrics`), caches each cell under ``DIR/cache`` (:mod:`.cache`) and writes a
static report to ``DIR/report/index.html`` (:mod:`.report`). See :mod:`.config` for
the file format.
"""

from .config import Experiment, load_experiment
from .runner import GridResult, GridRunner, RunStats

__all__ = ["Experiment", "GridResult", "GridRunner", "RunStats", "load_experiment"]

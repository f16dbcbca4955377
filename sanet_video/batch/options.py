"""The options of a batch: those of a single file plus where the jobs run.

:class:`BatchOptions` extends :class:`~sanet_video.options.StylizeOptions`, so one
flat YAML file (``configs/batch.yaml``) and one set of ``--options`` hold both; the
precedence is that of :mod:`sanet_video.config`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from ..devices import resolve_device
from ..errors import UserError
from ..options import StylizeOptions

ENGINES = ("local", "ray")

JOB_INDEPENDENT = ("styles", "device", "batch_size", "quiet", "overwrite")
"""StylizeOptions fields that do not change a job's output; changing them redoes nothing."""


@dataclass
class BatchOptions(StylizeOptions):
    """How to stylize a folder: every field of StylizeOptions, applied to each job, and the workers.

    In a batch each style (``styles``: image files or folders of them) is applied on its
    own, not mixed; ``device`` is used only where ``devices`` is not given.
    """

    devices: str | None = field(default=None, metadata={"help": (
        "local engine: one worker per device, comma-separated (cuda:0,cuda:1 or cpu,cpu), or 'all' "
        "(every GPU, else one CPU worker); default: from --device")})
    engine: str = field(default="local", metadata={"help": (
        "local (worker processes on this machine) or ray (Ray tasks, one GPU each where the cluster has GPUs)")})
    address: str | None = field(default=None, metadata={"help": (
        "ray: the cluster to join (e.g. auto, or ray://HEAD:10001); default: start a Ray instance on this machine")})
    follow_symlinks: bool = field(default=False, metadata={"help": (
        "also stylize what symbolic links under IN_DIR point to outside it (by default they are skipped, and "
        "listed)")})

    def check(self) -> None:
        """Refuse values out of range, in one line each.

        Raises:
            UserError: an option has a value it cannot take.
        """
        super().check()
        if self.engine not in ENGINES:
            raise UserError(f"engine must be one of {', '.join(ENGINES)}; got {self.engine!r}")
        if self.engine == "ray" and self.devices is not None:
            raise UserError("--devices is for the local engine; on Ray each task gets one GPU, or a CPU "
                            "where the cluster has no GPU")
        if self.address is not None and self.engine != "ray":
            raise UserError("--address is for the Ray engine; add --engine ray")

    def stylize_options(self) -> StylizeOptions:
        """The options of a single file that these hold."""
        return StylizeOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(StylizeOptions)})

    def job_options(self) -> dict[str, object]:
        """The options that shape every job's output, as recorded in the manifest."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(StylizeOptions)
                if f.name not in JOB_INDEPENDENT}

    def worker_devices(self) -> list[str]:
        """The local engine's devices, one worker each, checked to be there.

        Raises:
            UserError: a device that this machine does not have.
        """
        spec = self.devices if self.devices is not None else self.device
        if spec in ("all", "auto"):
            if torch.cuda.is_available():
                return [f"cuda:{index}" for index in range(torch.cuda.device_count())]
            return [str(resolve_device("auto"))]
        names = [name.strip() for name in spec.split(",") if name.strip()]
        if not names:
            raise UserError(f"--devices {spec!r} names no device; give e.g. cuda:0,cuda:1, cpu,cpu or all")
        for name in names:
            resolve_device(name)
        return names

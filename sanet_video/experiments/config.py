"""The experiment file: clips, styles, arms and metrics of an ablation grid, read from YAML.

Layout of ``configs/ablation/*.yaml`` (relative paths are taken from the current directory)::

    settings: {weights: default, alpha: 1.0, batch_size: 4, baseline: per_frame,
               metrics: [warp_exact, warp_indep, style_loss, content_loss, runtime]}
    styles:
      - {name: starry, path: examples/starry_night.jpg, size: 256}   # or {name: t, seed: 7}: a random texture
    clips:
      - {name: city, kind: video, path: examples/city.mp4, start: 1.0, frames: 24, max_side: 256}
      - {name: pan, kind: synthetic, path: examples/city.mp4, width: 256, height: 144, frames: 16,
         translation: [2.0, 0.5], occluder: 40, occluder_position: [10, 50], occluder_velocity: [4, 0]}
      - {name: zoom, kind: synthetic, seed: 3, width: 256, height: 144, frames: 16, zoom: 1.02}  # a texture
      - {name: cut, kind: cut, parts: [pan, zoom]}
    arms:                     # name: overrides of sanet_video.temporal.TemporalConfig
      per_frame: {temporal: "off"}
      full: &full {temporal: full, target: probs, sigma: 0.5, blend: 0.9}
      no_cut_detection: {<<: *full, scene_cuts: false, clips: [cut]}   # 'clips' limits an arm to some clips

Every cell of the grid is (clip, style, arm); the runner adds the reference arm
:data:`INPUT_ARM` (the input video itself, unstylized) to every clip and style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import from_dict, load_yaml
from ..errors import UserError
from ..temporal import TemporalConfig
from .metrics import METRICS

CLIP_KINDS = ("synthetic", "video", "cut")
MAIN_SETTINGS = ("temporal", "target", "sigma", "blend")
INPUT_ARM = "input"
"""Reserved arm name: the input frames scored as if they were an output."""


@dataclass
class Settings:
    """What applies to every cell of the grid."""

    weights: str = field(default="default", metadata={"help": "shipped SANet weights"})
    alpha: float = field(default=1.0, metadata={"help": "style strength"})
    batch_size: int = field(default=4, metadata={"help": "frames stylized together"})
    device: str = field(default="cpu", metadata={"help": "torch device"})
    baseline: str = field(default="per_frame", metadata={"help": "arm the others are compared with"})
    metrics: list[str] = field(default_factory=lambda: list(METRICS), metadata={"help": "metrics to compute"})

    def check(self) -> None:
        unknown = sorted(set(self.metrics) - set(METRICS))
        if unknown:
            raise UserError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
        if self.batch_size < 1 or not 0.0 <= self.alpha <= 1.0:
            raise UserError("settings: batch_size must be at least 1 and alpha between 0 and 1")


@dataclass
class StyleSpec:
    """A style image: a file, or a random texture (:func:`flow.random_texture`) when no path is given."""

    name: str
    path: str | None = None
    seed: int = 0
    size: int = field(default=256, metadata={"help": "short side of the style image, pixels"})


@dataclass
class ClipSpec:
    """A clip of the grid.

    ``synthetic``: an affine camera (pan ``translation``, ``zoom``, ``rotation`` per
    frame) over a still photo, with an optional moving square ``occluder`` (side in
    pixels, 0 for none); the photo is ``path`` (an image, or a video's frame at ``start``
    seconds) or else a random texture of ``seed``; frames are ``width`` x ``height``.
    The exact flow is known.
    ``video``: ``frames`` frames of the video file ``path`` from ``start`` seconds,
    downscaled to at most ``max_side`` pixels. ``cut``: the clips named in ``parts``
    (of one size) played one after another, so it has a scene cut between parts.
    """

    name: str
    kind: str = "synthetic"
    path: str | None = None
    frames: int = 16
    fps: float = 12.0
    seed: int = 0
    width: int = 256
    height: int = 144
    translation: list[float] = field(default_factory=lambda: [0.0, 0.0])
    zoom: float = 1.0
    rotation: float = 0.0
    occluder: int = 0
    occluder_position: list[float] = field(default_factory=lambda: [0.0, 0.0])
    occluder_velocity: list[float] = field(default_factory=lambda: [0.0, 0.0])
    start: float = 0.0
    max_side: int = 256
    parts: list[str] = field(default_factory=list)

    def check(self) -> None:
        where = f"clip {self.name!r}"
        if self.kind not in CLIP_KINDS:
            raise UserError(f"{where}: kind must be one of {', '.join(CLIP_KINDS)}, not {self.kind!r}")
        if self.kind == "video" and not self.path:
            raise UserError(f"{where}: a video clip needs 'path'")
        if self.kind == "cut" and len(self.parts) < 2:
            raise UserError(f"{where}: a cut clip needs at least two 'parts' (names of clips above it)")
        if self.frames < 2 or self.width < 8 or self.height < 8:
            raise UserError(f"{where}: needs at least 2 frames of at least 8x8 pixels")
        if len(self.translation) != 2 or len(self.occluder_position) != 2 or len(self.occluder_velocity) != 2:
            raise UserError(f"{where}: translation and occluder position/velocity are [x, y] pairs")


def effective_settings(conf: TemporalConfig) -> dict[str, Any]:
    """The temporal settings that shape an arm's output (its cache key), in TemporalConfig's order.

    Settings the arm does not use are left out (sigma without spatial smoothing, blend
    without warping, the flow settings without flow), so that changing such a default
    recomputes nothing.
    """
    used = {"temporal"} | ({"output_blend"} if conf.temporal != "off" else set())
    if conf.spatial or conf.warps:
        used.add("target")
        if conf.target == "probs":
            used.add("match_stats")
    if conf.spatial:
        used.add("sigma")
    if conf.warps:
        used.update(("blend", "gate"))
    if conf.needs_flow:
        used.update(("flow", "flow_preset", "flow_scale", "scene_cuts", "interpolation", "photometric"))
    if conf.blends_outputs:
        used.add("output_contrast")
    return {name: value for name, value in vars(conf).items() if name in used}


@dataclass
class Arm:
    """A named temporal setting, and the clips it runs on (all when ``clips`` is empty)."""

    name: str
    temporal: TemporalConfig
    clips: list[str]

    def describe(self) -> str:
        """The settings it uses (the main four always, the others where not default), and its clips if limited."""
        defaults = vars(TemporalConfig())
        settings = effective_settings(self.temporal)
        text = ", ".join(f"{k}={v}" for k, v in settings.items() if k in MAIN_SETTINGS or v != defaults[k])
        return text + (f" (clips: {', '.join(self.clips)})" if self.clips else "")


@dataclass
class Experiment:
    """The whole grid, as read from the YAML file (``text`` keeps the file for the report)."""

    settings: Settings
    styles: list[StyleSpec]
    clips: list[ClipSpec]
    arms: list[Arm]
    text: str


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file.

    Raises:
        UserError: the file is missing or malformed, names are repeated or unknown,
            or a value is out of range; the message names the entry.
    """
    path = Path(path)
    data = load_yaml(path)
    unknown = sorted(set(data) - {"settings", "styles", "clips", "arms"})
    if unknown:
        raise UserError(f"{path}: unknown section(s) {', '.join(unknown)}; known: settings, styles, clips, arms")
    settings = from_dict(Settings, data.get("settings") or {}, f"{path}: settings")
    styles = [from_dict(StyleSpec, item, f"{path}: styles[{i}]") for i, item in enumerate(_items(data, "styles", path))]
    clips = [from_dict(ClipSpec, item, f"{path}: clips[{i}]") for i, item in enumerate(_items(data, "clips", path))]
    arms = [_arm(name, overrides, path) for name, overrides in _mapping(data, "arms", path).items()]
    _check_names(path, styles, clips, arms, settings.baseline)
    return Experiment(settings, styles, clips, arms, path.read_text())


def _items(data: dict[str, Any], key: str, path: Path) -> list[Any]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise UserError(f"{path}: '{key}' should be a non-empty list")
    return items


def _mapping(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    items = data.get(key)
    if not isinstance(items, dict) or not items:
        raise UserError(f"{path}: '{key}' should be a non-empty mapping of names to settings")
    return items


def _arm(name: Any, overrides: Any, path: Path) -> Arm:
    source = f"{path}: arms.{name}"
    overrides = dict(overrides or {})
    clips = overrides.pop("clips", [])
    if not isinstance(clips, list):
        raise UserError(f"{source}: 'clips' should be a list of clip names")
    return Arm(str(name), from_dict(TemporalConfig, overrides, source), [str(c) for c in clips])


def _check_names(path: Path, styles: list[StyleSpec], clips: list[ClipSpec], arms: list[Arm],
                 baseline: str) -> None:
    for what, names in (("style", [s.name for s in styles]), ("clip", [c.name for c in clips]),
                        ("arm", [a.name for a in arms])):
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise UserError(f"{path}: {what} name(s) {', '.join(repeated)} used more than once")
    if INPUT_ARM in {a.name for a in arms}:
        raise UserError(f"{path}: the arm name {INPUT_ARM!r} is reserved for the unstylized input")
    if baseline not in {a.name for a in arms}:
        raise UserError(f"{path}: settings.baseline {baseline!r} is not one of the arms")
    seen: set[str] = set()
    for clip in clips:
        missing = [p for p in clip.parts if p not in seen]
        if missing:
            raise UserError(f"{path}: clip {clip.name!r} uses {', '.join(missing)}, which must be defined above it")
        seen.add(clip.name)
    for arm in arms:
        missing = [c for c in arm.clips if c not in seen]
        if missing:
            raise UserError(f"{path}: arm {arm.name!r} names unknown clip(s) {', '.join(missing)}")

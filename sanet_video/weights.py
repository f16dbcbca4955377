"""Trained SANet weights that ship with the package, in torchvision's manner.

Each entry of :class:`SANetWeights` names a safetensors file in
``sanet_video/weights/`` (fp16 transform and decoder, fp32 VGG normalisation scales)
and a JSON file beside it with its SHA-256 and meta: parameters, training recipe,
data, iterations, date and held-out metrics. The file is checked before use and read
with safetensors; nothing is unpickled.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load

from ._vgg import read_verified
from .errors import UserError
from .net import SANet

WEIGHTS_DIR = Path(__file__).with_name("weights")
SCALE_PREFIX = "vgg_scales."


class _WeightsFile:
    def __init__(self, stem: str) -> None:
        self.stem = stem

    @property
    def path(self) -> Path:
        return WEIGHTS_DIR / f"{self.stem}.safetensors"

    @property
    def meta(self) -> dict[str, Any]:
        meta_path = WEIGHTS_DIR / f"{self.stem}.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError):
            meta = None
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
            raise UserError(f"the weights' meta file {meta_path} is missing, unreadable or has no SHA-256; "
                            "reinstall sanet-video")
        return meta


class SANetWeights(Enum):
    """Weights trained for this project on the offline ``sanet-train`` set (see docs/MODEL_CARD.md)."""

    V1 = _WeightsFile("sanet_v1")
    V2 = _WeightsFile("sanet_v2")  # a candidate of the v2 recipe; the default stays V1 until V2 wins
    DEFAULT = V1

    @property
    def path(self) -> Path:
        return self.value.path

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta

    @classmethod
    def resolve(cls, weights: "SANetWeights | str") -> "SANetWeights":
        if isinstance(weights, cls):
            return weights
        try:
            return cls[str(weights).upper()]
        except KeyError:
            names = ", ".join(name.lower() for name in cls.__members__)
            raise UserError(f"unknown weights {weights!r}; choose one of: {names}") from None


def read_state(path: Path, sha256: str) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file, refused in one line if it is missing or does not match ``sha256``.

    The bytes are read once, hashed, and parsed from memory.
    """
    if not path.is_file():
        raise UserError(f"weights file {path} is missing; reinstall sanet-video")
    data = read_verified(path, sha256)
    if data is None:
        raise UserError(f"weights file {path} is corrupt (SHA-256 mismatch); reinstall sanet-video")
    try:
        return load(data)
    except (SafetensorError, OSError) as err:
        raise UserError(f"weights file {path} cannot be read ({err}); reinstall sanet-video") from None


def read_weights(weights: "SANetWeights | str | Path") -> dict[str, torch.Tensor]:
    """The checked state of shipped weights (an entry or its name) or of a ``.safetensors`` file.

    A file needs its meta JSON (with ``sha256``) beside it, as :mod:`sanet_video.export_weights`
    writes it; that is how candidates are evaluated before they ship.
    """
    if isinstance(weights, Path) or str(weights).endswith(".safetensors"):
        path = Path(weights)
        meta_path = path.with_suffix(".json")
        try:
            sha256 = json.loads(meta_path.read_text())["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            raise UserError(f"{meta_path} is missing or has no sha256; keep the weights' meta file beside "
                            "them") from None
        return read_state(path, sha256)
    entry = SANetWeights.resolve(weights)
    return read_state(entry.path, entry.meta["sha256"])


def split_state(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(VGG scales by conv name, transform and decoder parameters)."""
    scales = {k[len(SCALE_PREFIX):]: v for k, v in state.items() if k.startswith(SCALE_PREFIX)}
    params = {k: v.float() for k, v in state.items() if not k.startswith(SCALE_PREFIX)}
    return scales, params


def build_from_state(state: dict[str, torch.Tensor]) -> SANet:
    scales, params = split_state(state)
    model = SANet(scales)
    missing, unexpected = model.load_state_dict(params, strict=False)
    missing = [k for k in missing if not k.startswith("encoder.")]
    if missing or unexpected:
        raise UserError(f"weights do not fit the model (missing {missing[:3]}, unexpected {unexpected[:3]}); "
                        "reinstall sanet-video")
    return model


def load_sanet(*, weights: SANetWeights | str | Path = SANetWeights.DEFAULT,
               device: torch.device | str = "cpu") -> SANet:
    """SANet with trained weights, in eval mode.

    Args:
        weights: an entry of :class:`SANetWeights`, its name ("default", "v1"), or a
            ``.safetensors`` file with its meta JSON beside it (a candidate being evaluated).
        device: where to put the model.

    Returns:
        The model; its encoder is the fixed, normalised VGG19.

    Raises:
        UserError: the weights file is missing, corrupt or does not fit.
    """
    return build_from_state(read_weights(weights)).to(device).eval()

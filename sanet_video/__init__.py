"""sanet-video: flicker-free video style transfer with SANet (Park & Lee, CVPR 2019)."""

from __future__ import annotations

from typing import Any

from .errors import UserError
from .net import SANet, StyleCode
from .weights import SANetWeights, load_sanet

__all__ = ["SANet", "SANetWeights", "StyleCode", "UserError", "load_sanet", "stylize_image", "stylize_video"]
__version__ = "0.1.0"

_LAZY = {"stylize_image", "stylize_video"}  # from .api, which imports PyAV, OpenCV and kornia


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

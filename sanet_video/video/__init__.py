"""Video in, video out: decoding, per-stream stylization, encoding, and the loop that ties them."""

from .pipeline import RunSummary
from .stylizer import FrameStylizer, StylizerOptions

__all__ = ["FrameStylizer", "RunSummary", "StylizerOptions"]

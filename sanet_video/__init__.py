"""sanet-video: flicker-free video style transfer with SANet (Park & Lee, CVPR 2019)."""

from .api import stylize_image, stylize_video
from .errors import UserError
from .net import SANet, StyleCode
from .weights import SANetWeights, load_sanet

__all__ = ["SANet", "SANetWeights", "StyleCode", "UserError", "load_sanet", "stylize_image", "stylize_video"]
__version__ = "0.1.0"

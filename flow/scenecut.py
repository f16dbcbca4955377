"""Scene-cut detection between consecutive frames by colour-histogram distance.

The distance is ``1 - sum(min(p, q))`` (one minus histogram intersection, i.e. the total
variation distance) between the normalised joint RGB histograms ``p, q`` of the two frames,
``bins`` levels per channel; 0 for identical colour distributions, 1 for disjoint ones.
Within a shot it stays low (camera motion, moving objects change few pixels' colours);
across a cut to a differently coloured scene it jumps. A cut between two shots of similar
colours is missed; there the forward-backward check of :mod:`flow.occlusion` still marks
most pixels invalid, so temporal propagation is cut off anyway.
"""

from __future__ import annotations

import cv2
import numpy as np

from flow._frames import Frames, to_rgb_uint8

CUT_THRESHOLD = 0.4
"""Default distance above which a pair is a cut (8 bins per channel)."""


def color_histogram(frame: Frames, bins: int = 8) -> np.ndarray:
    """Joint RGB histogram of one frame, ``bins**3`` float32 values summing to 1."""
    image = to_rgb_uint8(frame)
    hist = cv2.calcHist([np.ascontiguousarray(image)], [0, 1, 2], None, [bins] * 3, [0, 256] * 3)
    return hist.ravel() / hist.sum()


def intersection_distance(first: np.ndarray, second: np.ndarray) -> float:
    """``1 - histogram intersection`` of two normalised histograms, in [0, 1]."""
    return 1.0 - float(np.minimum(first, second).sum())


def histogram_distance(first: Frames, second: Frames, bins: int = 8) -> float:
    """:func:`intersection_distance` of the two frames' colour histograms."""
    return intersection_distance(color_histogram(first, bins), color_histogram(second, bins))


def is_scene_cut(previous: Frames, current: Frames, threshold: float = CUT_THRESHOLD,
                 bins: int = 8) -> bool:
    """Whether ``current`` starts a new shot after ``previous``.

    Args:
        previous: one frame (see :mod:`flow`).
        current: the next frame; any size (histograms are normalised).
        threshold: cut when :func:`histogram_distance` exceeds it.
        bins: histogram levels per channel.
    """
    return histogram_distance(previous, current, bins) > threshold

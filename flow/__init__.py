"""Optical flow toolkit: estimation, warping, occlusion, scene cuts, visualisation, metrics.

Independent of any model. Conventions shared by every module:

* Frames are RGB: NumPy channels-last ``(H, W, 3)`` or torch channels-first ``(3, H, W)``,
  with a leading ``N`` for a batch; uint8 in [0, 255] or float in [0, 1].
* Flows are float tensors ``(2, H, W)`` / ``(N, 2, H, W)``, channel 0 = x (columns),
  channel 1 = y (rows), in pixels of their own grid. Pixel centres are at integer
  coordinates (``align_corners=False`` everywhere).
* The *backward flow* ``w`` of frame t goes from frame t to frame t-1: pixel ``x`` of frame
  t was at ``x + w(x)`` in frame t-1, and ``warp(frame_{t-1}, w)`` aligns frame t-1 to
  frame t. Get it with ``FlowEstimator.backward(prev, cur)`` (= ``estimator(cur, prev)``).
* Masks are float ``(N, 1, H, W)``, 1 = valid, 0 = occluded or out of frame.
* In sequences, ``flows[i]`` / ``masks[i]`` belong to the pair ``(frames[i], frames[i+1])``.
"""

from flow.estimate import DIS_PRESETS, FARNEBACK_PRESETS, FlowEstimator, estimate_flow
from flow.metrics import pair_warping_error, video_warping_error, warping_error
from flow.occlusion import in_frame_mask, photometric_mask, validity_mask
from flow.scenecut import CUT_THRESHOLD, color_histogram, histogram_distance, intersection_distance, is_scene_cut
from flow.synthetic import CameraMotion, Occluder, SyntheticClip, random_texture, synthetic_clip
from flow.visualize import flow_to_rgb, flow_wheel
from flow.warp import resize_flow, sample, warp

__all__ = [
    "CUT_THRESHOLD", "DIS_PRESETS", "FARNEBACK_PRESETS", "CameraMotion", "FlowEstimator",
    "Occluder", "SyntheticClip", "color_histogram", "estimate_flow", "flow_to_rgb", "flow_wheel",
    "histogram_distance", "intersection_distance", "in_frame_mask", "is_scene_cut", "pair_warping_error", "photometric_mask",
    "random_texture", "resize_flow", "sample", "synthetic_clip", "validity_mask",
    "video_warping_error", "warp", "warping_error",
]

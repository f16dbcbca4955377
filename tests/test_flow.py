"""Tests of the flow package on synthetic clips with exact motion (CPU, small frames)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import flow
from flow import CameraMotion, FlowEstimator, Occluder

SIZE = (96, 128)


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    return flow.random_texture((160, 200), seed=0)


def _epe(estimated: torch.Tensor, exact: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """End-point errors at the valid pixels."""
    return (estimated - exact).norm(dim=-3, keepdim=True)[mask > 0]


# --- warping -----------------------------------------------------------------------------

def test_warp_zero_flow_is_identity() -> None:
    image = torch.rand(2, 3, 17, 23)
    assert torch.allclose(flow.warp(image, torch.zeros(2, 2, 17, 23)), image, atol=1e-6)


def test_warp_translation_moves_content_exactly() -> None:
    image = torch.rand(1, 3, 20, 30)
    shift = torch.tensor([3.0, -2.0]).view(1, 2, 1, 1).expand(1, 2, 20, 30)
    warped = flow.warp(image, shift)
    # out(y, x) = image(y - 2, x + 3)
    assert torch.allclose(warped[..., 2:, :-3], image[..., :-2, 3:], atol=1e-5)


def test_warp_half_pixel_averages_neighbours() -> None:
    image = torch.rand(3, 10, 12)
    half = torch.zeros(2, 10, 12)
    half[0] = 0.5
    warped = flow.warp(image, half)
    assert torch.allclose(warped[..., :-1], (image[..., :-1] + image[..., 1:]) / 2, atol=1e-6)


def test_bicubic_warp_zero_flow_is_identity_and_translation_exact() -> None:
    image = torch.rand(1, 3, 20, 30)
    assert torch.allclose(flow.warp(image, torch.zeros(1, 2, 20, 30), mode="bicubic"), image, atol=1e-5)
    shift = torch.tensor([3.0, -2.0]).view(1, 2, 1, 1).expand(1, 2, 20, 30)
    warped = flow.warp(image, shift, mode="bicubic")
    assert torch.allclose(warped[..., 2:, :-3], image[..., :-2, 3:], atol=1e-5)


def test_bicubic_warps_blur_less_than_bilinear_ones() -> None:
    image = torch.rand(1, 1, 40, 40)
    half = torch.zeros(1, 2, 40, 40)
    half[:, 0] = 0.5
    there_and_back = {mode: flow.warp(flow.warp(image, half, mode=mode), -half, mode=mode) for mode in ("bilinear", "bicubic")}
    inner = (..., slice(4, -4), slice(4, -4))
    assert there_and_back["bicubic"][inner].std() > 1.1 * there_and_back["bilinear"][inner].std()


def test_warp_with_flow_at_lower_resolution() -> None:
    image = torch.rand(1, 3, 32, 48)
    coarse = torch.tensor([1.5, 0.5]).view(1, 2, 1, 1).expand(1, 2, 16, 24)
    full = torch.tensor([3.0, 1.0]).view(1, 2, 1, 1).expand(1, 2, 32, 48)
    assert torch.allclose(flow.warp(image, coarse), flow.warp(image, full), atol=1e-5)


def test_resize_flow_scales_vectors_per_axis() -> None:
    field = torch.tensor([4.0, 2.0]).view(2, 1, 1).expand(2, 32, 48)
    small = flow.resize_flow(field, (8, 24))
    assert small.shape == (2, 8, 24)
    assert torch.allclose(small[0], torch.full((8, 24), 2.0))
    assert torch.allclose(small[1], torch.full((8, 24), 0.5))
    assert torch.allclose(flow.resize_flow(small, (32, 48)), field)


# --- synthetic clips ---------------------------------------------------------------------

@pytest.mark.parametrize("motion, occluder, tolerance", [
    (CameraMotion((2.0, -1.0)), None, 1e-10),
    (CameraMotion((1.5, 0.5), zoom=1.03, rotation=2.0), None, 2e-3),
    (CameraMotion((2.0, 0.0), zoom=0.98), Occluder(24, (20, 30), (4, 1)), 2e-3),
])
def test_synthetic_flow_aligns_previous_frame(texture, motion, occluder, tolerance) -> None:
    clip = flow.synthetic_clip(texture, 4, motion, occluder, size=SIZE)
    assert clip.frames.shape == (4, *SIZE, 3) and clip.frames.dtype == np.uint8
    assert clip.backward_flows.shape == clip.forward_flows.shape == (3, 2, *SIZE)
    assert clip.masks.shape == (3, 1, *SIZE)
    assert 0.5 < clip.masks.mean() < 1.0
    assert flow.warping_error(clip.frames, clip.backward_flows, clip.masks) < tolerance


def test_synthetic_pan_flow_is_the_translation(texture) -> None:
    clip = flow.synthetic_clip(texture, 3, CameraMotion((1.5, -0.5)), size=SIZE)
    assert torch.allclose(clip.backward_flows[:, 0], torch.tensor(1.5))
    assert torch.allclose(clip.backward_flows[:, 1], torch.tensor(-0.5))
    assert torch.allclose(clip.forward_flows, -clip.backward_flows)


# --- estimation --------------------------------------------------------------------------

@pytest.mark.parametrize("method, preset", [
    ("dis", "ultrafast"), ("dis", "fast"), ("dis", "medium"),
    ("farneback", "fast"), ("farneback", "medium"),
])
def test_estimators_recover_pan(texture, method, preset) -> None:
    clip = flow.synthetic_clip(texture, 3, CameraMotion((1.5, -0.75)), size=SIZE)
    estimator = FlowEstimator(method, preset)
    estimated = estimator.backward(clip.frames[:-1], clip.frames[1:])
    assert estimated.shape == (2, 2, *SIZE) and estimated.dtype == torch.float32
    assert _epe(estimated, clip.backward_flows, clip.masks).mean() < 0.25


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_estimators_recover_zoom_and_rotation(texture, method) -> None:
    clip = flow.synthetic_clip(texture, 2, CameraMotion((1.0, 0.5), zoom=1.02, rotation=1.0), size=SIZE)
    estimated = flow.estimate_flow(clip.frames[1], clip.frames[0], method=method, preset="medium")
    assert estimated.shape == (2, *SIZE)
    assert _epe(estimated, clip.backward_flows[0], clip.masks[0]).mean() < 0.2


def test_estimator_accepts_tensors(texture) -> None:
    clip = flow.synthetic_clip(texture, 2, CameraMotion((2.0, 1.0)), size=SIZE)
    estimator = FlowEstimator()
    from_numpy = estimator(clip.frames[1], clip.frames[0])
    frames = torch.from_numpy(clip.frames).permute(0, 3, 1, 2).float() / 255
    from_tensor = estimator(frames[1], frames[0])
    assert from_tensor.shape == (2, *SIZE)
    assert (from_tensor - from_numpy).abs().mean() < 0.02


def test_estimator_pickles_and_takes_views(texture) -> None:
    estimator = pickle.loads(pickle.dumps(FlowEstimator("dis", "fast", scale=0.5)))
    assert estimator == FlowEstimator("dis", "fast", scale=0.5)
    bgr = texture[:SIZE[0], :SIZE[1], ::-1]  # a non-contiguous view
    assert estimator(bgr, bgr).abs().max() < 1e-3


def test_flow_at_reduced_resolution_is_in_reduced_pixels(texture) -> None:
    clip = flow.synthetic_clip(texture, 2, CameraMotion((4.0, -2.0)), size=SIZE)
    prev, cur = clip.frames[0], clip.frames[1]
    half = FlowEstimator(scale=0.5).backward(prev, cur)
    assert half.shape == (2, 48, 64)
    assert torch.allclose(half.flatten(1).median(1).values, torch.tensor([2.0, -1.0]), atol=0.1)
    eighth = FlowEstimator(size=(12, 16)).backward(prev, cur)
    assert eighth.shape == (2, 12, 16)
    assert torch.allclose(eighth.flatten(1).median(1).values, torch.tensor([0.5, -0.25]), atol=0.1)
    full = flow.resize_flow(half, SIZE)
    assert _epe(full, clip.backward_flows[0], clip.masks[0]).median() < 0.2


@pytest.mark.parametrize("kwargs", [
    dict(method="raft"), dict(preset="slow"), dict(method="farneback", preset="ultrafast"),
    dict(size=(8, 8), scale=0.5), dict(scale=0.0),
])
def test_estimator_rejects_bad_configuration(kwargs) -> None:
    with pytest.raises(ValueError):
        FlowEstimator(**kwargs)


# --- occlusion ---------------------------------------------------------------------------

def test_validity_mask_marks_out_of_frame_and_inconsistent_pixels() -> None:
    backward = torch.zeros(1, 2, 16, 20)
    backward[:, 0] = 2.0
    forward = -backward.clone()
    assert torch.equal(flow.validity_mask(backward, forward)[0, 0, :, :-2], torch.ones(16, 18))
    assert torch.equal(flow.validity_mask(backward, forward)[0, 0, :, -2:], torch.zeros(16, 2))
    forward[:, 0, 4:12, 4:12] = 3.0  # disagrees where backward lands: x + 2 in [4, 11]
    mask = flow.validity_mask(backward, forward)[0, 0]
    assert torch.equal(mask[5:11, 3:9], torch.zeros(6, 6))
    assert mask[:, 12:18].all() and mask[:3, :-2].all()


def test_validity_mask_accepts_exact_affine_flows(texture) -> None:
    clip = flow.synthetic_clip(texture, 3, CameraMotion((1.0, 0.5), zoom=0.97, rotation=2.0), size=SIZE)
    mask = flow.validity_mask(clip.backward_flows, clip.forward_flows)
    in_frame = flow.in_frame_mask(clip.backward_flows)
    assert torch.equal(mask, in_frame)
    assert in_frame[..., 20:-20, 20:-20].all() and not in_frame[..., 0, :].all()


def test_validity_mask_finds_moving_occluder(texture) -> None:
    occluder = Occluder(24, (20, 30), (5, 0))
    clip = flow.synthetic_clip(texture, 3, CameraMotion((2.0, 0.0)), occluder, size=SIZE)
    background = flow.synthetic_clip(texture, 3, CameraMotion((2.0, 0.0)), size=SIZE)
    backward, forward = FlowEstimator().bidirectional(clip.frames[:-1], clip.frames[1:])
    flagged = flow.validity_mask(backward, forward) == 0
    exact_invalid = clip.masks == 0
    out_of_frame = background.masks == 0
    # revealed background: invalid in the exact mask, not under the occluder now
    on_occluder = torch.from_numpy((clip.frames != background.frames).any(-1))[1:, None]
    revealed = exact_invalid & ~on_occluder & ~out_of_frame
    assert revealed.sum() > 300
    assert (flagged & revealed).sum() / revealed.sum() > 0.5
    assert (flagged & out_of_frame).sum() / out_of_frame.sum() > 0.95
    near_invalid = F.max_pool2d(exact_invalid.float(), 9, stride=1, padding=4) > 0
    assert (flagged & ~near_invalid).sum() / (~near_invalid).sum() < 0.01


def test_photometric_mask_flags_the_band_behind_a_moving_occluder(texture) -> None:
    occluder = Occluder(24, (20, 30), (5, 0))
    clip = flow.synthetic_clip(texture, 3, CameraMotion((2.0, 0.0)), occluder, size=SIZE)
    frames = torch.from_numpy(clip.frames).permute(0, 3, 1, 2).float() / 255
    mask = flow.photometric_mask(frames[:-1], frames[1:], clip.backward_flows, threshold=0.15)
    valid = clip.masks > 0
    assert mask[valid].mean() > 0.97  # the exact flow brings the right colours
    assert mask[~valid & (clip.backward_flows.abs().sum(1, keepdim=True) > 0)].mean() < 0.5


# --- scene cuts --------------------------------------------------------------------------

def test_scene_cut_detected_on_cut_not_on_pan(texture) -> None:
    pan = flow.synthetic_clip(texture, 3, CameraMotion((6.0, 3.0)), size=SIZE)
    other = flow.random_texture(SIZE, seed=5)
    assert not flow.is_scene_cut(pan.frames[0], pan.frames[1])
    assert not flow.is_scene_cut(pan.frames[0], pan.frames[2])
    assert flow.is_scene_cut(pan.frames[2], other)
    as_tensor = torch.from_numpy(other).permute(2, 0, 1).float() / 255
    assert flow.histogram_distance(other, as_tensor) == pytest.approx(0.0, abs=1e-6)
    assert flow.is_scene_cut(pan.frames[2], as_tensor)


# --- warping error -----------------------------------------------------------------------

def test_warping_error_of_identical_frames_is_zero() -> None:
    frames = torch.rand(1, 3, 24, 32).expand(4, -1, -1, -1)
    assert flow.warping_error(frames, torch.zeros(3, 2, 24, 32)) == pytest.approx(0.0, abs=1e-10)
    assert flow.video_warping_error(frames) == pytest.approx(0.0, abs=1e-10)


def test_warping_error_separates_clean_clip_from_flicker(texture) -> None:
    clip = flow.synthetic_clip(texture, 5, CameraMotion((1.5, -0.5)), size=SIZE)
    rng = np.random.default_rng(0)
    noisy = np.clip(clip.frames + rng.normal(0.0, 0.05 * 255, clip.frames.shape), 0, 255).astype(np.uint8)
    clean_error = flow.warping_error(clip.frames, clip.backward_flows, clip.masks)
    noisy_error = flow.warping_error(noisy, clip.backward_flows, clip.masks)
    assert clean_error < 1e-3
    assert noisy_error > 10 * clean_error and noisy_error > 5e-3
    estimated_clean = flow.video_warping_error(clip.frames)
    estimated_noisy = flow.video_warping_error(noisy, reference=clip.frames)
    assert estimated_clean < 1e-3 and estimated_noisy > 10 * estimated_clean


def test_pair_warping_error_batches_pairs() -> None:
    current, previous = torch.rand(3, 3, 8, 8), torch.rand(3, 3, 8, 8)
    errors = flow.pair_warping_error(current, previous, torch.zeros(3, 2, 8, 8))
    assert errors.shape == (3,)
    assert torch.allclose(errors, (current - previous).square().sum(1).mean((1, 2)))


# --- visualisation -----------------------------------------------------------------------

def test_flow_to_rgb_colours() -> None:
    field = torch.zeros(2, 4, 8)
    field[0, :, 4:] = 1.0    # right
    field[0, :2, :4] = -1.0  # left
    image = flow.flow_to_rgb(field)
    assert image.shape == (4, 8, 3) and image.dtype == np.uint8
    assert (image[2:, :4] == 255).all()  # zero motion is white
    assert tuple(image[0, 6]) == (255, 0, 0)  # right is red
    assert tuple(image[0, 0]) == (0, 255, 255)  # left is cyan
    assert flow.flow_to_rgb(field[None].expand(3, -1, -1, -1)).shape == (3, 4, 8, 3)
    wheel = flow.flow_wheel(33)
    assert wheel.shape == (33, 33, 3) and (wheel[0, 0] == 255).all() and (wheel[16, 16] == 255).all()


@pytest.mark.parametrize("method", ["dis", "farneback"])
@pytest.mark.parametrize("shape", [(48, 64), (11, 11), (1, 1)])
def test_tiny_frames_get_a_flow(method, shape):
    """Reduced grids keep a usable size; frames too small for DIS still get a (zero-ish) flow."""
    frame = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    estimator = FlowEstimator(method, "medium", scale=0.25)
    flow = estimator(frame, frame)
    assert flow.shape[0] == 2 and max(flow.shape[1:]) >= min(max(shape), 32)
    assert torch.isfinite(flow).all() and flow.abs().max() < 1.0

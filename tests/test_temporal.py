"""Temporal smoothing: the efficient path equals the explicit attention-matrix path,
cuts reset the state, and a static scene stays static."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flow import random_texture
from sanet_video.function import style_attention
from sanet_video.temporal import (Motion, TemporalAttention, TemporalConfig, TemporalStylizer, channel_stats,
                                  explicit_attention, match_stats, query_gates, restore_contrast)


def random_motions(count: int, size: tuple[int, int], seed: int) -> list[Motion | None]:
    g = torch.Generator().manual_seed(seed)
    motions: list[Motion | None] = [None]
    for _ in range(count - 1):
        flow = torch.randn(1, 2, *size, generator=g, dtype=torch.float64) * 1.5
        valid = (torch.rand(1, 1, *size, generator=g) > 0.3).double()
        motions.append(Motion(flow, valid))
    return motions


@pytest.mark.parametrize("extra", [{}, {"match_stats": True, "gate": 0.8}, {"interpolation": "bicubic", "gate": 3.0}])
@pytest.mark.parametrize("target", ["logits", "probs"])
@pytest.mark.parametrize("temporal", ["spatial", "flow", "full"])
def test_efficient_path_equals_explicit_attention(target, temporal, extra):
    g = torch.Generator().manual_seed(1)
    frames, channels, grid = 4, 8, (6, 7)
    queries = torch.randn(frames, channels, *grid, generator=g, dtype=torch.float64)
    key = torch.randn(1, channels, 3, 5, generator=g, dtype=torch.float64)
    value = torch.randn(1, channels, 3, 5, generator=g, dtype=torch.float64)
    conf = TemporalConfig(temporal=temporal, target=target, sigma=0.8, blend=0.7, **extra)
    motions = random_motions(frames, grid, seed=2)
    frame_size = (grid[0] * 8, grid[1] * 8 - 8)  # the frame covers all cells of the padded grid

    filt = TemporalAttention(conf)
    filt.set_motion(motions, frame_size)
    filtered = filt.queries([queries])[0]
    if target == "logits":
        efficient = style_attention(filtered, key, value)
    else:
        efficient = filt.attended(0, [style_attention(queries, key, value)])[0]
    explicit = explicit_attention(queries, key, value, conf, motions, frame_size)
    torch.testing.assert_close(efficient, explicit, rtol=1e-9, atol=1e-9)
    plain = style_attention(queries, key, value)
    assert (efficient - plain).abs().max() > 1e-3  # the filter did something


def test_state_carries_across_batches():
    """Two batches of two frames give what one batch of four gives."""
    g = torch.Generator().manual_seed(3)
    queries = torch.randn(4, 4, 5, 5, generator=g, dtype=torch.float64)
    conf = TemporalConfig(temporal="full", sigma=1.0, blend=0.6)
    motions = random_motions(4, (5, 5), seed=4)
    whole = TemporalAttention(conf)
    whole.set_motion(motions, (40, 40))
    split = TemporalAttention(conf)
    split.set_motion(motions[:2], (40, 40))
    first = split.queries([queries[:2]])[0]
    split.set_motion(motions[2:], (40, 40))
    second = split.queries([queries[2:]])[0]
    torch.testing.assert_close(torch.cat([first, second]), whole.queries([queries])[0])


def test_match_stats_restores_each_channels_mean_and_std():
    g = torch.Generator().manual_seed(5)
    current = torch.randn(3, 6, 5, 7, generator=g, dtype=torch.float64) * 2 + 1
    blurred = 0.5 * current + 0.5 * torch.randn(current.shape, generator=g, dtype=torch.float64) * 0.3
    mean, std = channel_stats(current)
    matched = match_stats(blurred, (mean, std))
    new_mean, new_std = channel_stats(matched)
    torch.testing.assert_close(new_mean, mean)
    torch.testing.assert_close(new_std, std, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(match_stats(current, (mean, std)), current, rtol=1e-5, atol=1e-5)


def test_query_gate_keeps_predicted_cells_and_drops_changed_ones():
    g = torch.Generator().manual_seed(6)
    first = torch.randn(1, 16, 8, 10, generator=g)
    second = first.clone()
    second[..., 2:5, 3:6] = torch.randn(1, 16, 3, 3, generator=g)  # something new moved in
    still = Motion(torch.zeros(1, 2, 8, 10), torch.ones(1, 1, 8, 10))
    gates = query_gates(torch.cat([first, second]), None, [None, still], tau=0.6, frame_size=(64, 80))
    assert gates[0] is None
    changed = torch.zeros(8, 10, dtype=torch.bool)
    changed[2:5, 3:6] = True
    assert (gates[1][0, 0][~changed] == 1).all() and (gates[1][0, 0][changed] == 0).all()


def test_restore_contrast_raises_flattened_texture_only():
    g = torch.Generator().manual_seed(7)
    texture = torch.rand(1, 3, 32, 32, generator=g)
    flat = 0.5 + 0.6 * (texture - 0.5)
    restored = restore_contrast(flat, texture, sigma=2.0)
    inner = (..., slice(6, -6), slice(6, -6))
    assert (restored - texture)[inner].abs().mean() < 0.3 * (flat - texture)[inner].abs().mean()
    torch.testing.assert_close(restore_contrast(texture, flat, sigma=2.0), texture)  # never lowers contrast


def _clip(image: np.ndarray, count: int, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frames = image[None].astype(np.float32) + rng.normal(0, noise, (count, *image.shape))
    return frames.clip(0, 255).astype(np.uint8)


def _run(model, frames: np.ndarray, conf: TemporalConfig, style) -> torch.Tensor:
    stylizer = TemporalStylizer(model, [style], conf)
    content = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    return torch.cat([stylizer(frames[i:i + 2], content[i:i + 2]) for i in range(0, len(frames), 2)])


def test_static_scene_stays_static_with_smoothing(model):
    image = random_texture((64, 80), seed=5)
    frames = _clip(image, 6, noise=4.0, seed=0)
    style = model.encode_style(torch.from_numpy(random_texture((64, 64), seed=9)).permute(2, 0, 1)[None] / 255)
    per_frame = _run(model, frames, TemporalConfig(temporal="off"), style)
    smoothed = _run(model, frames, TemporalConfig(temporal="full", output_blend=0.0), style)
    default = _run(model, frames, TemporalConfig(), style)
    blended = _run(model, frames, TemporalConfig(temporal="full", output_blend=0.8, output_contrast=0.0), style)
    flicker = lambda out: (out[1:] - out[:-1]).abs().mean().item()  # noqa: E731
    # The content path (F_c + out(...)) still carries the sensor noise; the attention no longer adds to it.
    assert flicker(smoothed) < 0.75 * flicker(per_frame)
    assert flicker(blended) < 0.4 * flicker(per_frame)
    # The default restores each frame's local contrast after blending outputs, some of it noise.
    assert flicker(default) < 0.6 * flicker(per_frame)


def test_scene_cut_resets_the_state(model):
    first = random_texture((48, 64), seed=1)
    second = 255 - random_texture((48, 64), seed=2)[..., ::-1]
    second = (second * np.array([0.3, 1.0, 0.2])).astype(np.uint8)  # a differently coloured shot
    frames = np.stack([first, first, first, second, second, second])
    style = model.encode_style(torch.from_numpy(random_texture((64, 64), seed=9)).permute(2, 0, 1)[None] / 255)
    conf = TemporalConfig(temporal="full", blend=0.9)
    with_cut = _run(model, frames, conf, style)
    fresh = _run(model, frames[3:], conf, style)
    torch.testing.assert_close(with_cut[3:], fresh, rtol=1e-4, atol=1e-4)
    ghosted = _run(model, frames, TemporalConfig(temporal="full", blend=0.9, scene_cuts=False), style)
    assert (ghosted[3:] - fresh).abs().mean() > 1e-3

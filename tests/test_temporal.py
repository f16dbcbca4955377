"""Temporal smoothing: the efficient path equals the explicit attention-matrix path,
cuts reset the state, and a static scene stays static."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flow import random_texture
from sanet_video.function import style_attention
from sanet_video.temporal import Motion, TemporalAttention, TemporalConfig, TemporalStylizer, explicit_attention


def random_motions(count: int, size: tuple[int, int], seed: int) -> list[Motion | None]:
    g = torch.Generator().manual_seed(seed)
    motions: list[Motion | None] = [None]
    for _ in range(count - 1):
        flow = torch.randn(1, 2, *size, generator=g, dtype=torch.float64) * 1.5
        valid = (torch.rand(1, 1, *size, generator=g) > 0.3).double()
        motions.append(Motion(flow, valid))
    return motions


@pytest.mark.parametrize("target", ["logits", "probs"])
@pytest.mark.parametrize("temporal", ["spatial", "flow", "full"])
def test_efficient_path_equals_explicit_attention(target, temporal):
    g = torch.Generator().manual_seed(1)
    frames, channels, grid = 4, 8, (6, 7)
    queries = torch.randn(frames, channels, *grid, generator=g, dtype=torch.float64)
    key = torch.randn(1, channels, 3, 5, generator=g, dtype=torch.float64)
    value = torch.randn(1, channels, 3, 5, generator=g, dtype=torch.float64)
    conf = TemporalConfig(temporal=temporal, target=target, sigma=0.8, blend=0.7)
    motions = random_motions(frames, grid, seed=2)
    frame_size = (grid[0] * 8, grid[1] * 8 - 8)  # the frame covers all cells of the padded grid

    filt = TemporalAttention(conf)
    filt.set_motion(motions, frame_size)
    if target == "logits":
        efficient = style_attention(filt.queries([queries])[0], key, value)
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
    smoothed = _run(model, frames, TemporalConfig(temporal="full"), style)
    blended = _run(model, frames, TemporalConfig(temporal="full", output_blend=0.8), style)
    flicker = lambda out: (out[1:] - out[:-1]).abs().mean().item()  # noqa: E731
    # The content path (F_c + out(...)) still carries the sensor noise; the attention no longer adds to it.
    assert flicker(smoothed) < 0.75 * flicker(per_frame)
    assert flicker(blended) < 0.4 * flicker(per_frame)


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

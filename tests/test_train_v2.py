"""SANet v2 training pieces: the stability regularizer, style tile shuffling, motions, init from weights."""

from __future__ import annotations

import csv
import statistics

import pytest
import torch
import torch.nn.functional as F

from sanet_video import SANetWeights, UserError
from sanet_video.data import move, moved_valid, random_motion, shuffle_patches
from sanet_video.function import calc_mean_std, stability_loss
from sanet_video.train import TrainConfig, load_checkpoint, training_losses, train
from sanet_video.weights import read_weights, split_state

from test_train import read_totals, tiny_set


def test_stability_loss_is_zero_for_identity_motion_and_positive_otherwise(model):
    torch.manual_seed(0)
    content, style = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    identity = random_motion(2, 64, 0.0, 0.0, 0.0, torch.device("cpu"))
    assert torch.allclose(move(content, identity), content, atol=1e-5)
    valid = moved_valid(identity, margin=4)
    losses = training_losses(model, content, style, (identity, valid, 0.0))
    assert losses.shape == (5,) and losses[4].item() < 1e-8
    moving = random_motion(2, 64, 3.0, 0.05, 0.05, torch.device("cpu"))
    losses = training_losses(model, content, style, (moving, moved_valid(moving, margin=4), 0.0))
    assert losses[4].item() > 1e-4
    assert training_losses(model, content, style)[4].item() == 0.0


def test_stability_loss_counts_only_valid_pixels():
    a, b = torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8)
    b[..., :4] = 1.0  # differs on the left half only
    valid = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    valid[..., 4:] = True
    assert stability_loss(a, b, valid).item() == 0.0
    valid[..., :] = True
    assert stability_loss(a, b, valid).item() == pytest.approx(0.5)


def test_a_pure_shift_moves_pixels_and_the_valid_mask_excludes_what_came_from_outside():
    image = torch.rand(1, 3, 32, 32)
    theta = torch.tensor([[[1.0, 0.0, 2 * 4 / 32], [0.0, 1.0, 0.0]]])  # sample 4 px to the right
    grid = F.affine_grid(theta, [1, 1, 32, 32], align_corners=False)
    moved = move(image, grid)
    assert torch.allclose(moved[..., :, :28], image[..., :, 4:], atol=1e-5)
    valid = moved_valid(grid, margin=0)[0, 0]
    assert valid[:, :28].all() and not valid[:, 28:].any()
    eroded = moved_valid(grid, margin=2)[0, 0]
    assert eroded[2:-2, 2:26].all() and not eroded[:2].any() and not eroded[:, 26:].any()


def test_shuffled_tiles_are_a_permutation_that_keeps_channel_statistics():
    torch.manual_seed(0)
    images = torch.rand(3, 3, 32, 32)
    shuffled = shuffle_patches(images, 4, 1.0)
    assert not torch.equal(shuffled, images)
    for img, out in zip(images, shuffled):
        tiles = sorted(img.unfold(1, 8, 8).unfold(2, 8, 8).reshape(3, 16, 64).transpose(0, 1).reshape(16, -1).tolist())
        assert sorted(out.unfold(1, 8, 8).unfold(2, 8, 8).reshape(3, 16, 64).transpose(0, 1).reshape(16, -1).tolist()) == tiles
    for a, b in zip(calc_mean_std(images), calc_mean_std(shuffled)):
        assert torch.allclose(a, b, atol=1e-5)
    assert torch.equal(shuffle_patches(images, 4, 0.0), images)


def test_init_from_shipped_weights_and_a_weights_file(tmp_path):
    scales, params = split_state(read_weights("v1"))
    assert scales and params
    path = SANetWeights.V1.path
    assert read_weights(path).keys() == read_weights("v1").keys()
    lone = tmp_path / "lone.safetensors"
    lone.write_bytes(path.read_bytes())
    with pytest.raises(UserError, match="lone.json is missing or has no sha256"):
        read_weights(lone)


def test_ten_steps_with_the_v2_losses_lower_the_loss(train_data, tmp_path):
    data = tiny_set(train_data, tmp_path / "data")
    out = tmp_path / "run"
    conf = TrainConfig(data=str(data), out=str(out), iterations=10, batch_size=2, crop=64, short_side=96,
                       log_every=1, checkpoint_every=10, sample_every=10, device="cpu", warmup=1, lr=5e-4,
                       content_weight=3.0, stability_weight=50.0, style_shuffle=0.5, shuffle_grid=2)
    train(conf)
    with open(out / "loss.csv") as f:
        rows = list(csv.DictReader(f))
    assert sum(float(r["stability"]) for r in rows) > 0
    totals = read_totals(out / "loss.csv")
    assert statistics.median(totals[-4:]) < 0.8 * statistics.median(totals[:4])  # medians: batches of 2 are noisy


def test_init_starts_from_the_shipped_weights(train_data, tmp_path):
    data = tiny_set(train_data, tmp_path / "data", count=2)
    out = tmp_path / "run"
    train(TrainConfig(data=str(data), out=str(out), init="v1", iterations=1, batch_size=1, crop=64, short_side=96,
                      log_every=1, sample_every=10, device="cpu", lr=0.0))
    state, iteration, _ = load_checkpoint(out)
    shipped = read_weights("v1")
    assert iteration == 1 and state.keys() == shipped.keys()
    assert all(torch.equal(state[k], shipped[k].float()) for k in shipped)


def test_bad_shuffle_grid_is_refused():
    with pytest.raises(UserError, match="shuffle_grid"):
        TrainConfig(crop=64, shuffle_grid=3).check()

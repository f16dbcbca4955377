"""Training: a short real run lowers the loss and leaves a resumable checkpoint."""

from __future__ import annotations

import csv
import shutil

import torch

from sanet_video.data import CONTENT_DIRS, STYLE_DIRS, list_images
from sanet_video.train import SHARDS, TrainConfig, load_checkpoint, lr_at, train


def tiny_set(src, dst, count=4):
    for folder in CONTENT_DIRS + STYLE_DIRS:
        (dst / folder).mkdir(parents=True)
    for folders in (CONTENT_DIRS, STYLE_DIRS):
        for held_out in (False, True):
            for p in list_images(src, folders, held_out)[:count]:
                shutil.copy(p, dst / p.parent.name / p.name)
    return dst


def read_totals(path):
    with open(path) as f:
        return [float(r["total"]) for r in csv.DictReader(f)]


def test_ten_steps_lower_the_loss_and_resume(train_data, tmp_path):
    data = tiny_set(train_data, tmp_path / "data")
    out = tmp_path / "run"
    conf = TrainConfig(data=str(data), out=str(out), iterations=10, batch_size=2, crop=64, short_side=96,
                       log_every=1, checkpoint_every=5, sample_every=10, device="cpu", warmup=1, lr=5e-4)
    train(conf)
    totals = read_totals(out / "loss.csv")
    assert len(totals) == 10
    assert sum(totals[-3:]) / 3 < 0.8 * sum(totals[:3]) / 3
    for name in ("loss.png", "samples.png", "state.json", *(f"{s}.fp32.safetensors" for s in SHARDS)):
        assert (out / name).is_file(), name
    state, iteration, _ = load_checkpoint(out)
    assert iteration == 10 and all(torch.isfinite(v).all() for v in state.values())

    train(TrainConfig(**{**conf.__dict__, "iterations": 12, "resume": str(out)}))
    assert load_checkpoint(out)[1] == 12
    assert len(read_totals(out / "loss.csv")) == 12


def test_lr_schedule_decays_and_warms_up():
    conf = TrainConfig(lr=1e-4, lr_decay=5e-5, warmup=10)
    assert lr_at(9, conf, 0) == 1e-4 / (1 + 5e-5 * 9)
    assert lr_at(0, conf, 0) == 1e-4 / 10
    assert abs(lr_at(20000, conf, 0) - 1e-4 / 2) < 1e-12
    assert lr_at(20000, conf, 19995) < lr_at(20010, conf, 19995)

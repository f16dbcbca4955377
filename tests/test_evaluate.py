"""Held-out evaluation: the strength sweep's numbers behave as the strength says."""

from __future__ import annotations

import shutil

from sanet_video.data import CONTENT_DIRS, STYLE_DIRS, list_images
from sanet_video.evaluate import evaluate


def test_strength_sweep_trades_style_for_content(model, train_data, tmp_path):
    for folder in CONTENT_DIRS + STYLE_DIRS:  # two held-out photos, one held-out style per style folder
        (tmp_path / folder).mkdir()
        for path in list_images(train_data, (folder,), held_out=True)[:1 if folder in STYLE_DIRS else 2]:
            shutil.copy(path, tmp_path / folder / path.name)
    metrics = evaluate(model, tmp_path, size=96, pairs=2, identity_count=1, alphas=(0.0, 1.0))
    assert metrics["pairs"] == 4
    full, none = metrics["by_alpha"]
    assert (full["alpha"], none["alpha"]) == (1.0, 0.0)
    assert (full["style_loss_ratio"], full["content_loss"]) == (metrics["style_loss_ratio"], metrics["content_loss"])
    # alpha 0 is dec(SA(c, c)): the photo rebuilt, so its content is kept and the style is not taken
    assert none["content_loss"] < 0.5 * full["content_loss"]
    assert none["style_loss_ratio"] > 2 * full["style_loss_ratio"]

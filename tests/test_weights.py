"""Shipped weights: checksummed, fp16, no pickle, and they really reconstruct photos."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from sanet_video import SANetWeights, UserError, load_sanet
from sanet_video import weights as weights_module
from sanet_video._vgg import sha256_of
from sanet_video.data import CONTENT_DIRS, list_images, read_rgb
from sanet_video.evaluate import psnr


VARIANTS = list(SANetWeights)  # each shipped file once (DEFAULT is an alias)


def test_default_is_v1_until_v2_wins():
    assert SANetWeights.DEFAULT is SANetWeights.resolve("default") is SANetWeights.resolve("v1")
    assert [w.name for w in VARIANTS] == ["V1", "V2"]


@pytest.mark.parametrize("entry", VARIANTS, ids=lambda w: w.name)
def test_every_variant_is_a_checksummed_fp16_file(entry):
    assert entry.meta["file"] == entry.path.name
    assert sha256_of(entry.path) == entry.meta["sha256"]
    state = load_file(str(entry.path))
    params = {k: v for k, v in state.items() if not k.startswith("vgg_scales.")}
    assert params and all(v.dtype == torch.float16 for v in params.values())
    assert sum(v.numel() for v in params.values()) == entry.meta["num_params"]
    assert entry.meta["iterations"] > 0 and "metrics" in entry.meta


def test_unknown_weights_name_is_one_line():
    with pytest.raises(UserError, match="unknown weights 'nope'; choose one of"):
        load_sanet(weights="nope")


def test_corrupted_weights_file_is_refused(tmp_path, monkeypatch):
    for suffix in (".safetensors", ".json"):
        shutil.copy(SANetWeights.V1.path.with_suffix(suffix), tmp_path / f"sanet_v1{suffix}")
    monkeypatch.setattr(weights_module, "WEIGHTS_DIR", tmp_path)
    assert load_sanet() is not None
    data = bytearray((tmp_path / "sanet_v1.safetensors").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "sanet_v1.safetensors").write_bytes(bytes(data))
    with pytest.raises(UserError, match="corrupt \\(SHA-256 mismatch\\); reinstall") as err:
        load_sanet()
    assert "\n" not in str(err.value)
    (tmp_path / "sanet_v1.safetensors").unlink()
    with pytest.raises(UserError, match="missing"):
        load_sanet()


@pytest.mark.parametrize("entry", VARIANTS, ids=lambda w: w.name)
def test_shipped_weights_rebuild_held_out_photo(entry, train_data):
    model = load_sanet(weights=entry)
    photo = list_images(train_data, CONTENT_DIRS, held_out=True)[0]
    content = read_rgb(photo, 256)[None].float() / 255
    with torch.no_grad():
        rebuilt = model.stylize(content, [model.encode_style(content)])
    assert psnr(rebuilt, content) > 20.0


def test_meta_is_json_with_recipe():
    meta = json.loads(SANetWeights.V1.path.with_suffix(".json").read_text())
    assert meta["recipe"]["style_weight"] == 3.0 and meta["recipe"]["identity1_weight"] == 50.0
    v2 = SANetWeights.V2.meta
    assert v2["recipe"]["init"] == "v1" and v2["recipe"]["stability_weight"] > 0
    assert {"identity_psnr_db", "style_loss_ratio", "content_loss", "by_alpha"} <= v2["metrics"].keys()

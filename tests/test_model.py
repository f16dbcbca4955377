"""SANet model: equations against independent computations, with the shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sanet_video import _vgg
from sanet_video.color import preserve_color, rgb_to_ycbcr, ycbcr_to_rgb
from sanet_video.function import calc_mean_std, mean_variance_norm, style_attention, style_attention_explicit
from sanet_video.net import SAModule

torch.manual_seed(0)


def smooth_image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    """A (1, 3, h, w) image in [0, 1] with structure at several scales."""
    g = torch.Generator().manual_seed(seed)
    img = sum(F.interpolate(torch.rand(1, 3, max(2, h // s), max(2, w // s), generator=g), size=(h, w),
                            mode="bilinear", align_corners=False) for s in (2, 8, 32)) / 3
    return img.clamp(0, 1)


def test_mean_std_and_mvn_match_numpy():
    x = torch.randn(2, 4, 5, 7) * 3 + 1
    mean, std = calc_mean_std(x, eps=0.0)
    ref = x.numpy().reshape(2, 4, -1)
    np.testing.assert_allclose(mean.flatten(1).numpy(), ref.mean(-1), rtol=1e-5)
    np.testing.assert_allclose(std.flatten(1).numpy(), ref.std(-1), rtol=1e-5)
    normed = mean_variance_norm(x).numpy().reshape(2, 4, -1)
    np.testing.assert_allclose(normed.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(normed.std(-1), 1, atol=1e-3)


@pytest.mark.parametrize("shape_c,shape_s", [((3, 5), (4, 6)), ((7, 2), (1, 1)), ((8, 8), (16, 3))])
def test_sdpa_attention_equals_explicit_softmax(shape_c, shape_s):
    q = torch.randn(2, 16, *shape_c, dtype=torch.float64)
    k = torch.randn(2, 16, *shape_s, dtype=torch.float64)
    v = torch.randn(2, 16, *shape_s, dtype=torch.float64)
    # An independent reference: softmax over style positions of F^T G, no 1/sqrt(d).
    logits = np.einsum("nci,ncj->nij", q.flatten(2).numpy(), k.flatten(2).numpy())
    attn = np.exp(logits - logits.max(-1, keepdims=True))
    attn /= attn.sum(-1, keepdims=True)
    ref = np.einsum("ncj,nij->nci", v.flatten(2).numpy(), attn).reshape(q.shape)
    np.testing.assert_allclose(style_attention(q, k, v).numpy(), ref, rtol=1e-7, atol=1e-9)
    explicit, matrix = style_attention_explicit(q, k, v)
    np.testing.assert_allclose(explicit.numpy(), ref, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(matrix.sum(-1).numpy(), 1.0)


def test_sa_module_is_content_plus_projected_attention():
    sa = SAModule(8).double()
    c, s = torch.randn(1, 8, 4, 5, dtype=torch.float64), torch.randn(1, 8, 3, 3, dtype=torch.float64)
    out, _ = style_attention_explicit(sa.f(mean_variance_norm(c)), sa.g(mean_variance_norm(s)), sa.h(s))
    torch.testing.assert_close(sa(c, s), c + sa.out_conv(out))


def test_vgg_first_layers_match_independent_computation(model):
    raw = torch.load(_vgg.vgg_file(), map_location="cpu", weights_only=True)

    def conv(name: str, x: torch.Tensor) -> torch.Tensor:
        table = raw[f"{name}_W_table"].numpy()
        weight = torch.from_numpy(table[raw[f"{name}_W_q"].numpy()])
        return F.relu(F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), weight, raw[f"{name}_b"]))

    img = smooth_image(37, 50)
    bgr = img[:, [2, 1, 0]] * 255 - torch.tensor([103.939, 116.779, 123.68])[None, :, None, None]
    relu1_1 = conv("block1_conv1", bgr)
    relu1_2 = conv("block1_conv2", relu1_1)
    relu2_1 = conv("block2_conv1", F.max_pool2d(relu1_2, 2, 2, ceil_mode=True))
    scales = model.vgg_scales
    feats = model.encoder(img, upto=2)
    torch.testing.assert_close(feats[0], relu1_1 / scales["block1_conv1"][None, :, None, None], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(feats[1], relu2_1 / scales["block2_conv1"][None, :, None, None], rtol=1e-4, atol=1e-4)


def test_normalised_vgg_means_are_about_one(model):
    img = smooth_image(128, 128, seed=3)
    means = [f.mean().item() for f in model.encoder(img)]
    assert all(0.05 < m < 20 for m in means), means  # raw means are 20..390


@pytest.mark.parametrize("size", [(271, 481), (64, 64), (17, 9)])
def test_any_size_keeps_shape_and_range(model, size):
    img = smooth_image(*size, seed=1)
    code = model.encode_style(smooth_image(96, 80, seed=2))
    out = model.stylize(img, [code])
    assert out.shape == img.shape
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_alpha_zero_is_decoded_self_attention(model):
    c = smooth_image(64, 96)
    code = model.encode_style(smooth_image(64, 64, seed=5))
    feats = model.encoder(c)
    ref = model.decoder(model.transform(feats[3], feats[3], feats[4], feats[4])).clamp(0, 1)
    torch.testing.assert_close(model.stylize(c, [code], alpha=0.0), ref, rtol=1e-4, atol=1e-4)
    half = model.stylize(c, [code], alpha=0.5)
    full = model.stylize(c, [code])
    assert (half - ref).abs().mean() < (full - ref).abs().mean()


def test_style_mixing_and_masks(model):
    c = smooth_image(48, 64)
    a = model.encode_style(smooth_image(64, 64, seed=7))
    b = model.encode_style(smooth_image(64, 64, seed=8))
    only_a = model.stylize(c, [a])
    torch.testing.assert_close(model.stylize(c, [a, b], style_weights=[1.0, 0.0]), only_a, rtol=1e-4, atol=1e-4)
    masks = torch.zeros(2, 48, 64)
    masks[0, :, :32] = 1
    masks[1, :, 32:] = 1
    split = model.stylize(c, [a, b], masks=masks)
    only_b = model.stylize(c, [b])
    left, right = (slice(None), slice(None), slice(None), slice(0, 16)), (slice(None),) * 3 + (slice(48, 64),)
    assert (split[left] - only_a[left]).abs().mean() < (split[left] - only_b[left]).abs().mean()
    assert (split[right] - only_b[right]).abs().mean() < (split[right] - only_a[right]).abs().mean()
    with pytest.raises(ValueError):
        model.stylize(c, [a, b], style_weights=[1.0])


def test_preserve_color_keeps_content_chroma():
    content, stylized = smooth_image(20, 30, seed=1) * 0.6 + 0.2, smooth_image(20, 30, seed=2) * 0.6 + 0.2
    torch.testing.assert_close(ycbcr_to_rgb(rgb_to_ycbcr(content)), content, rtol=1e-5, atol=1e-5)
    out = rgb_to_ycbcr(preserve_color(stylized, content))
    torch.testing.assert_close(out[:, 0], rgb_to_ycbcr(stylized)[:, 0], atol=2e-3, rtol=0)
    torch.testing.assert_close(out[:, 1:], rgb_to_ycbcr(content)[:, 1:], atol=2e-3, rtol=0)

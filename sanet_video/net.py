"""The networks of SANet (Park & Lee, CVPR 2019, https://arxiv.org/abs/1812.02342).

``VGGEncoder`` is the fixed, normalised VGG19 up to relu5_1; ``SAModule`` is the
style-attentional module of Fig. 2(b); ``Transform`` applies one SA module at
relu4_1 and one at relu5_1 and merges them (Eq. 4); ``Decoder`` mirrors the encoder
as in AdaIN; ``SANet`` ties them together with the run-time controls of Section 4.3
(strength, style mixing, spatial control).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import _vgg
from .function import mean_variance_norm, style_attention

NUM_STAGES = 5  # relu1_1 .. relu5_1


def _conv3x3(cin: int, cout: int) -> list[nn.Module]:
    return [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)]


class VGGEncoder(nn.Module):
    """VGG19 up to relu5_1 with Gatys et al.'s per-channel normalisation.

    Takes RGB images in [0, 1]. The ImageNet preprocessing (BGR x 255 minus the mean
    pixel) is folded into the first conv, and the normalisation (each channel's mean
    activation over the training images is 1) into every conv: layer l's weights are
    W_l[o, i] * scale_{l-1}[i] / scale_l[o], where scale_l holds the raw per-channel
    mean activations. Both folds are exact because padding is by reflection and
    ReLU and max-pooling commute with positive per-channel scales.

    Args:
        scales: raw per-channel mean activation after each conv's ReLU, by conv name
            (see ``sanet_video.vgg_stats``). ``None`` gives the raw, unnormalised VGG.
    """

    def __init__(self, scales: dict[str, Tensor] | None = None) -> None:
        super().__init__()
        self.scales = scales
        raw = _vgg.load_vgg_weights()
        stages: list[list[nn.Module]] = [[] for _ in range(NUM_STAGES)]
        stage = 0
        prev_scale = None
        for index, name in enumerate(_vgg.CONV_NAMES):
            weight, bias = raw[name]
            if index == 0:
                bias = bias - (weight * torch.tensor(_vgg.BGR_MEAN)[None, :, None, None]).sum((1, 2, 3))
                weight = weight.flip(1) * 255.0
            if prev_scale is not None:
                weight = weight * prev_scale[None, :, None, None]
            if scales is not None:
                scale = scales[name].float()
                weight, bias = weight / scale[:, None, None, None], bias / scale
                prev_scale = scale
            if index > 0 and name.endswith("conv1"):
                stages[stage].append(nn.MaxPool2d(2, 2, ceil_mode=True))
            conv = nn.Conv2d(weight.shape[1], weight.shape[0], 3)
            conv.weight.data.copy_(weight)
            conv.bias.data.copy_(bias)
            stages[stage] += [nn.ReflectionPad2d(1), conv, nn.ReLU()]
            if index == _vgg.STAGE_ENDS[stage]:
                stage += 1
        self.stages = nn.ModuleList(nn.Sequential(*layers) for layers in stages)
        self.requires_grad_(False)

    def forward(self, image: Tensor, upto: int = NUM_STAGES) -> list[Tensor]:
        """Features relu1_1, relu2_1, ... up to stage ``upto`` (1-based)."""
        feats = []
        x = image
        for stage in self.stages[:upto]:
            x = stage(x)
            feats.append(x)
        return feats


class SAModule(nn.Module):
    """Style-attentional module (paper Eq. 1-3).

    query f(bar F_c), key g(bar F_s), value h(F_s); F_cs = F_c + out(attention).
    The three steps are separate methods so that a caller can cache a style's keys
    and values, or smooth a query or an attention output before projecting it.
    """

    def __init__(self, channels: int = 512) -> None:
        super().__init__()
        self.f = nn.Conv2d(channels, channels, 1)
        self.g = nn.Conv2d(channels, channels, 1)
        self.h = nn.Conv2d(channels, channels, 1)
        self.out_conv = nn.Conv2d(channels, channels, 1)

    def query(self, content: Tensor) -> Tensor:
        return self.f(mean_variance_norm(content))

    def key_value(self, style: Tensor) -> tuple[Tensor, Tensor]:
        return self.g(mean_variance_norm(style)), self.h(style)

    def project(self, content: Tensor, attended: Tensor) -> Tensor:
        return content + self.out_conv(attended)

    def forward(self, content: Tensor, style: Tensor) -> Tensor:
        key, value = self.key_value(style)
        return self.project(content, style_attention(self.query(content), key, value))


@dataclass
class StyleCode:
    """A style image's keys and values at relu4_1 and relu5_1: computed once, reused per frame."""

    key4: Tensor
    value4: Tensor
    key5: Tensor
    value5: Tensor


class Transform(nn.Module):
    """Two SA modules, at relu4_1 and relu5_1, merged (paper Eq. 4).

    F_csc^m = conv3x3(F_csc^{r41} + upsample(F_csc^{r51})), the relu5_1 result being
    upsampled to exactly relu4_1's size.
    """

    def __init__(self, channels: int = 512) -> None:
        super().__init__()
        self.sa4 = SAModule(channels)
        self.sa5 = SAModule(channels)
        self.merge = nn.Sequential(*_conv3x3(channels, channels))

    def style_code(self, style4: Tensor, style5: Tensor) -> StyleCode:
        return StyleCode(*self.sa4.key_value(style4), *self.sa5.key_value(style5))

    def queries(self, content4: Tensor, content5: Tensor) -> list[Tensor]:
        """The SA queries f(bar F_c) at relu4_1 and relu5_1."""
        return [self.sa4.query(content4), self.sa5.query(content5)]

    def attend(self, content4: Tensor, content5: Tensor, code: StyleCode,
               queries: list[Tensor] | None = None,
               on_attended: Callable[[list[Tensor]], list[Tensor]] | None = None,
               weights: tuple[Tensor | float, Tensor | float] = (1.0, 1.0)) -> Tensor:
        """The merge conv's input: SA at relu4_1 plus SA at relu5_1 upsampled.

        Args:
            queries: precomputed (and possibly filtered) queries; computed if omitted.
            on_attended: applied to the two attention outputs before ``out_conv``
                (temporal smoothing hooks in here).
            weights: what the SA outputs at relu4_1 and relu5_1 are multiplied by before
                the upsampling and the sum: a number, or a per-position map on that level's grid.
        """
        q4, q5 = queries if queries is not None else self.queries(content4, content5)
        attended = [style_attention(q4, code.key4, code.value4), style_attention(q5, code.key5, code.value5)]
        if on_attended is not None:
            attended = on_attended(attended)
        out4 = self.sa4.project(content4, attended[0])
        out5 = self.sa5.project(content5, attended[1])
        return weights[0] * out4 + F.interpolate(weights[1] * out5, size=out4.shape[-2:], mode="nearest")

    def forward(self, content4: Tensor, style4: Tensor, content5: Tensor, style5: Tensor) -> Tensor:
        return self.merge(self.attend(content4, content5, self.style_code(style4, style5)))


class AttentionFilter(Protocol):
    """Per-stream processing of a batch's attention (see ``sanet_video.temporal``).

    ``queries`` gets the batch's queries at relu4_1 and relu5_1; ``attended`` gets the
    attention outputs for style ``index`` (``-1`` is the content's own, for alpha < 1).
    """

    def queries(self, queries: list[Tensor]) -> list[Tensor]: ...

    def attended(self, index: int, attended: list[Tensor]) -> list[Tensor]: ...


class Decoder(nn.Sequential):
    """The AdaIN/SANet decoder: relu4_1-sized 512 channels back to an RGB image."""

    def __init__(self) -> None:
        up = nn.Upsample(scale_factor=2, mode="nearest")
        layers: list[nn.Module] = [*_conv3x3(512, 256), nn.ReLU(), up]
        for _ in range(3):
            layers += [*_conv3x3(256, 256), nn.ReLU()]
        layers += [*_conv3x3(256, 128), nn.ReLU(), up, *_conv3x3(128, 128), nn.ReLU()]
        layers += [*_conv3x3(128, 64), nn.ReLU(), up, *_conv3x3(64, 64), nn.ReLU(), *_conv3x3(64, 3)]
        super().__init__(*layers)


def _pad_to_multiple(image: Tensor, multiple: int = 16, minimum: int = 32) -> tuple[Tensor, int, int]:
    """Pad H and W up to a multiple of ``multiple`` (at least ``minimum``) by reflection."""
    h, w = image.shape[-2:]
    ph = max(minimum, -(-h // multiple) * multiple) - h
    pw = max(minimum, -(-w // multiple) * multiple) - w
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        image = F.pad(image, (0, pw, 0, ph), mode=mode)
    return image, h, w


class SANet(nn.Module):
    """Arbitrary style transfer with style-attentional networks.

    Build it with :func:`sanet_video.load_sanet`, which loads trained weights.

    Args:
        vgg_scales: per-conv mean activations that normalise the VGG encoder.
    """

    def __init__(self, vgg_scales: dict[str, Tensor] | None = None) -> None:
        super().__init__()
        self.encoder = VGGEncoder(vgg_scales)
        self.transform = Transform()
        self.decoder = Decoder()

    @property
    def vgg_scales(self) -> dict[str, Tensor] | None:
        return self.encoder.scales

    def encode_style(self, style: Tensor) -> StyleCode:
        """Keys and values of a (1, 3, H, W) style image in [0, 1]."""
        feats = self.encoder(_pad_to_multiple(style)[0])
        return self.transform.style_code(feats[3], feats[4])

    def stylize(
        self,
        content: Tensor,
        styles: Sequence[StyleCode],
        style_weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        masks: Tensor | None = None,
        attention_filter: AttentionFilter | None = None,
    ) -> Tensor:
        """Stylize a batch of RGB images in [0, 1] of any size.

        Args:
            content: (N, 3, H, W) in [0, 1].
            styles: one or more styles from :meth:`encode_style`.
            style_weights: mixing weights of the styles (normalised to sum 1);
                equal weights if omitted. Ignored where ``masks`` is given.
            alpha: strength: the merge conv's input is
                alpha * A(c, s) + (1 - alpha) * A(c, c), where A is the sum of the two
                SA outputs; alpha = 0 reproduces the content through SA(c, c).
            masks: spatial control (paper Section 4.3): (len(styles), H, W), or
                (N, len(styles), H, W) for one set per image, of non-negative coverages,
                1 meaning "this style here". At relu4_1 and relu5_1 each map is averaged
                over the cells of that level (area downsampling of the frame, padded like
                it), giving m_i per position; the content's own SA(c, c) covers what the
                masks leave, u = max(0, 1 - sum_i m_i); each style's SA output is weighted
                by m_i / (sum_i m_i + u) and SA(c, c) by u / (sum_i m_i + u), before the
                upsampling of relu5_1 and the merge. So masks that add up to 1 or less are
                used as they are, the rest of a pixel keeps the content, and overlapping
                masks above 1 are normalised to sum 1. A(c, s) above is this mix.
            attention_filter: per-stream smoothing of queries and attention outputs
                (``sanet_video.temporal``); the batch is then consecutive frames.

        Returns:
            (N, 3, H, W) stylized images, clamped to [0, 1].
        """
        padded, h, w = _pad_to_multiple(content)
        feats = self.encoder(padded)
        c4, c5 = feats[3], feats[4]
        if masks is not None:
            pad = (0, padded.shape[-1] - w, 0, padded.shape[-2] - h)
            masks = F.pad(masks.float().reshape(-1, *masks.shape[-3:]), pad, mode="replicate")
        mix, uncovered = self._style_mix(len(styles), style_weights, masks, (c4, c5))
        queries = self.transform.queries(c4, c5)
        if attention_filter is not None:
            queries = attention_filter.queries(queries)

        def attend(index: int, code: StyleCode, weights: tuple[Tensor | float, Tensor | float]) -> Tensor:
            hook = None if attention_filter is None else partial(attention_filter.attended, index)
            return self.transform.attend(c4, c5, code, queries, hook, weights)

        mixed = sum(attend(i, code, (alpha * m4, alpha * m5)) for i, (code, (m4, m5)) in enumerate(zip(styles, mix)))
        if alpha < 1.0 or masks is not None:
            own = tuple(1.0 - alpha + alpha * u for u in uncovered)
            mixed = mixed + attend(-1, self.transform.style_code(c4, c5), own)
        out = self.decoder(self.transform.merge(mixed))
        return out[..., :h, :w].clamp(0.0, 1.0)

    @staticmethod
    def _style_mix(count: int, weights: Sequence[float] | None, masks: Tensor | None,
                   levels: tuple[Tensor, Tensor]) -> tuple[list[tuple[Tensor | float, Tensor | float]],
                                                          tuple[Tensor | float, Tensor | float]]:
        """Each style's weights at relu4_1 and relu5_1, and those of SA(c, c) (see :meth:`stylize`)."""
        if masks is not None:
            if masks.shape[1] != count:
                raise ValueError(f"got {masks.shape[1]} masks for {count} styles")
            per_level = []
            for like in levels:
                small = F.interpolate(masks, size=like.shape[-2:], mode="area")
                uncovered = (1.0 - small.sum(1, keepdim=True)).clamp_min(0.0)
                total = small.sum(1, keepdim=True) + uncovered
                per_level.append(((small / total).to(like.dtype), (uncovered / total).to(like.dtype)))
            (m4, u4), (m5, u5) = per_level
            return [(m4[:, i:i + 1], m5[:, i:i + 1]) for i in range(count)], (u4, u5)
        weights = list(weights) if weights is not None else [1.0] * count
        if len(weights) != count or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("style weights must be one non-negative number per style, not all zero")
        total = sum(weights)
        return [(wt / total, wt / total) for wt in weights], (0.0, 0.0)

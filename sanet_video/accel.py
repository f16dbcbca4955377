"""Speed settings for running a SANet on a device: autotuning and compilation.

Measured (docs/PERFORMANCE.md): on one H100, cuDNN autotuning is always on and the
layout stays NCHW (channels-last made every reflection pad a layout copy: 55 against 95
frames/s at 720p in eager bf16). On a CPU, oneDNN's convolutions prefer channels-last
(1.25 -> 1.16 s per 640x360 frame eager, 1.01 -> 0.95 s compiled; bf16, 2-core
AVX512-BF16), and the attention's tokens are then views with no copy. ``torch.compile``
of the convolutional parts (encoder, merge conv, decoder) fuses the pads and ReLUs (217
frames/s at 720p on the H100), and on a CPU it also freezes the weights (pre-packed for
oneDNN); it costs a compilation of 10-20 s per frame size, so it is an option.
"""

from __future__ import annotations

import torch
import torch._inductor.config as inductor_config

from .net import SANet

COMPILE_MODES = ("off", "default", "max-autotune", "max-autotune-no-cudagraphs", "reduce-overhead")


def optimize(model: SANet, device: torch.device, compile_mode: str = "off") -> SANet:
    """Set ``model`` (already on ``device``) up for fast inference, in place; returns it.

    Args:
        compile_mode: ``off`` or a ``torch.compile`` mode for the encoder, the merge
            conv and the decoder (the attention and the temporal filters stay eager).
    """
    if compile_mode not in COMPILE_MODES:
        raise ValueError(f"compile mode must be one of {COMPILE_MODES}, not {compile_mode!r}")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    elif device.type == "cpu":
        model.to(memory_format=torch.channels_last)  # activations follow the weights' layout
    if compile_mode != "off":
        # Static shapes: a frame size and a style size each get their own graph. With
        # automatic dynamic shapes, the second size seen (frames after the style) turned
        # every graph dynamic and 720p fell from 215 to 131 frames/s on an H100.
        mode = None if compile_mode == "default" else compile_mode
        if device.type == "cpu":
            # Weights as constants, pre-packed for oneDNN: 1.23 -> 1.02 s per 640x360 frame
            # in bf16 on a 2-core AVX512-BF16 CPU.
            inductor_config.freezing = True
        model.encoder = torch.compile(model.encoder, mode=mode, dynamic=False)
        model.transform.merge = torch.compile(model.transform.merge, mode=mode, dynamic=False)
        model.decoder = torch.compile(model.decoder, mode=mode, dynamic=False)
    return model

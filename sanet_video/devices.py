"""Where and in which precision the network runs."""

from __future__ import annotations

import torch

from .errors import UserError


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA, else Apple MPS, else CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.

    Raises:
        UserError: the device is not there.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if torch.backends.mps.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError("CUDA is not available on this machine; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"there is no {name} (this machine has {torch.cuda.device_count()} CUDA device(s))")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError("Apple MPS is not available on this machine; use --device cpu")
    return device


def resolve_precision(name: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``name`` on ``device``; None means plain fp32.

    ``auto`` is bf16 on CUDA (fp16 on GPUs without bf16) and on CPUs with native bf16
    instructions (AVX512-BF16 or AMX, where it halves the time; docs/PERFORMANCE.md), else fp32.

    Raises:
        UserError: fp16 asked for off CUDA.
    """
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if device.type == "cpu" and cpu_has_native_bf16() else None
    if name == "fp16" and device.type != "cuda":
        raise UserError("fp16 needs a CUDA device; use --precision fp32 or bf16")
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (oneDNN's own check), not by emulation."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return bool(check()) if check is not None and torch.backends.mkldnn.is_available() else False
    except RuntimeError:
        return False

"""Stylization throughput of the model alone (no decode, flow or encode).

``python benchmarks/bench_stylize.py [--device cuda] [--sizes 480p,720p,1080p]
[--batches 1,8] [--styles 512,1024] [--precision bf16] [--compile off] [--profile]
[--json out.json]``

Frames are random smooth images already on the device; the style is encoded once.
Prints a table (frames/s, ms/frame, peak device memory) and, with ``--json``, saves it.
Also reports the quality guard: PSNR of reduced-precision output against fp32 output
(on the same model set-up), and with ``--profile`` the kernels that take the time.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time

import torch
import torch.nn.functional as F

from sanet_video import load_sanet
from sanet_video.accel import COMPILE_MODES, optimize

SIZES = {"360p": (360, 640), "480p": (480, 854), "720p": (720, 1280), "1080p": (1080, 1920)}
DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def smooth_frames(count: int, size: tuple[int, int], device: torch.device, seed: int = 0) -> torch.Tensor:
    g = torch.Generator(device="cpu").manual_seed(seed)
    low = torch.rand(count, 3, size[0] // 16 + 1, size[1] // 16 + 1, generator=g)
    return F.interpolate(low, size=size, mode="bicubic", align_corners=False).clamp(0, 1).to(device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_stylize(model, frames, code, device, dtype, repeats: int) -> float:
    """Median seconds per call over ``repeats`` timed calls after two warm-ups."""
    def call():
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            return model.stylize(frames, [code])

    for _ in range(2):
        call()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        sync(device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def print_profile(model, frames, code, device, dtype) -> None:
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            model.stylize(frames, [code])
        sync(device)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=25, max_name_column_width=70))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = torch.mean((a.float() - b.float()) ** 2).item()
    return 10 * math.log10(1 / max(mse, 1e-12))


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sizes", default="480p,720p,1080p")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--styles", default="512,1024")
    parser.add_argument("--precision", default="bf16" if torch.cuda.is_available() else "fp32", choices=DTYPES)
    parser.add_argument("--compile", default="off", choices=COMPILE_MODES)
    parser.add_argument("--profile", action="store_true", help="print the top kernels of the last setting")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json")
    args = parser.parse_args()
    device = torch.device(args.device)
    dtype = DTYPES[args.precision]
    with torch.inference_mode(False):  # parameters made in inference mode stop torch.compile's speed-up
        model = optimize(load_sanet(device=device), device, args.compile)
    rows = []
    for style_side in map(int, args.styles.split(",")):
        code = model.encode_style(smooth_frames(1, (style_side, style_side), device, seed=1))
        for name in args.sizes.split(","):
            for batch in map(int, args.batches.split(",")):
                frames = smooth_frames(batch, SIZES[name], device)
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                seconds = time_stylize(model, frames, code, device, dtype, args.repeats)
                peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
                rows.append({"size": name, "batch": batch, "style": style_side, "precision": args.precision,
                             "compile": args.compile,
                             "fps": batch / seconds, "ms_per_frame": 1000 * seconds / batch, "peak_gib": peak})
                print(f"{name:>6} batch {batch:>2} style {style_side:>4} {args.precision}: "
                      f"{batch / seconds:8.2f} frames/s {1000 * seconds / batch:8.1f} ms/frame peak {peak:.2f} GiB",
                      flush=True)
    if args.profile:
        print_profile(model, frames, code, device, dtype)
    guard = None
    if dtype is not None:
        frames = smooth_frames(1, SIZES["720p"], device, seed=3)
        code = model.encode_style(smooth_frames(1, (512, 512), device, seed=1))
        reference = model.stylize(frames, [code])
        with torch.autocast(device.type, dtype=dtype):
            reduced = model.stylize(frames, [code])
        guard = psnr(reduced, reference)
        print(f"quality guard: {args.precision} vs fp32 at 720p: PSNR {guard:.1f} dB")
    result = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
              or platform.machine(), "threads": torch.get_num_threads(), "torch": torch.__version__,
              "date": time.strftime("%Y-%m-%d"), "rows": rows, "psnr_vs_fp32_db": guard}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

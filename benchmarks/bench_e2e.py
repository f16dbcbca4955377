"""End-to-end video throughput (decode, flow, stylize with smoothing, encode) and each stage alone.

``python benchmarks/bench_e2e.py [--device cuda] [--size 1080p] [--frames 240]
[--batch-size 8] [--compile off] [--json out.json] [--keep DIR]``

Builds a test clip of the bundled example upscaled to ``--size`` (H.264, 25 fps),
then times, with the product's default options otherwise:

- ``decode``: demux, decode and convert to RGB batches (the pipeline's producer stage);
- ``flow``: the temporal stylizer's optical flow and occlusion masks, frame pairs in order;
- ``stylize``: the network with temporal smoothing on batches already on the device,
  flow included (the pipeline's middle stage);
- ``encode``: the sink's conversion to YUV and H.264 encoding (the consumer stage);
- ``end to end``: ``Stylist.video`` on the clip, twice (the first run pays for cuDNN
  autotuning and compilation; the second is the number to quote).

The stages overlap in the pipeline, so end to end is bounded by the slowest one.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import av
import torch

from sanet_video.accel import COMPILE_MODES
from sanet_video.options import StylizeOptions
from sanet_video.stylist import Stylist
from sanet_video.video.pipeline import FrameBatch, to_pixels
from sanet_video.video.sink import VideoSink
from sanet_video.video.source import VideoSource

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"360p": (640, 360), "480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}


def make_clip(path: Path, size: tuple[int, int], frames: int, skip: int = 0) -> None:
    """The example clip from frame ``skip`` on, upscaled (bicubic) to ``size`` and looped
    to ``frames`` frames; H.264 CRF 18."""
    with av.open(str(ROOT / "examples" / "city.mp4")) as src:
        originals = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "18", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i in range(frames):
            # Play forwards then backwards so that the loop has no jump.
            k = (i + skip) % (2 * len(originals) - 2)
            rgb = originals[k if k < len(originals) else 2 * len(originals) - 2 - k]
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(*size, "yuv420p",
                                                                              interpolation="BICUBIC")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def decoded_batches(clip: Path, batch_size: int, device: torch.device) -> list[tuple]:
    """Every batch of the clip as (host pixels copy, device tensor, timing)."""
    source = VideoSource(clip)
    batch = FrameBatch(batch_size, source.first_frame.width, source.first_frame.height, device)
    out = []

    def take() -> None:
        out.append((batch.host_pixels().copy(), batch.frames().clone(), list(batch.timing)))
        batch.clear()

    next_pts = 0
    for item in source:
        if isinstance(item, av.VideoFrame):
            next_pts = batch.add(item, next_pts)
            if batch.full:
                take()
    if batch.timing:
        take()
    source.close()
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", default="1080p", choices=SIZES)
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--compile", default="off", choices=COMPILE_MODES)
    parser.add_argument("--style", default=str(ROOT / "examples" / "starry_night.jpg"))
    parser.add_argument("--json")
    parser.add_argument("--keep", type=Path, help="keep the test clip and the output in this folder")
    args = parser.parse_args()
    device = torch.device(args.device)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_e2e_"))
    work.mkdir(parents=True, exist_ok=True)
    clip, output = work / f"clip_{args.size}.mp4", work / f"stylized_{args.size}.mp4"
    if not clip.exists():
        print(f"making a {args.size} test clip of {args.frames} frames ...", flush=True)
        make_clip(clip, SIZES[args.size], args.frames)
    options = StylizeOptions(styles=[args.style], device=args.device, batch_size=args.batch_size,
                             compile=args.compile, quiet=True, overwrite=True)
    stylist = Stylist(options)
    stages: dict[str, float] = {}

    stages["decode"] = timed(lambda: decoded_batches(clip, args.batch_size, torch.device("cpu")))
    batches = decoded_batches(clip, args.batch_size, device)
    frames = sum(len(b[2]) for b in batches)

    temporal = stylist.new_stylizer().temporal
    stages["flow"] = timed(lambda: [temporal.motions(pixels, device) for pixels, _, _ in batches])

    def stylize_all() -> list[torch.Tensor]:
        stylizer = stylist.new_stylizer()
        with torch.inference_mode():
            outs = [to_pixels(stylizer(pixels, content)) for pixels, content, _ in batches]
        sync(device)
        return outs

    stylize_all()  # warm-up: cuDNN autotuning, compilation
    outs: list[torch.Tensor] = []
    stages["stylize"] = timed(lambda: outs.extend(stylize_all()))

    def encode_all() -> None:
        source = VideoSource(clip)
        sink = VideoSink(work / "encode_only.mp4", source, *SIZES[args.size], options)
        for out, (_, _, timing) in zip(outs, batches):
            sink.write_frames(out.numpy(), timing)
        sink.close()
        source.close()

    stages["encode"] = timed(encode_all)
    cold = stylist.video(clip, output)
    warm = stylist.video(clip, output)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")

    print(f"\n{args.size}, {frames} frames, batch {args.batch_size}, compile {args.compile}, {device}")
    print(f"{'stage':<22}{'frames/s':>10}{'ms/frame':>10}")
    for name, seconds in stages.items():
        print(f"{name + ' alone':<22}{frames / seconds:>10.1f}{1000 * seconds / frames:>10.2f}")
    for name, summary in (("end to end (first)", cold), ("end to end", warm)):
        print(f"{name:<22}{summary.fps:>10.1f}{1000 / summary.fps:>10.2f}")
    print(f"peak device memory {peak:.2f} GiB")
    result = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
              or platform.machine(), "cpus": torch.get_num_threads(), "torch": torch.__version__,
              "av": av.__version__, "date": time.strftime("%Y-%m-%d"), "size": args.size, "frames": frames,
              "batch_size": args.batch_size, "compile": args.compile,
              "stage_fps": {k: frames / v for k, v in stages.items()},
              "end_to_end_fps_first": cold.fps, "end_to_end_fps": warm.fps, "peak_gib": peak}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

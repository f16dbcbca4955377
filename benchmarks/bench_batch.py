"""Throughput of the batch command on a folder of clips, and a check of every output.

``python benchmarks/bench_batch.py [--clips 8] [--devices cuda:0] [--engine local]
[--size 720p] [--frames 100] [--json out.json]``

Makes ``--clips`` clips (the bundled example upscaled to ``--size``, each starting at another
frame so that the clips differ), runs ``python -m sanet_video batch`` on them with the
product's defaults and the given devices or engine, then checks that every output decodes
to as many frames as its input. Prints jobs/minute and frames/s over the whole run
(including the workers' start-up); compare runs with one and several GPUs.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

from bench_e2e import ROOT, SIZES, make_clip


def count_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--devices", default="cuda:0")
    parser.add_argument("--engine", default="local", choices=("local", "ray"))
    parser.add_argument("--size", default="720p", choices=SIZES)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    clips = work / "clips"
    clips.mkdir()
    for index in range(args.clips):
        make_clip(clips / f"clip{index}.mp4", SIZES[args.size], args.frames, skip=5 * index)
    out = work / "out"
    command = [sys.executable, "-m", "sanet_video", "batch", str(clips), str(out),
               "--style", str(ROOT / "examples" / "starry_night.jpg"), "--engine", args.engine]
    if args.engine == "local":
        command += ["--devices", args.devices]
    began = time.perf_counter()
    status = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    print(status.stdout[-1500:], status.stderr[-1500:])
    with open(out / "batch_report.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    done = [row for row in rows if row["status"] == "done"]
    frames = sum(int(row["frames"]) for row in done)
    complete = all(count_frames(out / row["output"]) == args.frames for row in done)
    devices = sorted({row["device"] for row in done})
    print(f"{len(done)}/{args.clips} jobs done on {', '.join(devices)} in {seconds:.1f} s: "
          f"{60 * len(done) / seconds:.1f} jobs/min, {frames / seconds:.1f} frames/s; "
          f"every output complete: {complete}; exit code {status.returncode}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "engine": args.engine, "devices": args.devices, "size": args.size, "clips": args.clips,
            "frames_per_clip": args.frames, "jobs_done": len(done), "seconds": seconds,
            "jobs_per_minute": 60 * len(done) / seconds, "fps": frames / seconds,
            "outputs_complete": complete, "workers": devices, "exit_code": status.returncode,
            "date": time.strftime("%Y-%m-%d")}, indent=1))


if __name__ == "__main__":
    main()

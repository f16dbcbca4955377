"""Turn a training checkpoint into the package's weights.

``python -m sanet_video.export_weights runs/ckpt [--metrics eval.json]`` writes
``sanet_video/weights/sanet_v1.safetensors`` (fp16 transform and decoder, fp32 VGG
scales) and ``sanet_v1.json`` beside it: SHA-256, parameter count, iterations,
training recipe, data and held-out metrics.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path

from safetensors.torch import save_file

from ._vgg import sha256_of
from .train import load_checkpoint
from .weights import SCALE_PREFIX, WEIGHTS_DIR

DATA_NOTE = ("sanet-train (offline set of this project): 545 photographs from Debian packages and PyPI "
             "sample images (content), 97 artworks from Debian packages and 191 paintings from public "
             "style-transfer repositories (style); one image in ten of each folder held out by name hash")


def export(checkpoint: Path, stem: str, metrics: dict | None) -> Path:
    state, iteration, info = load_checkpoint(checkpoint)
    half = {k: (v if k.startswith(SCALE_PREFIX) else v.half()).contiguous() for k, v in state.items()}
    path = WEIGHTS_DIR / f"{stem}.safetensors"
    tmp = path.with_suffix(".tmp")
    save_file(half, str(tmp), metadata={"iteration": str(iteration)})
    os.replace(tmp, path)
    params = sum(v.numel() for k, v in state.items() if not k.startswith(SCALE_PREFIX))
    meta_path = WEIGHTS_DIR / f"{stem}.json"
    old = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta = {
        "file": path.name,
        "sha256": sha256_of(path),
        "num_params": params,
        "dtype": "float16 (VGG scales float32)",
        "iterations": iteration,
        "date": datetime.date.today().isoformat(),
        "paper": "https://arxiv.org/abs/1812.02342",
        "recipe": info.get("config", {}),
        "data": DATA_NOTE,
        "metrics": metrics if metrics is not None else old.get("metrics", {}),
    }
    meta["recipe"] = {k: v for k, v in meta["recipe"].items() if k not in ("data", "out", "resume", "vgg_scales")}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--name", default="sanet_v1")
    parser.add_argument("--metrics", type=Path, help="JSON from sanet_video.evaluate")
    args = parser.parse_args()
    metrics = json.loads(args.metrics.read_text()) if args.metrics else None
    path = export(args.checkpoint, args.name, metrics)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()

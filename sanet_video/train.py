"""Train SANet: ``python -m sanet_video.train --config configs/train.yaml``.

Losses and weights as in the paper and its reference code (Section 3.3):
L = 1 * L_c + 3 * L_s + 50 * L_identity1 + 1 * L_identity2, plus, for SANet v2, an
optional stability term (``function.stability_loss`` on a random small motion of the
content) and style crops whose tiles are shuffled (``data.shuffle_patches``). ``--init``
starts from shipped weights (e.g. ``v1``) instead of from scratch. Adam with
lr / (1 + decay * iteration). Random crops are drawn on the device; bf16 autocast and
channels_last on CUDA. The run writes into ``out``: checkpoint shards (fp32
safetensors, each under 16 MiB), ``state.json``, ``loss.csv``, ``loss.png`` and
``samples.png``; ``--resume DIR`` continues from such a folder (Adam restarts with a
short warm-up).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor

from . import config as cfg
from .data import CONTENT_DIRS, STYLE_DIRS, CropSampler, list_images, move, moved_valid, random_motion, shuffle_patches
from .function import content_loss, feature_mse, stability_loss, style_loss
from .net import SANet
from .vgg_stats import channel_means
from .weights import SCALE_PREFIX, read_weights, split_state

LOSS_NAMES = ("content", "style", "identity1", "identity2", "stability")
# Checkpoint shards by parameter prefix; VGG scales travel with the decoder.
SHARDS = {"sa": ("transform.sa4.", "transform.sa5."), "merge": ("transform.merge.",),
          "decoder": ("decoder.", SCALE_PREFIX)}


@dataclass
class TrainConfig:
    data: str = field(default="../shared/datasets/sanet-train", metadata={"help": "training set folder"})
    out: str = field(default="runs/train", metadata={"help": "output folder"})
    resume: str | None = field(default=None, metadata={"help": "checkpoint folder to continue from"})
    init: str | None = field(default=None, metadata={"help": "start from shipped weights (v1, ...) or a weights file"})
    vgg_scales: str | None = field(default=None, metadata={"help": "VGG scales from sanet_video.vgg_stats"})
    iterations: int = 160_000
    max_minutes: float = 0.0
    batch_size: int = 8
    crop: int = 256
    short_side: int = 512
    lr: float = 1e-4
    lr_decay: float = 5e-5
    warmup: int = 300
    content_weight: float = 1.0
    style_weight: float = 3.0
    identity1_weight: float = 50.0
    identity2_weight: float = 1.0
    stability_weight: float = 0.0
    motion_degrees: float = 2.0
    motion_scale: float = 0.03
    motion_shift: float = 0.03
    motion_noise: float = 0.0
    style_shuffle: float = 0.0
    shuffle_grid: int = 4
    log_every: int = 50
    checkpoint_every: int = 1000
    sample_every: int = 2000
    compile: bool = False
    seed: int = 0
    device: str = "cuda"

    def check(self) -> None:
        if self.iterations <= 0 or self.batch_size <= 0 or self.crop < 32:
            raise cfg.UserError("iterations and batch_size must be positive and crop at least 32")
        if self.shuffle_grid < 1 or self.crop % (8 * self.shuffle_grid):
            raise cfg.UserError("shuffle_grid must divide crop into tiles of a multiple of 8 px")
        if not 0 <= self.style_shuffle <= 1:
            raise cfg.UserError("style_shuffle is a probability, from 0 to 1")


def lr_at(step: int, conf: TrainConfig, start: int) -> float:
    """lr / (1 + decay * step), ramped up linearly over ``warmup`` steps after a (re)start."""
    lr = conf.lr / (1.0 + conf.lr_decay * step)
    if step - start < conf.warmup:
        lr *= (step - start + 1) / conf.warmup
    return lr


def training_losses(model: SANet, content: Tensor, style: Tensor,
                    motion: tuple[Tensor, Tensor, float] | None = None) -> Tensor:
    """The four losses of the paper and the stability loss for one batch, as a (5,) tensor.

    The stylized output and the two identity reconstructions I_cc, I_ss go through
    the transform, the decoder and the encoder as one batch of 3N. ``motion`` is
    (sampling grid, valid mask, noise std) of a small motion T (``data.random_motion``):
    the stability loss compares S(T(c) + noise) with T(S(c)); without it, it is 0.
    """
    n = content.shape[0]
    with torch.no_grad():
        feats = model.encoder(torch.cat([content, style]))
    c_feats = [f[:n] for f in feats]
    s_feats = [f[n:] for f in feats]
    c4, c5, s4, s5 = c_feats[3], c_feats[4], s_feats[3], s_feats[4]
    merged = model.transform(torch.cat([c4, c4, s4]), torch.cat([s4, c4, s4]),
                             torch.cat([c5, c5, s5]), torch.cat([s5, c5, s5]))
    decoded = model.decoder(merged)
    out_feats = model.encoder(decoded)
    g_feats = [f[:n] for f in out_feats]
    loss_c = content_loss(g_feats[3:], c_feats[3:])
    loss_s = style_loss(g_feats, s_feats)
    icc, iss = decoded[n:2 * n], decoded[2 * n:]
    loss_id1 = F.mse_loss(icc.float(), content) + F.mse_loss(iss.float(), style)
    loss_id2 = feature_mse([f[n:2 * n] for f in out_feats], c_feats) + \
        feature_mse([f[2 * n:] for f in out_feats], s_feats)
    loss_t = loss_c.new_zeros(())
    if motion is not None:
        grid, valid, noise = motion
        moved = move(content, grid)
        if noise > 0:
            moved = (moved + noise * torch.randn_like(moved)).clamp(0, 1)
        with torch.no_grad():
            m4, m5 = model.encoder(moved)[3:]
        output_of_moved = model.decoder(model.transform(m4, s4, m5, s5))
        loss_t = stability_loss(output_of_moved, move(decoded[:n], grid), valid)
    return torch.stack([loss_c, loss_s, loss_id1, loss_id2, loss_t])


def save_checkpoint(model: SANet, scales: dict[str, Tensor], out: Path, iteration: int, extra: dict) -> None:
    state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()
             if not k.startswith("encoder.")}
    state.update({SCALE_PREFIX + k: v.float().cpu() for k, v in scales.items()})
    for shard, prefixes in SHARDS.items():
        part = {k: v for k, v in state.items() if k.startswith(prefixes)}
        tmp = out / f".{shard}.tmp"
        save_file(part, str(tmp), metadata={"iteration": str(iteration)})
        os.replace(tmp, out / f"{shard}.fp32.safetensors")
    tmp = out / ".state.tmp"
    tmp.write_text(json.dumps({"iteration": iteration, **extra}, indent=1))
    os.replace(tmp, out / "state.json")


def load_checkpoint(folder: Path) -> tuple[dict[str, Tensor], int, dict]:
    state: dict[str, Tensor] = {}
    for shard in SHARDS:
        state.update(load_file(str(folder / f"{shard}.fp32.safetensors")))
    info = json.loads((folder / "state.json").read_text())
    return state, int(info["iteration"]), info


def plot_losses(csv_path: Path, png_path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    steps = [int(r["iteration"]) for r in rows]
    fig, axes = plt.subplots(1, len(LOSS_NAMES), figsize=(4 * len(LOSS_NAMES), 3.2))
    for ax, name in zip(axes, LOSS_NAMES):
        values = [float(r.get(name) or 0.0) for r in rows]  # runs before v2 have no stability column
        ax.plot(steps, values, lw=0.8)
        if min(values) > 0:
            ax.set_yscale("log")
        ax.set_title(f"{name} loss")
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)


@torch.no_grad()
def save_samples(model: SANet, contents: Tensor, styles: Tensor, path: Path) -> None:
    """A grid: the styles along the top row, the contents down the left column, outputs inside."""
    from torchvision.utils import save_image

    model.eval()
    rows = [torch.cat([torch.ones_like(styles[:1]), styles])]
    codes = [model.encode_style(s[None].float()) for s in styles]
    for c in contents:
        outs = [model.stylize(c[None].float(), [code]) for code in codes]
        rows.append(torch.cat([c[None].float(), *outs]))
    model.train()
    save_image(torch.cat(rows).float().cpu(), str(path), nrow=len(styles) + 1, padding=2)


class Progress:
    def __init__(self, start: int, total: int) -> None:
        self.start, self.total, self.t0 = start, total, time.time()

    def line(self, step: int, losses: list[float]) -> str:
        done = step - self.start
        rate = done / max(time.time() - self.t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else math.inf
        parts = " ".join(f"{n}={v:.3f}" for n, v in zip(LOSS_NAMES, losses))
        return f"it {step}/{self.total} {rate:.1f} it/s ETA {eta / 60:.0f} min | {parts}"


def train(conf: TrainConfig) -> None:
    torch.manual_seed(conf.seed)
    random.seed(conf.seed)
    device = torch.device(conf.device if conf.device != "cuda" or torch.cuda.is_available() else "cpu")
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    out = Path(conf.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(conf.data)

    start = 0
    if conf.resume:
        state, start, _ = load_checkpoint(Path(conf.resume))
        scales, params = split_state(state)
    elif conf.init:
        scales, params = split_state(read_weights(conf.init))
    elif conf.vgg_scales:
        scales, params = load_file(conf.vgg_scales), None
    else:
        scales = channel_means(list_images(data, CONTENT_DIRS + STYLE_DIRS, held_out=False), device, conf.short_side)
        params = None
    model = SANet(scales).to(device)
    if params is not None:
        model.load_state_dict(params, strict=False)
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    model.encoder.eval()

    contents = CropSampler(list_images(data, CONTENT_DIRS, held_out=False), device, conf.short_side, conf.crop)
    styles = CropSampler(list_images(data, STYLE_DIRS, held_out=False), device, conf.short_side, conf.crop)
    sample_c = CropSampler(list_images(data, CONTENT_DIRS, held_out=True)[:4], device, conf.short_side, conf.crop)
    sample_s = CropSampler(list_images(data, STYLE_DIRS, held_out=True)[:4], device, conf.short_side, conf.crop)
    fixed_contents, fixed_styles = sample_c.sample(4), sample_s.sample_textured(4)

    params_to_train = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    opt = torch.optim.Adam(params_to_train, lr=conf.lr, fused=cuda)
    weights = torch.tensor([conf.content_weight, conf.style_weight, conf.identity1_weight,
                            conf.identity2_weight, conf.stability_weight], device=device)
    loss_fn = torch.compile(training_losses) if conf.compile else training_losses

    csv_path = out / "loss.csv"
    new_csv = not csv_path.exists() or conf.resume is None
    log = open(csv_path, "w" if new_csv else "a", newline="")
    writer = csv.writer(log)
    if new_csv:
        writer.writerow(["iteration", "lr", *LOSS_NAMES, "total", "it_per_s", "elapsed_s"])

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    progress = Progress(start, conf.iterations)
    deadline = time.time() + conf.max_minutes * 60 if conf.max_minutes > 0 else math.inf
    pending: list[Tensor] = []
    step = start
    last_log = time.time()
    print(f"training from iteration {start} on {device}, {len(contents.images)} contents, "
          f"{len(styles.images)} styles", flush=True)
    while step < conf.iterations and not stop["now"] and time.time() < deadline:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, conf, start)
        content = contents.sample(conf.batch_size)
        style = styles.sample_textured(conf.batch_size)
        if conf.style_shuffle > 0:
            style = shuffle_patches(style, conf.shuffle_grid, conf.style_shuffle)
        motion = None
        if conf.stability_weight > 0:
            grid = random_motion(conf.batch_size, conf.crop, conf.motion_degrees, conf.motion_scale,
                                 conf.motion_shift, device)
            motion = (grid, moved_valid(grid, margin=conf.crop // 16), conf.motion_noise)
        if cuda:
            content = content.contiguous(memory_format=torch.channels_last)
            style = style.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            losses = loss_fn(model, content, style, motion)
        total = (losses * weights).sum()
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        pending.append(torch.cat([losses.detach(), total.detach()[None]]))
        step += 1
        if step % conf.log_every == 0 or step == conf.iterations:
            values = torch.stack(pending).mean(0).tolist()
            pending.clear()
            now = time.time()
            rate = conf.log_every / max(now - last_log, 1e-9)
            last_log = now
            writer.writerow([step, f"{lr_at(step - 1, conf, start):.3e}", *[f"{v:.5f}" for v in values],
                             f"{rate:.2f}", f"{now - progress.t0:.0f}"])
            log.flush()
            print(progress.line(step, values[:len(LOSS_NAMES)]), flush=True)
            if not all(math.isfinite(v) for v in values):
                raise RuntimeError(f"loss is not finite at iteration {step}")
        if step % conf.checkpoint_every == 0:
            save_checkpoint(model, scales, out, step, {"config": asdict(conf)})
            plot_losses(csv_path, out / "loss.png")
        if step % conf.sample_every == 0:
            save_samples(model, fixed_contents, fixed_styles, out / "samples.png")
    save_checkpoint(model, scales, out, step, {"config": asdict(conf)})
    plot_losses(csv_path, out / "loss.png")
    save_samples(model, fixed_contents, fixed_styles, out / "samples.png")
    log.close()
    print(f"stopped at iteration {step}; checkpoint in {out}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train SANet.")
    parser.add_argument("--config", help="YAML file of TrainConfig fields")
    cfg.add_arguments(parser, TrainConfig)
    args = parser.parse_args(argv)
    try:
        conf = cfg.resolve(TrainConfig, args, args.config)
    except cfg.UserError as err:
        parser.exit(2, f"error: {err}\n")
    train(conf)


if __name__ == "__main__":
    main()

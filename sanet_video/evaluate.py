"""Held-out metrics and gallery of a SANet model.

``python -m sanet_video.evaluate --out runs/eval`` stylizes held-out photos with
held-out styles (one in ten of each training folder, never trained on) at 512 px and
reports, as in docs/MODEL_CARD.md:

- identity PSNR: dec(SA(c, c)) against c, in dB;
- style ratio: style loss of the output against the style, divided by the content
  image's own style loss against that style (normalised VGG; lower is better);
- content loss: MSE of mean-variance-normalised relu4_1 and relu5_1 (0 for identical
  features, about 4 for unrelated images).

With ``--alphas 1,0.8,0.6`` it also reports the style ratio and content loss of each
strength (alpha, the blend of SA(c, s) and SA(c, c)): the trade-off a user can choose.

It also writes a gallery (photos down, styles across) as a JPEG, and with
``--portrait-gallery`` a second one of face-free photos under portrait styles: a model
that copies whole style patches paints faces and eyes into landscapes there.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import make_grid
from tqdm import tqdm

from .data import CONTENT_DIRS, STYLE_DIRS, list_images, read_rgb
from .function import content_loss, style_loss
from .net import SANet
from .weights import load_sanet


# Held-out photos without people or animals, and portrait styles (faces, a figure, an animal's
# head): held-out ones first, then training styles the gallery of v1 showed pasting from.
FACE_FREE_PHOTOS = ("endless_sky_land__beach3@2x.webp", "endless_sky_land__canyon01@2x.webp",
                    "endless_sky_land__mountain4@2x.webp", "gcompris__brandenburgGate.webp",
                    "gcompris__TajMahal_background.webp", "widelands__autumnleaves.webp")
PORTRAIT_STYLES = ("munch_the_scream.webp", "gcompris_paintings__board16_0_Albrecht_D_rer_Lion_1494.webp",
                   "picasso_self_portrait_1907.webp", "kahlo_self_portrait_thorn_necklace.webp",
                   "vangogh_self_portrait_1889.webp", "leonardo_mona_lisa.webp")


def evenly_spaced(items: list, count: int) -> list:
    if len(items) <= count:
        return list(items)
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)] if count > 1 else items[:1]


def psnr(a: Tensor, b: Tensor) -> float:
    mse = torch.mean((a.float() - b.float()) ** 2).item()
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def load(path: Path, size: int, device: torch.device) -> Tensor:
    return (read_rgb(path, size).float() / 255.0)[None].to(device)


@torch.no_grad()
def evaluate(model: SANet, data: Path, size: int = 512, pairs: int = 5, identity_count: int = 20,
             device: torch.device = torch.device("cpu"), alphas: tuple[float, ...] = (1.0,)) -> dict:
    """Held-out metrics at strength 1; ``alphas`` adds the pairs' metrics at each strength."""
    contents = list_images(data, CONTENT_DIRS, held_out=True)
    styles = list_images(data, STYLE_DIRS, held_out=True)
    identity = []
    for path in tqdm(evenly_spaced(contents, identity_count), desc="identity", unit="img"):
        c = load(path, size, device)
        identity.append(psnr(model.stylize(c, [model.encode_style(c)]), c))
    alphas = tuple(dict.fromkeys((1.0, *alphas)))
    ratios: dict[float, list[float]] = {alpha: [] for alpha in alphas}
    c_losses: dict[float, list[float]] = {alpha: [] for alpha in alphas}
    style_paths = evenly_spaced(styles, pairs)
    style_imgs = [load(p, size, device) for p in style_paths]
    style_feats = [model.encoder(s) for s in style_imgs]
    codes = [model.encode_style(s) for s in style_imgs]
    for path in tqdm(evenly_spaced(contents, pairs), desc="pairs", unit="photo"):
        c = load(path, size, device)
        c_feats = model.encoder(c)
        for s_feats, code in zip(style_feats, codes):
            own_style_loss = style_loss(c_feats, s_feats)
            for alpha in alphas:
                out_feats = model.encoder(model.stylize(c, [code], alpha=alpha))
                ratios[alpha].append((style_loss(out_feats, s_feats) / own_style_loss).item())
                c_losses[alpha].append(content_loss(out_feats[3:], c_feats[3:]).item())

    def mean(values: list[float], digits: int = 3) -> float:
        return round(sum(values) / len(values), digits)

    metrics = {
        "size": size,
        "identity_psnr_db": mean(identity, 2),
        "style_loss_ratio": mean(ratios[1.0]),
        "content_loss": mean(c_losses[1.0]),
        "identity_images": len(identity),
        "pairs": len(ratios[1.0]),
        "photos": [p.name for p in evenly_spaced(contents, pairs)],
        "styles": [p.name for p in style_paths],
    }
    if len(alphas) > 1:
        metrics["by_alpha"] = [{"alpha": alpha, "style_loss_ratio": mean(ratios[alpha]),
                                "content_loss": mean(c_losses[alpha])} for alpha in sorted(alphas, reverse=True)]
    return metrics


def named(data: Path, folders: tuple[str, ...], names: tuple[str, ...]) -> list[Path]:
    """The images of ``names`` found in ``folders`` of ``data``, in that order."""
    found = {p.name: p for held_out in (True, False) for p in list_images(data, folders, held_out)}
    return [found[name] for name in names if name in found]


@torch.no_grad()
def gallery(model: SANet, contents: list[Path], styles: list[Path], path: Path, cell: int = 160,
            size: int = 384, device: torch.device = torch.device("cpu"), alpha: float = 1.0) -> None:
    """Photos down the left, styles along the top, each output a ``cell`` px square (centre crop)."""
    from PIL import Image

    def square(img: Tensor) -> Tensor:
        h, w = img.shape[-2:]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        crop = img[..., top:top + side, left:left + side]
        return torch.nn.functional.interpolate(crop, size=(cell, cell), mode="bilinear", antialias=True)

    style_imgs = [load(p, size, device) for p in styles]
    codes = [model.encode_style(s) for s in style_imgs]
    cells = [torch.ones(1, 3, cell, cell, device=device)] + [square(s) for s in style_imgs]
    for p in tqdm(contents, desc="gallery", unit="photo"):
        c = load(p, size, device)
        cells += [square(c)] + [square(model.stylize(c, [code], alpha=alpha)) for code in codes]
    grid = make_grid(torch.cat(cells).cpu(), nrow=len(styles) + 1, padding=2, pad_value=1.0)
    array = (grid.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, quality=85)


def main() -> None:
    parser = argparse.ArgumentParser(description="Held-out metrics and gallery of the shipped SANet weights.")
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/sanet-train"))
    parser.add_argument("--weights", default="default", help="shipped weights (v1, ...) or a .safetensors file")
    parser.add_argument("--out", type=Path, default=Path("runs/eval"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--pairs", type=int, default=5, help="photos x styles of the metrics (0: galleries only)")
    parser.add_argument("--gallery", type=Path, help="write the gallery JPEG here")
    parser.add_argument("--portrait-gallery", type=Path, help="write the face-free photos x portrait styles JPEG here")
    parser.add_argument("--gallery-alpha", type=float, default=1.0, help="strength used in the galleries")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--alphas", type=lambda text: tuple(float(a) for a in text.split(",")), default=(1.0,),
                        help="also report the pairs' metrics at these strengths, e.g. 1,0.8,0.6")
    args = parser.parse_args()
    device = torch.device(args.device)
    model = load_sanet(weights=args.weights, device=device)
    if args.pairs > 0:  # --pairs 0: galleries only
        metrics = evaluate(model, args.data, args.size, args.pairs, device=device, alphas=args.alphas)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
        print(json.dumps({k: v for k, v in metrics.items() if k not in ("photos", "styles")}))
    if args.gallery:
        contents = evenly_spaced(list_images(args.data, CONTENT_DIRS, held_out=True), 6)
        styles = evenly_spaced(list_images(args.data, STYLE_DIRS, held_out=True), 6)
        gallery(model, contents, styles, args.gallery, device=device, alpha=args.gallery_alpha)
        print(f"wrote {args.gallery}")
    if args.portrait_gallery:
        gallery(model, named(args.data, CONTENT_DIRS, FACE_FREE_PHOTOS), named(args.data, STYLE_DIRS, PORTRAIT_STYLES),
                args.portrait_gallery, device=device, alpha=args.gallery_alpha)
        print(f"wrote {args.portrait_gallery}")


if __name__ == "__main__":
    main()

"""Spatial control: a mask per style, in the model, for images and videos, on the command line and in batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _media import make_image, make_video, moving_frame
from PIL import Image

from sanet_video.api import stylize_image
from sanet_video.cli import main
from sanet_video.masks import read_mask
from sanet_video.temporal import TemporalConfig, TemporalStylizer

H, W = 48, 64  # multiples of 16: the halves of the frame are whole cells at relu4_1 (8 px) and relu5_1 (16 px)


def texture(h: int, w: int, seed: int) -> torch.Tensor:
    """A (1, 3, h, w) image in [0, 1] with structure at several scales."""
    g = torch.Generator().manual_seed(seed)
    img = sum(F.interpolate(torch.rand(1, 3, max(2, h // s), max(2, w // s), generator=g), size=(h, w),
                            mode="bilinear", align_corners=False) for s in (2, 8, 32)) / 3
    return img.clamp(0, 1)


def blue_stripes(size: int = 64) -> torch.Tensor:
    """(1, 3, size, size): diagonal blue stripes on black."""
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    on = (((x + y) // 4) % 2).float()
    return on[None, None] * torch.tensor([0.1, 0.4, 1.0])[None, :, None, None]


def yellow_texture(size: int = 64) -> torch.Tensor:
    """(1, 3, size, size): a yellow blotchy texture, a style whose outputs look nothing like :func:`blue_stripes`'s."""
    return texture(size, size, seed=3) * torch.tensor([1.0, 0.9, 0.1])[None, :, None, None]


def save(image: torch.Tensor, path: Path) -> Path:
    Image.fromarray((image[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(path)
    return path


@contextmanager
def merge_inputs(model) -> Iterator[list[torch.Tensor]]:
    """The merge conv's inputs (the mixed SA outputs) of the stylize calls made inside."""
    seen: list[torch.Tensor] = []
    handle = model.transform.merge.register_forward_hook(lambda module, args, out: seen.append(args[0].clone()))
    try:
        yield seen
    finally:
        handle.remove()


def reference_sa(model, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """SA(c, s) at relu4_1 plus SA(c, s) at relu5_1 upsampled, straight from the SA modules (paper Eq. 4's input).

    Sides are multiples of 16, so the model pads nothing."""
    c, s = model.encoder(content), model.encoder(style)
    out4 = model.transform.sa4(c[3], s[3])
    return out4 + F.interpolate(model.transform.sa5(c[4], s[4]), size=out4.shape[-2:], mode="nearest")


@pytest.fixture(scope="module")
def scene(model):
    content = texture(H, W, seed=1)
    a, b = blue_stripes(), yellow_texture()
    return content, (a, b), (model.encode_style(a), model.encode_style(b))


@torch.inference_mode()
def test_all_ones_mask_equals_the_style_alone(model, scene):
    content, (a, _), codes = scene
    ones, zeros = torch.ones(H, W), torch.zeros(H, W)
    with merge_inputs(model) as feats:
        masked = model.stylize(content, list(codes), masks=torch.stack([ones, zeros]))
        alone = model.stylize(content, [codes[0]])
    torch.testing.assert_close(feats[0], reference_sa(model, content, a), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(feats[0], feats[1], rtol=0, atol=1e-6)
    torch.testing.assert_close(masked, alone, rtol=0, atol=1e-5)


@torch.inference_mode()
def test_complementary_halves_are_each_style_on_its_half(model, scene):
    content, (a, b), codes = scene
    left = torch.zeros(H, W)
    left[:, :W // 2] = 1
    with merge_inputs(model) as feats:
        model.stylize(content, list(codes), masks=torch.stack([left, 1 - left]))
    split, cells = feats[0], W // 2 // 8  # relu4_1 cells of each half
    torch.testing.assert_close(split[..., :cells], reference_sa(model, content, a)[..., :cells], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(split[..., cells:], reference_sa(model, content, b)[..., cells:], rtol=1e-4, atol=1e-4)


@torch.inference_mode()
def test_uncovered_pixels_keep_the_content_and_overlaps_are_normalised(model, scene):
    content, (a, b), codes = scene
    own = reference_sa(model, content, content)  # SA(c, c), what alpha = 0 decodes
    left = torch.zeros(1, H, W)
    left[:, :, :W // 2] = 1
    with merge_inputs(model) as feats:
        model.stylize(content, [codes[0]], masks=left)
        model.stylize(content, [codes[0]], masks=torch.full((1, H, W), 0.4))
        model.stylize(content, list(codes), masks=torch.ones(2, H, W))
    cells = W // 2 // 8
    torch.testing.assert_close(feats[0][..., cells:], own[..., cells:], rtol=1e-4, atol=1e-4)
    sa_a, sa_b = reference_sa(model, content, a), reference_sa(model, content, b)
    torch.testing.assert_close(feats[1], 0.4 * sa_a + 0.6 * own, rtol=1e-4, atol=1e-4)  # grey: partly content
    torch.testing.assert_close(feats[2], 0.5 * sa_a + 0.5 * sa_b, rtol=1e-4, atol=1e-4)  # 1 + 1: half each
    # a uniform grey mask is the strength control; alpha then applies on top of the masks
    torch.testing.assert_close(model.stylize(content, [codes[0]], masks=torch.full((1, H, W), 0.4)),
                               model.stylize(content, [codes[0]], alpha=0.4), rtol=0, atol=1e-5)
    torch.testing.assert_close(model.stylize(content, list(codes), alpha=0.0, masks=torch.ones(2, H, W)),
                               model.stylize(content, [codes[0]], alpha=0.0), rtol=0, atol=1e-5)


def test_read_mask_is_luminance_resized_with_transparency_as_black(tmp_path):
    rgb = np.zeros((20, 30, 4), np.uint8)
    rgb[:, :15] = (200, 120, 40, 255)
    rgb[:, 15:] = (255, 255, 255, 0)  # transparent white: uncovered
    Image.fromarray(rgb, "RGBA").save(tmp_path / "m.png")
    mask = read_mask(tmp_path / "m.png", (40, 60))
    assert mask.shape == (40, 60)
    luma = np.asarray(Image.fromarray(rgb[..., :3]).convert("L"), np.float32)[0, 0] / 255  # Pillow's BT.601 luma
    assert mask[:, :28].numpy() == pytest.approx(luma, abs=2 / 255)
    assert mask[:, 32:].max() == 0


def mask_png(path: Path, columns: slice, size: tuple[int, int] = (W, H)) -> Path:
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[:, columns] = 255
    Image.fromarray(mask).save(path)
    return path


def write_mask_video(path: Path, columns: list[int], size: tuple[int, int] = (W, H), right: bool = False) -> Path:
    """A mask video (lossless) whose frame i is white left of ``columns[i]`` and black right of it
    (``right``: the other way round)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "0"})
        stream.width, stream.height, stream.pix_fmt = *size, "yuv444p"
        for column in columns:
            frame = np.zeros((size[1], size[0], 3), np.uint8)
            frame[:, slice(column, None) if right else slice(0, column)] = 255
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("masks")
    make_video(folder / "clip.mp4", size=(W, H), frames=6)
    make_image(folder / "photo.png", size=(W, H))
    save(blue_stripes(), folder / "a.png")
    save(yellow_texture(), folder / "b.png")
    mask_png(folder / "white.png", slice(None), size=(13, 7))  # any size: resized to the frame
    mask_png(folder / "left.png", slice(0, W // 2))
    mask_png(folder / "right.png", slice(W // 2, None))
    mask_png(folder / "black.png", slice(0, 0))
    (folder / "notes.txt").write_text("not a mask")
    return folder


def cli(capsys, *args: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in args] + ["--style-size", "64", "--quiet"])
    return code, capsys.readouterr().err


def test_white_mask_through_the_command_line_equals_no_mask(media, tmp_path, capsys):
    assert cli(capsys, media / "photo.png", tmp_path / "plain.png", "--style", media / "a.png")[0] == 0
    code, err = cli(capsys, media / "photo.png", tmp_path / "masked.png", "--style", f"{media / 'a.png'}:mask="
                    f"{media / 'white.png'}")
    assert code == 0, err
    plain, masked = (np.asarray(Image.open(tmp_path / name), np.int16) for name in ("plain.png", "masked.png"))
    assert np.abs(plain - masked).max() <= 1
    stylize_image(media / "photo.png", [(media / "a.png", 1, media / "white.png")], tmp_path / "api.png", style_size=64)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "api.png"), np.int16), masked)


@pytest.mark.parametrize("spec,expected", [
    ("{m}/a.png:mask={m}/notes.txt", "mask {m}/notes.txt is neither an image nor a video"),
    ("{m}/a.png:mask={m}/black.png", "mask {m}/black.png is black everywhere"),
    ("{m}/a.png:mask={m}/missing.png", "mask {m}/missing.png not found"),
    ("{m}/a.png:mask=", "without a mask file"),
])
def test_bad_masks_are_refused_in_one_line(media, tmp_path, capsys, spec, expected):
    code, err = cli(capsys, media / "photo.png", tmp_path / "out.png", "--style", spec.format(m=media))
    assert code == 1 and err.count("\n") == 1 and expected.format(m=media) in err, err
    assert not list(tmp_path.iterdir())


def test_a_style_without_a_mask_among_masked_ones_is_refused(media, tmp_path, capsys):
    code, err = cli(capsys, media / "clip.mp4", tmp_path / "out.mp4", "--style", f"{media / 'a.png'}:mask="
                    f"{media / 'left.png'}", "--style", media / "b.png")
    assert code == 1 and err.count("\n") == 1 and "has no mask but others have one" in err, err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("frames,when", [(3, "from its header"), (7, "after the last frame")])
def test_a_mask_video_of_the_wrong_length_is_refused(media, tmp_path, capsys, frames, when):
    mask = write_mask_video(tmp_path / "mask.mp4", [W // 2] * frames)
    code, err = cli(capsys, media / "clip.mp4", tmp_path / "out.mp4", "--style", f"{media / 'a.png'}:mask={mask}")
    assert code == 1 and err.count("\n") == 1, err
    assert f"mask video {mask} has {frames} frames but input {media / 'clip.mp4'} has 6" in err, when
    assert sorted(tmp_path.iterdir()) == [mask]


def test_start_and_duration_apply_to_the_mask_video(media, tmp_path, capsys):
    full, short = write_mask_video(tmp_path / "full.mp4", [W // 2] * 6), write_mask_video(tmp_path / "4.mp4", [W] * 4)
    code, err = cli(capsys, media / "clip.mp4", tmp_path / "out.mp4", "--style", f"{media / 'a.png'}:mask={full}",
                    "--start", "0.08", "--duration", "0.12")
    assert code == 0, err
    with av.open(str(tmp_path / "out.mp4")) as video:
        assert video.streams.video[0].frames == 3
    code, err = cli(capsys, media / "clip.mp4", tmp_path / "out2.mp4", "--style", f"{media / 'a.png'}:mask={short}",
                    "--start", "0.08")
    assert code == 1 and f"mask video {short} has 2 frames in the chosen range but input" in err, err
    assert not (tmp_path / "out2.mp4").exists()


def test_a_mask_video_for_a_still_image_is_refused(media, tmp_path, capsys):
    mask = write_mask_video(tmp_path / "mask.mp4", [W // 2])
    code, err = cli(capsys, media / "photo.png", tmp_path / "out.png", "--style", f"{media / 'a.png'}:mask={mask}")
    assert code == 1 and f"mask {mask} is a video, but the input is a still image" in err, err


def boundary(out: torch.Tensor, only_a: torch.Tensor, only_b: torch.Tensor) -> list[int]:
    """Per frame, the column where the output turns from style A alone to style B alone (best step fit)."""
    score = ((out - only_a).abs() - (out - only_b).abs()).mean((1, 2)).numpy()  # (T, W): > 0 where B
    costs = [[row[:c].clip(0).sum() - row[c:].clip(None, 0).sum() for c in range(len(row) + 1)] for row in score]
    return [int(np.argmin(c)) for c in costs]


MOVING = [32, 32, 48, 64, 80, 96]
"""Where style A ends in each frame of a 128 x 96 clip: still, then moving right 16 px a frame (the
content moves otherwise, so a warp of the previous output would drag the old boundary along)."""


@torch.inference_mode()
@pytest.mark.parametrize("temporal", ["flow"])
def test_temporal_smoothing_keeps_a_moving_mask_boundary(model, scene, temporal):
    _, _, codes = scene
    pixels = np.stack([moving_frame(i, 128, 96) for i in range(6)])
    content = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255
    masks = torch.zeros(6, 2, 96, 128)
    for t, column in enumerate(MOVING):
        masks[t, 0, :, :column], masks[t, 1, :, column:] = 1, 1
    stylizer = TemporalStylizer(model, list(codes), TemporalConfig(temporal=temporal))
    out = torch.cat([stylizer(pixels[t:t + 3], content[t:t + 3], masks=masks[t:t + 3]) for t in (0, 3)])
    only_a, only_b = model.stylize(content, [codes[0]]), model.stylize(content, [codes[1]])
    found = boundary(out, only_a, only_b)
    assert all(abs(f - c) <= 4 for f, c in zip(found, MOVING)), (found, MOVING)


def test_a_mask_video_moves_the_styles_region_in_the_output(media, tmp_path, capsys):
    clip = make_video(tmp_path / "clip.mp4", size=(128, 96), frames=6)
    left = write_mask_video(tmp_path / "left.mp4", MOVING, size=(128, 96))
    right = write_mask_video(tmp_path / "right.mp4", MOVING, size=(128, 96), right=True)
    outputs = {}
    for name, styles in [("split", [f"{media / 'a.png'}:mask={left}", f"{media / 'b.png'}:mask={right}"]),
                         ("a", [str(media / "a.png")]), ("b", [str(media / "b.png")])]:
        code, err = cli(capsys, clip, tmp_path / f"{name}.mp4", "--crf", "0", "--pix-fmt", "yuv444p",
                        *[arg for style in styles for arg in ("--style", style)])
        assert code == 0, err
        with av.open(str(tmp_path / f"{name}.mp4")) as video:
            outputs[name] = torch.from_numpy(np.stack([f.to_ndarray(format="rgb24") for f in video.decode(video=0)]))
    out, only_a, only_b = (outputs[k].permute(0, 3, 1, 2).float() / 255 for k in ("split", "a", "b"))
    found = boundary(out, only_a, only_b)
    assert all(abs(f - c) <= 4 for f, c in zip(found, MOVING)), (found, MOVING)


def test_batch_takes_a_mask_next_to_its_style(media, tmp_path, capsys):
    styles, inputs, out = tmp_path / "styles", tmp_path / "in", tmp_path / "out"
    styles.mkdir(), inputs.mkdir()
    for name in ("a.png", "b.png"):
        (styles / name).write_bytes((media / name).read_bytes())
    mask_png(styles / "a.mask.png", slice(0, W // 2))
    (inputs / "photo.png").write_bytes((media / "photo.png").read_bytes())
    code = main(["batch", str(inputs), str(out), "--styles", str(styles), "--style-size", "64", "--devices", "cpu",
                 "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.glob("*.png")) == ["photo__a.png", "photo__b.png"]
    code, err = cli(capsys, media / "photo.png", tmp_path / "single.png", "--style",
                    f"{styles / 'a.png'}:mask={styles / 'a.mask.png'}")
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(out / "photo__a.png")), np.asarray(Image.open(tmp_path / "single.png")))
    (styles / "c.mask.png").write_bytes((styles / "a.mask.png").read_bytes())
    code = main(["batch", str(inputs), str(out), "--styles", str(styles), "--devices", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and f"mask {styles / 'c.mask.png'} belongs to no style" in err, err


def test_batch_styles_need_not_all_have_masks(media, tmp_path, capsys):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / "photo.png").write_bytes((media / "photo.png").read_bytes())
    code = main(["batch", str(inputs), str(out), "--style", f"{media / 'a.png'}:mask={media / 'left.png'}",
                 "--style", str(media / "b.png"), "--style-size", "32", "--devices", "cpu", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.glob("*.png")) == ["photo__a.png", "photo__b.png"]

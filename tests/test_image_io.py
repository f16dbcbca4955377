"""Still images: every mode read as RGB in [0, 1], size limits, orientation, writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _media import make_image, make_png_header
from PIL import Image

from sanet_video.errors import UserError
from sanet_video.image_io import MAX_PIXELS, fit_within, image_format, is_still_image, read_image, write_image


@pytest.mark.parametrize("mode", ["RGB", "L", "1", "P", "CMYK", "I;16", "LA", "RGBA", "I", "F"])
def test_every_mode_reads_as_rgb(tmp_path, mode):
    suffix = ".tif" if mode in ("I", "F") else (".jpg" if mode == "CMYK" else ".png")
    path = tmp_path / f"image{suffix}"
    if mode in ("I", "F"):
        Image.fromarray(np.linspace(0, 1 if mode == "F" else 65535, 40 * 32).reshape(32, 40)
                        .astype(np.float32 if mode == "F" else np.int32)).save(path)
    else:
        make_image(path, mode=mode)
    rgb, alpha = read_image(path)
    assert rgb.shape == (3, 32, 40) and rgb.dtype == torch.float32
    assert 0.0 <= rgb.min() and rgb.max() <= 1.0 and rgb.max() > 0.5
    assert (alpha is not None) == (mode in ("LA", "RGBA"))


def test_sixteen_bit_keeps_its_range(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.array([[0, 32768, 65535]], dtype=np.uint16)).save(path)
    rgb, _ = read_image(path)
    assert rgb[0, 0].tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-4)


def test_transparent_pixels_become_white(tmp_path):
    path = tmp_path / "clear.png"
    Image.new("RGBA", (4, 3), (10, 20, 30, 0)).save(path)
    rgb, alpha = read_image(path)
    assert torch.allclose(rgb, torch.ones_like(rgb)) and alpha.max() == 0


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.new("RGB", (40, 20), (200, 100, 50)).save(path, exif=exif)
    assert read_image(path)[0].shape == (3, 40, 20)


def test_too_many_pixels_are_refused_before_decoding(tmp_path):
    path = make_png_header(tmp_path / "huge.png", 9000, 6000)
    assert 9000 * 6000 > MAX_PIXELS
    with pytest.raises(UserError, match="9000x6000 pixels, above the limit of 50 megapixels"):
        read_image(path, "style image")


@pytest.mark.parametrize("content, message", [(b"", "cannot be read as an image"),
                                              (b"GIF89a garbage", "cannot be read as an image")])
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        read_image(path)


def test_truncated_image(tmp_path):
    path = make_image(tmp_path / "full.png", size=(300, 200))
    cut = tmp_path / "cut.png"
    cut.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(UserError, match="truncated or corrupt"):
        read_image(cut)


def test_still_images_are_told_from_videos(tmp_path):
    still = make_image(tmp_path / "still.gif", mode="P")
    frames = [Image.new("RGB", (8, 8), (80 * i, 0, 0)) for i in range(3)]
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:])
    (tmp_path / "text.png").write_text("hello")
    assert is_still_image(still)
    assert not is_still_image(tmp_path / "moving.gif")
    assert not is_still_image(tmp_path / "text.png")
    assert not is_still_image(tmp_path / "missing.png")


@pytest.mark.parametrize("size, limit, expected", [((1920, 1080), 0, (1920, 1080)), ((1920, 1080), 2000, (1920, 1080)),
                                                   ((1920, 1080), 640, (640, 360)), ((271, 481), 100, (56, 100)),
                                                   ((64, 48), 33, (32, 24)), ((3, 1000), 10, (2, 10))])
def test_fit_within(size, limit, expected):
    width, height = fit_within(*size, limit)
    assert (width, height) == expected
    assert not limit or max(width, height) <= limit


def test_write_keeps_alpha_only_where_the_format_can(tmp_path):
    rgb, alpha = torch.rand(3, 6, 8), torch.rand(6, 8)
    for name, mode in (("a.png", "RGBA"), ("a.webp", "RGBA"), ("a.jpg", "RGB")):
        path = tmp_path / name
        write_image(path, rgb, alpha, image_format(path))
        assert Image.open(path).mode == mode
    with pytest.raises(UserError, match="unknown extension"):
        image_format(Path("out.xyz"))

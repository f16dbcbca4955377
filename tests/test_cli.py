"""The command line as a user meets it: images and videos in, one-line errors, nothing left behind."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from _media import interruptible, make_audio_only, make_empty_video, make_image, make_png_header, make_video, probe
from PIL import Image

from sanet_video import config
from sanet_video.api import stylize_image, stylize_video
from sanet_video.cli import main
from sanet_video.options import StylizeOptions

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """A folder with a clip and a style image, shared by the tests of this module."""
    folder = tmp_path_factory.mktemp("media")
    make_video(folder / "clip.mp4", frames=4, audio=("aac",))
    make_image(folder / "style.png", size=(48, 40))
    return folder


def run_cli(capsys, *args: str | Path, style_size: int = 64) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command line (small styles by default, for speed)."""
    code = main([str(a) for a in args] + ["--style-size", str(style_size)])
    out, err = capsys.readouterr()
    return code, out, err


def test_video_round_trip_prints_a_summary(media, tmp_path, capsys):
    code, out, err = run_cli(capsys, media / "clip.mp4", media / "style.png", tmp_path / "out.mp4", style_size=512)
    assert code == 0, err
    assert out.strip() == f"{tmp_path / 'out.mp4'}: " + out.split(": ", 1)[1].strip()
    assert " 4 frames of 64x48 in " in out and " fps)" in out
    assert "frame/s" in err  # the progress bar
    assert len(probe(tmp_path / "out.mp4").pts) == 4


def test_explicit_command_and_mixed_styles(media, tmp_path, capsys):
    code, out, err = run_cli(capsys, "stylize", media / "clip.mp4", tmp_path / "out.mkv",
                             "--style", f"{media / 'style.png'}:0.7", "--style", f"{media / 'style.png'}:0.3",
                             "--alpha", "0.6", "--preserve-color", "--quiet", "--batch-size", "3")
    assert (code, out) == (0, ""), err
    assert len(probe(tmp_path / "out.mkv").pts) == 4


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg", "photo.webp"])
def test_image_in_image_out(media, tmp_path, capsys, name):
    source = make_image(tmp_path / name, size=(50, 30))
    output = tmp_path / f"out{Path(name).suffix}"
    code, out, err = run_cli(capsys, source, media / "style.png", output)
    assert code == 0, err
    with Image.open(output) as image:
        assert image.size == (50, 30) and image.format == Image.open(source).format
    assert out.strip().endswith("50x30 in " + out.split(" in ")[1].strip())


def test_image_keeps_transparency_where_the_format_has_it(media, tmp_path, capsys):
    source = make_image(tmp_path / "rgba.png", mode="RGBA")
    assert run_cli(capsys, source, media / "style.png", tmp_path / "out.png")[0] == 0
    with Image.open(tmp_path / "out.png") as image:
        assert image.mode == "RGBA"


def test_content_is_told_by_content_not_by_name(media, tmp_path, capsys):
    image = make_image(tmp_path / "picture.png").rename(tmp_path / "picture.mp4")  # a PNG named .mp4
    video = tmp_path / "movie.png"
    video.write_bytes((media / "clip.mp4").read_bytes())
    assert run_cli(capsys, image, media / "style.png", tmp_path / "a.png")[0] == 0
    code, _, err = run_cli(capsys, video, media / "style.png", tmp_path / "b.mp4")
    assert code == 0, err


@pytest.mark.parametrize("mode, name", [("L", "gray.png"), ("RGBA", "rgba.png"), ("LA", "la.png"),
                                         ("P", "palette.png"), ("1", "bilevel.png"), ("CMYK", "cmyk.jpg"),
                                         ("I;16", "sixteen.png"), ("RGB", "plain.webp")])
def test_style_image_modes(media, tmp_path, capsys, mode, name):
    style = make_image(tmp_path / name, mode=mode)
    code, _, err = run_cli(capsys, media / "style.png", style, tmp_path / "out.png")
    assert code == 0, err


def test_config_file_and_command_line_precedence(media, tmp_path, capsys):
    config = tmp_path / "options.yaml"
    config.write_text(f"styles: [{media / 'style.png'}]\nmax_side: 32\nquiet: true\nalpha: 0.5\n")
    assert run_cli(capsys, media / "clip.mp4", tmp_path / "a.mp4", "--config", config)[0] == 0
    assert probe(tmp_path / "a.mp4").width == 32
    assert run_cli(capsys, media / "clip.mp4", tmp_path / "b.mp4", "--config", config, "--max-side", "48")[0] == 0
    assert probe(tmp_path / "b.mp4").width == 48


def test_the_shipped_config_lists_every_option_with_its_default():
    values = config.load_yaml(REPO / "configs" / "stylize.yaml")
    assert set(values) == {f.name for f in dataclasses.fields(StylizeOptions)}
    assert config.from_dict(StylizeOptions, {**values, "styles": ["s.jpg"]}, "yaml") == StylizeOptions(styles=["s.jpg"])


def test_overwrite(media, tmp_path, capsys):
    output = tmp_path / "out.mp4"
    output.write_bytes(b"old")
    code, _, err = run_cli(capsys, media / "clip.mp4", media / "style.png", output)
    assert code == 1 and "already exists; pass --overwrite" in err
    assert output.read_bytes() == b"old"
    assert run_cli(capsys, media / "clip.mp4", media / "style.png", output, "--overwrite")[0] == 0
    assert len(probe(output).pts) == 4


def test_python_api(media, tmp_path, model):
    summary = stylize_video(media / "clip.mp4", [(media / "style.png", 2.0), media / "style.png"],
                            tmp_path / "out.mp4", model=model, alpha=0.9, quiet=True, style_size=64)
    assert (summary.frames, summary.width, summary.height) == (4, 64, 48) and summary.fps > 0
    summary = stylize_image(media / "style.png", media / "style.png", tmp_path / "out.png", model=model,
                            style_size=64)
    assert (summary.frames, summary.width, summary.height) == (1, 48, 40)


def _bad_inputs(folder: Path) -> dict[str, tuple[list, str]]:
    """name: (arguments, expected part of the message), made in ``folder``."""
    clip, style = folder / "clip.mp4", folder / "style.png"
    (folder / "notes.mp4").write_text("not a video\n")
    data = clip.read_bytes()
    (folder / "cut.mp4").write_bytes(data[:len(data) // 2])  # moov atom at the end: lost
    faststart = make_video(folder / "faststart.mov", frames=4, audio=("aac",))
    with av.open(str(faststart)) as c, av.open(str(folder / "fs.mp4"), "w",
                                                container_options={"movflags": "+faststart"}) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in c.streams}
        for packet in c.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    data = (folder / "fs.mp4").read_bytes()
    (folder / "cut_faststart.mp4").write_bytes(data[:len(data) * 2 // 3])  # samples missing at the end
    avi = make_video(folder / "mpeg4.avi", frames=2, codec="mpeg4").read_bytes()
    (folder / "unknown.avi").write_bytes(avi.replace(b"FMP4", b"QQQQ"))  # a FourCC FFmpeg does not know
    make_audio_only(folder / "sound.m4a")
    make_empty_video(folder / "empty.mkv")
    make_png_header(folder / "huge.png", 10_000, 8_000)
    (folder / "a_file").write_text("")
    return {
        "missing input": ([folder / "nope.mp4", style, "out.mp4"], "nope.mp4 not found; check the path"),
        "not a video": ([folder / "notes.mp4", style, "out.mp4"], "cannot be read as a video or an image"),
        "truncated": ([folder / "cut.mp4", style, "out.mp4"], "truncated"),
        "truncated faststart": ([folder / "cut_faststart.mp4", style, "out.mp4"], "is truncated or corrupt"),
        "unsupported codec": ([folder / "unknown.avi", style, "out.mp4"], "codec of"),
        "no video stream": ([folder / "sound.m4a", style, "out.mp4"], "has no video stream"),
        "zero frames": ([folder / "empty.mkv", style, "out.mp4"], "has zero video frames"),
        "nothing in range": ([clip, style, "out.mp4", "--start", "9"], "no video frame in the requested range"),
        "missing style": ([clip, folder / "nope.jpg", "out.mp4"], "style image"),
        "unreadable style": ([clip, folder / "notes.mp4", "out.mp4"], "cannot be read as an image"),
        "huge style": ([clip, folder / "huge.png", "out.mp4"], "above the limit of 50 megapixels"),
        "huge content image": ([folder / "huge.png", style, "out.png"], "10000x8000 pixels, above the limit"),
        "no output directory": ([clip, style, folder / "nodir" / "out.mp4"], "does not exist; create it"),
        "output under a file": ([clip, style, folder / "a_file" / "out.mp4"], "is not a directory"),
        "unknown extension": ([clip, style, "out.xyz"], "cannot tell the video format from the extension .xyz"),
        "video to image": ([clip, style, "out.png"], "the output must be a video file"),
        "image to video": ([style, style, "out.mp4"], "the output must be an image file"),
        "codec and container": ([clip, style, "out.webm", "--codec", "h264"], "cannot hold h264"),
        "bad option value": ([clip, style, "out.mp4", "--alpha", "1.5"], "alpha must be between 0 and 1"),
        "wrong type": ([clip, style, "out.mp4", "--batch-size", "two"], "'batch_size' should be int"),
        "unknown option": ([clip, style, "out.mp4", "--colour", "1"], "unrecognized arguments"),
        "no style": ([clip, "out.mp4"], "no style image given"),
        "fp16 on cpu": ([clip, style, "out.mp4", "--device", "cpu", "--precision", "fp16"], "fp16 needs a CUDA"),
    }


BAD_INPUTS = ("missing input", "not a video", "truncated", "truncated faststart", "unsupported codec",
              "no video stream", "zero frames", "nothing in range", "missing style", "unreadable style",
              "huge style", "huge content image", "no output directory", "output under a file",
              "unknown extension", "video to image", "image to video", "codec and container", "bad option value",
              "wrong type", "unknown option", "no style", "fp16 on cpu")


@pytest.fixture(scope="module")
def bad_inputs(media) -> dict[str, tuple[list, str]]:
    cases = _bad_inputs(media)
    assert set(cases) == set(BAD_INPUTS)
    return cases


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_gives_one_line_and_leaves_nothing(bad_inputs, media, tmp_path, capsys, monkeypatch, case):
    args, expected = bad_inputs[case]
    before = sorted(media.iterdir())
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *args)
    assert code == 1
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [] and sorted(media.iterdir()) == before


@pytest.fixture
def locked_dir(tmp_path) -> Path:
    """A directory this process cannot write to: read-only, or immutable where we are root."""
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:
        locked.chmod(0o555)
        yield locked
        locked.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", locked]).returncode != 0:
        pytest.skip("root writes anywhere, and chattr +i is not available here")
    yield locked
    subprocess.run(["chattr", "-i", locked], check=True)


def test_unwritable_output_directory(media, locked_dir, capsys):
    code, out, err = run_cli(capsys, media / "clip.mp4", media / "style.png", locked_dir / "out.mp4")
    assert code == 1
    assert err.startswith(f"error: cannot write to {locked_dir}") and err.count("\n") == 1
    assert list(locked_dir.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_no_file(media, tmp_path, sig):
    source = make_video(tmp_path / "long.mp4", size=(96, 64), frames=150)
    output = tmp_path / "out" / "stylized.mp4"
    output.parent.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "sanet_video", source, media / "style.png", output,
                                "--batch-size", "1"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=interruptible)
    deadline = time.monotonic() + 60
    while not list(output.parent.glob(".*.partial.mp4")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.strip().endswith("error: interrupted; no output was written")
    assert list(output.parent.iterdir()) == []


def test_module_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sanet_video", "--version"], capture_output=True, text=True,
                            cwd=REPO, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("sanet-video ")


def test_example_first_command_is_small():
    sizes = sum(p.stat().st_size for p in (REPO / "examples").iterdir())
    assert sizes < 2 * 1024 * 1024
    frames = probe(REPO / "examples" / "city.mp4")
    assert frames.audio and len(frames.pts) > 50


def test_style_weights_follow_the_last_colon(media, tmp_path, capsys):
    odd = tmp_path / "a:b.png"
    odd.write_bytes((media / "style.png").read_bytes())
    code, _, err = run_cli(capsys, media / "style.png", tmp_path / "out.png", "--style", odd, "--style",
                           f"{odd}:0.5")
    assert code == 0, err
    assert np.asarray(Image.open(tmp_path / "out.png")).shape == (40, 48, 3)


def test_a_given_model_is_used_on_its_own_device_under_auto(media, tmp_path, model, monkeypatch):
    """On a CUDA machine "auto" means CUDA, but a model handed in on the CPU stays there (no device mix-up)."""
    import sanet_video.stylist as stylist_module

    def no_auto(name):
        assert name != "auto", "a given model's device stands for auto"
        return torch.device(name)

    monkeypatch.setattr(stylist_module, "resolve_device", no_auto)
    summary = stylize_image(media / "style.png", media / "style.png", tmp_path / "out.png", model=model,
                            style_size=64)
    assert summary.frames == 1 and next(model.parameters()).device.type == "cpu"

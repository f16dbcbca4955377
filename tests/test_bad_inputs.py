"""The bad-input matrix: odd and broken videos, style images and configs through the real command line.

Each case makes its inputs in a folder of its own and runs ``python -m sanet_video`` in a
subprocess on the CPU, with its own empty TMPDIR. It must either work, with the output's
frames, size and duration checked, or print exactly one line, ``error: ...``, on stderr and
exit with 1; either way within :data:`TIME_LIMIT_S` and :data:`MEMORY_LIMIT_MB`, leaving no
file in the output folder but the output, nothing in TMPDIR, and the inputs as they were.
The cases run two at a time (the subprocesses are started ahead, in the order pytest runs them;
under pytest-xdist, each worker starts its own cases when they come).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from _media import (damage_chunk_offsets, first_packet_offset, make_animated_gif, make_audio_only,
                    make_audio_with_cover, make_huge_video, make_image, make_interlaced_video, make_png16,
                    make_png_header, make_retimed_video, make_still_video, make_transparent_palette_png, make_video,
                    moving_frame, packet_spans, probe, zero_video_packet)
from PIL import Image

from sanet_video.cli import main

TIME_LIMIT_S = 120.0
"""Longest a case may take, start-up included (two run at once on a shared CPU)."""
MEMORY_LIMIT_MB = 1500
"""Largest resident memory a case may reach: a run on tiny frames needs well under half of it."""
COMMON = ("--device", "cpu", "--quiet", "--style-size", "32")


@dataclass(frozen=True)
class Video:
    """What a working video case must write: frame count, size, duration; timestamps and rotation if given;
    and the one ``warning: ...`` line it must print on stderr, if any (a part of it)."""

    frames: int
    size: tuple[int, int]
    seconds: float
    pts: tuple[int, ...] | None = None
    rotation: int = 0
    warning: str | None = None


@dataclass(frozen=True)
class Picture:
    """What a working image case must write: an image of this size (and mode)."""

    size: tuple[int, int]
    mode: str = "RGB"


Expected = Video | Picture | str
"""The output of a working case, or a part of the one error line of a refused one."""
Maker = Callable[[Path], list[str | Path]]
"""Makes a case's inputs in a folder and returns the command line's arguments (OUTPUT under ``out/``)."""


def _clip(folder: Path, **kwargs) -> Path:
    return make_video(folder / "clip.mp4", **kwargs)


def _style(folder: Path) -> Path:
    return make_image(folder / "style.png", size=(48, 40))


def video(make_input: Callable[[Path], Path], output: str = "out.mp4", *extra: str) -> Maker:
    """A case stylizing the input ``make_input`` makes with a good style."""
    return lambda folder: [make_input(folder), _style(folder), folder / "out" / output, *extra]


def style(make_style: Callable[[Path], Path], *extra: str) -> Maker:
    """A case stylizing a good 4-frame clip with the style ``make_style`` makes."""
    return lambda folder: [_clip(folder, frames=4), make_style(folder), folder / "out" / "out.mp4", *extra]


def config(text: str, *extra: str) -> Maker:
    """A case stylizing a good 4-frame clip with ``--config`` holding ``text``."""
    def make(folder: Path) -> list[str | Path]:
        (folder / "options.yaml").write_text(text)
        return [_clip(folder, frames=4), _style(folder), folder / "out" / "out.mp4",
                "--config", folder / "options.yaml", *extra]
    return make


def _write(name: str, data: bytes | Callable[[Path], bytes]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data(folder) if callable(data) else data)
        return folder / name
    return make


def _renamed(make_input: Callable[[Path], Path], name: str) -> Callable[[Path], Path]:
    return lambda folder: make_input(folder).rename(folder / name)


def _cut_mid_frame(name: str, packet: int = 2) -> Callable[[Path], bytes]:
    """A 6-frame clip cut in the middle of its video packet number ``packet``."""
    def data(folder: Path) -> bytes:
        source = make_video(folder / f"whole{Path(name).suffix}", frames=6)
        offset, size = packet_spans(source)[packet]
        whole = source.read_bytes()
        source.unlink()
        return whole[:offset + size // 2]
    return data


def _header_only(name: str) -> Callable[[Path], bytes]:
    """A clip's bytes up to its first video packet: the container's header and nothing else."""
    def data(folder: Path) -> bytes:
        source = make_video(folder / f"whole{Path(name).suffix}", frames=6)
        header = source.read_bytes()[:first_packet_offset(source)]
        source.unlink()
        return header
    return data


def _holed(folder: Path, name: str) -> bytes:
    """A 10-frame clip whose video packets 3 to 8 are cut out (a damaged cluster: the demuxer also loses the
    frame before the hole as it resyncs), its header intact."""
    source = make_video(folder / f"whole{Path(name).suffix}", frames=10)
    spans = packet_spans(source)
    whole = source.read_bytes()
    source.unlink()
    return whole[:spans[3][0] - 8] + whole[spans[9][0] - 8:]


def _damaged_audio(folder: Path) -> Path:
    """A clip whose AAC packets 1 to 3 hold noise (its video is intact)."""
    source = _clip(folder, frames=6, audio=("aac",))
    with av.open(str(source)) as container:
        spans = [(p.pos, p.size) for p in container.demux(container.streams.audio[0]) if p.size]
    data = bytearray(source.read_bytes())
    noise = np.random.default_rng(1)
    for offset, size in spans[1:4]:
        data[offset:offset + size] = noise.bytes(size)
    source.write_bytes(bytes(data))
    return source


def _in_folder(folder: Path) -> Path:
    (folder / "a folder").mkdir()
    return folder / "a folder"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe")
    return folder / "pipe"


def _animation(name: str, frames: int = 4) -> Callable[[Path], Path]:
    """An animated WebP or a multi-page TIFF of ``frames`` 40x32 frames, 100 ms each."""
    def make(folder: Path) -> Path:
        images = [Image.fromarray(moving_frame(i * 4, 40, 32)) for i in range(frames)]
        images[0].save(folder / name, save_all=True, append_images=images[1:], duration=100, loop=0)
        return folder / name
    return make


def _styled(first: str, *more: str) -> Maker:
    """A case stylizing a good 4-frame clip with the style specs ``first`` (as STYLE) and ``more`` (as
    ``--style``), where ``{style}`` stands for a good style image."""
    def make(folder: Path) -> list[str | Path]:
        style = _style(folder)
        flags = [item for spec in more for item in ("--style", spec.format(style=style))]
        return [_clip(folder, frames=4), first.format(style=style), folder / "out" / "out.mp4", *flags]
    return make


def _yaml_styles(text: str) -> Maker:
    """A case stylizing a good 4-frame clip with the styles given only by ``--config`` holding ``text``."""
    def make(folder: Path) -> list[str | Path]:
        _style(folder)
        (folder / "options.yaml").write_text(text)
        # "--quiet" (given anyway) keeps OUTPUT third, where the checks look for it
        return [_clip(folder, frames=4), "--quiet", folder / "out" / "out.mp4", "--config", folder / "options.yaml"]
    return make


BOMB = "".join(f"{name}: &{name} [{', '.join([f'*{below}' if below else '1'] * 9)}]\n"
               for name, below in zip("abcdef", ["", *"abcde"])) + "styles: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
"""A YAML alias bomb: 9 ** 7 values once expanded, a few hundred bytes written."""


CASES: dict[str, tuple[Maker, Expected]] = {
    # Videos: broken containers.
    "video truncated mid-frame (mkv)": (  # the two whole frames before the cut
        video(_write("cut.mkv", _cut_mid_frame("cut.mkv"))),
        Video(2, (64, 48), 0.08, warning="declares about 6 video frames but only 2 could be decoded")),
    "video truncated mid-frame (mp4, index at the end)": (
        video(_write("cut.mp4", _cut_mid_frame("cut.mp4"))), "cannot be read as a video or an image"),
    "video zero-length": (video(_write("empty.mp4", b"")), "cannot be read as a video or an image"),
    "video header only (mkv)": (video(_write("header.mkv", _header_only("header.mkv"))), "has zero video frames"),
    "video audio only": (video(lambda f: make_audio_only(f / "sound.m4a")), "has no video stream"),
    "video huge declared size": (video(lambda f: make_huge_video(f / "huge.mov", 16_000, 16_000)),
                                 "larger than 50 megapixels"),
    "video with damaged audio, transcoded": (video(_damaged_audio, "out.webm"), "an audio stream of"),
    "video nothing in range": (video(lambda f: _clip(f, frames=4), "out.mp4", "--start", "1e300"),
                               "no video frame in the requested range"),
    # Videos: unusual but valid.
    "video wrong extension (.txt)": (video(_renamed(lambda f: _clip(f, frames=6), "clip.txt")),
                                     Video(6, (64, 48), 0.24)),
    "image named as a video": (video(_renamed(lambda f: make_image(f / "p.png", size=(40, 30)), "p.mp4"), "out.png"),
                               Picture((40, 30))),
    "video 1x1": (video(lambda f: _clip(f, size=(1, 1), pix_fmt="yuv444p")), Video(6, (1, 1), 0.24)),
    "video odd size": (video(lambda f: _clip(f, size=(63, 47), pix_fmt="yuv444p"), "out.mkv"),
                       Video(6, (63, 47), 0.24)),
    "video 10-bit": (video(lambda f: _clip(f, pix_fmt="yuv420p10le")), Video(6, (64, 48), 0.24)),
    "video 4:4:4": (video(lambda f: _clip(f, pix_fmt="yuv444p")), Video(6, (64, 48), 0.24)),
    "video variable frame rate": (
        video(lambda f: _clip(f, pts=[0, 1, 3, 7, 8], time_base=Fraction(1, 30), rate=30)),
        Video(5, (64, 48), 0.3, pts=(0, 512, 1536, 3584, 4096))),
    "video rotated": (video(lambda f: _clip(f, rotation=90)), Video(6, (64, 48), 0.24, rotation=90)),
    "video interlaced": (video(lambda f: make_interlaced_video(f / "tff.mkv")), Video(4, (64, 48), 0.16)),
    "video still PNG in .mov": (video(lambda f: make_still_video(f / "still.mov", "png")), Video(1, (64, 48), 1.0)),
    "video animated GIF": (video(lambda f: make_animated_gif(f / "anim.gif", frames=3)), Video(3, (40, 32), 0.3)),
    # Style images.
    "style truncated": (style(_write("cut.png", lambda f: make_image(f / "whole.png").read_bytes()[:70])),
                        "is truncated or corrupt"),
    "style zero-byte": (style(_write("empty.png", b"")), "cannot be read as an image"),
    "style animated GIF": (style(lambda f: make_animated_gif(f / "anim.gif")), Video(4, (64, 48), 0.16)),
    "style 16-bit RGB PNG": (style(lambda f: make_png16(f / "deep.png")), Video(4, (64, 48), 0.16)),
    "style CMYK JPEG": (style(lambda f: make_image(f / "cmyk.jpg", mode="CMYK")), Video(4, (64, 48), 0.16)),
    "style palette PNG with transparency": (style(lambda f: make_transparent_palette_png(f / "pal.png")),
                                            Video(4, (64, 48), 0.16)),
    "style 20000x20000 declared": (style(lambda f: make_png_header(f / "huge.png", 20_000, 20_000)),
                                   "above the limit of 50 megapixels"),
    "style is a folder": (style(_in_folder), "is a folder"),
    "style too large once resized": (style(_style, "--style-size", "100000"), "use a smaller --style-size"),
    "output would replace the style": (lambda f: [_clip(f, frames=4), _style(f), f / "style.png", "--overwrite"],
                                       "is also an input"),
    # Configs.
    "config unknown key": (config("alpha: 0.5\ncolour: red\n"), "unknown option(s) colour"),
    "config non-text keys": (config("1: a\nfoo: b\n"), "unknown option(s) 1, foo"),
    "config wrong type": (config("alpha: strong\n"), "'alpha' should be float, got 'strong'"),
    "config out of range": (config("alpha: 1.5\n"), "alpha must be between 0 and 1"),
    "config not a number": (config("start: .nan\n"), "'start' should be a finite number"),
    "config is a folder": (lambda f: [_clip(f, frames=4), _style(f), f / "out" / "out.mp4",
                                      "--config", _in_folder(f)], "is a folder; give a YAML file"),
    "config huge batch": (config("batch_size: 1000000000\n"), Video(4, (64, 48), 0.16)),
    # Issue 21: round two.
    "style weight nan": (_styled("{style}:nan"), "style weight must be a finite number"),
    "style weight inf": (_styled("{style}:inf", "{style}:1"), "style weight must be a finite number"),
    "style weights overflow their sum": (_styled("{style}:1e308", "{style}:1e308"), "their sum overflows"),
    "config style weight nan": (_yaml_styles("styles: ['style.png:nan']\n"), "style weight must be a finite number"),
    "video decode error with one-frame batches": (
        video(lambda f: zero_video_packet(_clip(f, size=(160, 120), frames=75, audio=("aac",)), 60), "out.mp4",
              "--batch-size", "1"), "is truncated or corrupt"),
    "video is a named pipe": (video(_fifo), "is a named pipe (FIFO), not a regular file"),
    "style is a named pipe": (style(_fifo), "is a named pipe (FIFO), not a regular file"),
    "config is a named pipe": (lambda f: [_clip(f, frames=4), _style(f), f / "out" / "out.mp4", "--config", _fifo(f)],
                               "is a named pipe (FIFO), not a regular file"),
    "video is text (.txt)": (video(_write("notes.txt", b"Release notes, version 2.\n" * 540)),
                             "cannot be read as a video or an image (FFmpeg takes it for Tele-typewriter)"),
    "video is text (.ans)": (video(_write("art.ans", b"\x1b[31mred\x1b[0m text\n" * 400)),
                             "cannot be read as a video or an image"),
    "video with damaged chunk offsets (mp4)": (
        video(lambda f: damage_chunk_offsets(_clip(f, frames=10, audio=("aac",)), 5)),
        Video(5, (64, 48), 0.2, warning="declares 10 video frames but only 5 could be decoded")),
    "video with a damaged cluster (mkv)": (
        video(_write("hole.mkv", lambda f: _holed(f, "hole.mkv"))),
        Video(3, (64, 48), 0.12, warning="declares about 10 video frames but only 3 could be decoded")),
    "video timestamps out of order": (  # timestamps in ms: the frame at 40 follows the one at 80
        video(lambda f: make_retimed_video(f / "ooo.mkv", [0, 2, 1, 3, 4, 5]), "out.mkv"),
        Video(6, (64, 48), 0.24, pts=(0, 80, 81, 120, 160, 200), warning="the timestamps of 1 video frame go back")),
    "video timestamps repeated": (
        video(lambda f: make_retimed_video(f / "dup.mkv", [0, 1, 1, 2, 3]), "out.mkv"),
        Video(5, (64, 48), 0.16, pts=(0, 40, 41, 80, 120), warning="the timestamps of 1 video frame go back")),
    "video animated WebP": (video(_animation("anim.webp")), Video(4, (40, 32), 0.4)),
    "image multi-page TIFF": (video(_animation("pages.tif"), "out.png"), Picture((40, 32))),
    "output name of 244 bytes": (video(lambda f: _clip(f, frames=4), "é" * 120 + ".mp4"), Video(4, (64, 48), 0.16)),
    "output without extension": (video(lambda f: _clip(f, frames=4), "out"), "the name has no extension"),
    "output named .mp4 only": (video(lambda f: _clip(f, frames=4), ".mp4"), "the name has no extension"),
    "config alias bomb": (config(BOMB), "holds more than 10000 values"),
    "max-side 1": (video(lambda f: _clip(f, frames=4), "out.mp4", "--max-side", "1"), "at least 16, got 1"),
    "max-side 3": (video(lambda f: _clip(f, frames=4), "out.mp4", "--max-side", "3"), "at least 16, got 3"),
    "max-side 16": (video(lambda f: _clip(f, frames=4), "out.mp4", "--max-side", "16"), Video(4, (16, 12), 0.16)),
    "video with transparency": (video(lambda f: make_still_video(f / "alpha.mov", "png", alpha=True)),
                                Video(1, (64, 48), 1.0, warning="the transparency is dropped")),
    "audio file with cover art": (video(lambda f: make_audio_with_cover(f / "song.mp3")),
                                  "is an audio file, no video (its only picture is cover art)"),
}


@dataclass
class Outcome:
    """How one case's subprocess ended."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float


def _run(args: list[str | Path], folder: Path) -> Outcome:
    """Run the command line in ``folder``; killed at TIME_LIMIT_S. Reaped here to read its own peak memory."""
    env = {**os.environ, "TMPDIR": str(folder / "tmp")}
    began = time.monotonic()
    with (folder / "stdout.txt").open("w+") as out, (folder / "stderr.txt").open("w+") as err:
        process = subprocess.Popen([sys.executable, "-m", "sanet_video", *COMMON, *map(str, args)], cwd=folder,
                                   env=env, stdout=out, stderr=err)
        timer = threading.Timer(TIME_LIMIT_S, process.kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Outcome(process.returncode, out.read(), err.read(), time.monotonic() - began, usage.ru_maxrss / 1024)


@dataclass
class Prepared:
    """A case's inputs as they were before the run, and how the run ended."""

    args: list[str | Path]
    inputs: dict[str, bytes]
    outcome: Outcome


def _prepare_and_run(name: str, folder: Path) -> Prepared:
    for sub in (folder / "case", folder / "case" / "out", folder / "tmp"):
        sub.mkdir(parents=True)
    args = CASES[name][0](folder / "case")
    inputs = _snapshot(folder / "case")
    return Prepared(args, inputs, _run(args, folder))


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content (a folder as empty content)."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else b"")
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> Iterator[Callable[[str], tuple[Path, Prepared]]]:
    """Runs the selected cases two at a time, started in the order pytest will ask for them."""
    names = [item.callspec.params["case"] for item in request.session.items
             if item.module is request.module and "case" in getattr(getattr(item, "callspec", None), "params", {})]
    root = tmp_path_factory.mktemp("bad_inputs")
    pool = ThreadPoolExecutor(max_workers=2)
    # Under pytest-xdist each worker runs only some of the cases it collected: start each on demand there.
    ahead = [] if "PYTEST_XDIST_WORKER" in os.environ else names
    futures: dict[str, Future] = {name: pool.submit(_prepare_and_run, name, root / f"case{names.index(name):02d}")
                                  for name in ahead}

    def outcome(name: str) -> tuple[Path, Prepared]:
        folder = root / f"case{names.index(name):02d}"
        if name not in futures:
            futures[name] = pool.submit(_prepare_and_run, name, folder)
        return folder, futures[name].result()

    yield outcome
    pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(runs, case):
    root, prepared = runs(case)
    folder, outcome = root / "case", prepared.outcome
    expected = CASES[case][1]
    assert outcome.seconds < TIME_LIMIT_S, f"took {outcome.seconds:.0f} s"
    assert outcome.max_rss_mb < MEMORY_LIMIT_MB, f"used {outcome.max_rss_mb:.0f} MB"
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.stdout == ""
    assert list((root / "tmp").iterdir()) == [], "temporary files left behind"
    output = Path(prepared.args[2])
    if isinstance(expected, str):
        assert outcome.code == 1, outcome.stderr
        assert outcome.stderr.startswith("error: ") and outcome.stderr.count("\n") == 1, outcome.stderr
        assert expected in outcome.stderr
        assert _snapshot(folder) == prepared.inputs, "the inputs changed or a file was left behind"
        return
    warning = "" if isinstance(expected, Picture) or expected.warning is None else "warning: "
    assert outcome.code == 0, outcome.stderr
    assert outcome.stderr.startswith(warning) and outcome.stderr.count("\n") == bool(warning), outcome.stderr
    assert warning == "" or expected.warning in outcome.stderr, outcome.stderr
    after = _snapshot(folder)
    assert {k: v for k, v in after.items() if k != output.relative_to(folder).as_posix()} == prepared.inputs
    if isinstance(expected, Picture):
        with Image.open(output) as image:
            assert (image.size, image.mode) == (expected.size, expected.mode)
        return
    info = probe(output)
    assert len(info.pts) == expected.frames
    assert (info.width, info.height) == expected.size
    assert info.video_end == pytest.approx(expected.seconds, abs=1e-3)
    assert info.rotation == expected.rotation
    if expected.pts is not None:
        assert tuple(info.pts) == expected.pts


def test_the_matrix_covers_the_issue():
    """At least 25 cases, spread over videos, style images and configs."""
    kinds = [name.split()[0] for name in CASES]
    assert len(CASES) >= 25
    assert kinds.count("video") >= 14 and kinds.count("style") >= 7 and kinds.count("config") >= 3


# Issue 21: the command line itself (in this process).

def test_a_lone_double_dash_ends_the_options(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _clip(tmp_path, frames=2).rename(tmp_path / "-clip.mp4")
    _style(tmp_path)
    assert main([*COMMON, "--", "-clip.mp4", "style.png", "-out.mp4"]) == 0
    assert capsys.readouterr() == ("", "")
    assert len(probe(tmp_path / "-out.mp4").pts) == 2


def _model_must_not_load(*args, **kwargs):
    raise AssertionError("the model was loaded before a cheap check refused the run")


@pytest.mark.parametrize(("source", "output", "extra", "message"), [
    ("clip.mp4", "out.xyz", (), "cannot tell the video format from the extension .xyz"),
    ("clip.mp4", "out", (), "the name has no extension"),
    ("clip.mp4", "out.mp4", ("--crf", "60"), "crf for h264 must be between 0 and 51, got 60"),
    ("clip.mp4", "out.webm", ("--codec", "h264"), "cannot hold h264"),
    ("clip.mp4", "out.png", (), "the output must be a video file"),
    ("photo.png", "out.xyz", (), "the output must be an image file"),
    ("photo.png", "out.psd", (), "unknown extension .psd"),  # Pillow reads PSD, but does not write it
])
def test_cheap_checks_come_before_the_model_loads(tmp_path, capsys, monkeypatch, source, output, extra, message):
    monkeypatch.setattr("sanet_video.stylist.load_sanet", _model_must_not_load)
    monkeypatch.chdir(tmp_path)
    _clip(tmp_path, frames=2)
    make_image(tmp_path / "photo.png")
    assert main([source, str(_style(tmp_path)), output, *COMMON, *extra]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "photo.png", "style.png"]

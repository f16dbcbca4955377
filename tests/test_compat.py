"""Supported releases: the start-up check of Python and PyAV, the console scripts, and what differs
between PyAV releases (each behaviour asserted on whichever PyAV runs the tests)."""

from __future__ import annotations

import configparser
import importlib
from pathlib import Path

import av
import pytest
from _media import make_image, moving_frame

from sanet_video import console, environment
from sanet_video.api import stylize_video
from sanet_video.video.source import open_input

REPO = Path(__file__).resolve().parents[1]


def setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg")
    return parser


def test_setup_cfg_declares_the_checked_bounds():
    options = setup_cfg()["options"]
    assert options["python_requires"] == ">=" + ".".join(map(str, environment.MIN_PYTHON))
    requires = options["install_requires"].split()
    assert "av>=" + ".".join(map(str, environment.MIN_AV)) in requires


@pytest.mark.parametrize("python, pyav", [((3, 10, 0), "17.1.0"), ((3, 12, 3), "19.0.2"), ((3, 13, 0), "20.0.0rc1")])
def test_supported_python_and_pyav_pass(python, pyav):
    assert environment.problem(python, pyav) is None


@pytest.mark.parametrize("python, pyav, said", [
    ((3, 9, 18), "19.0.2", "needs Python 3.10 or newer, this is Python 3.9.18"),
    ((3, 11, 7), "17.0.0", 'PyAV 17.0.0 is installed; run: pip install --upgrade "av>=17.1"'),
    ((3, 11, 7), "12.3.0", "needs PyAV 17.1 or newer, PyAV 12.3.0 is installed"),
    ((3, 11, 7), None, "needs PyAV 17.1 or newer, which is not installed"),
])
def test_unsupported_python_or_pyav_is_named_with_the_fix(python, pyav, said):
    assert said in environment.problem(python, pyav)


def test_the_installed_python_and_pyav_are_supported():
    environment.require_supported()


def test_console_script_stops_on_an_old_pyav_with_one_line(monkeypatch, capsys):
    monkeypatch.setattr(av, "__version__", "16.1.0")
    assert console.main(["--help"]) == 1
    assert console.experiments(["--help"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines == [lines[0]] * 2 and lines[0].startswith("error: sanet-video needs PyAV 17.1 or newer, PyAV 16.1.0")


@pytest.mark.parametrize("name", ["sanet-video", "sanet-video-experiments"])
def test_console_scripts_are_declared_and_show_their_help(name, capsys):
    scripts = dict(line.split(" = ") for line in setup_cfg()["options.entry_points"]["console_scripts"].split("\n")
                   if line)
    module, function = scripts[name].split(":")
    with pytest.raises(SystemExit) as exit_:
        getattr(importlib.import_module(module), function)(["--help"])
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.fixture
def tag_not_utf8(tmp_path) -> Path:
    """A two-frame MP4 whose title tag holds bytes that are not UTF-8."""
    path = tmp_path / "tagged.mp4"
    with av.open(str(path), "w") as out:
        out.metadata["title"] = "QQQQQQQQ"
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        for index in range(2):
            frame = av.VideoFrame.from_ndarray(moving_frame(index, 32, 32), format="rgb24")
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    data = path.read_bytes()
    assert data.count(b"QQQQQQQQ") == 1
    path.write_bytes(data.replace(b"QQQQQQQQ", b"\xff\xfeQQQQQQ"))
    return path


def test_a_tag_that_is_not_utf8_opens_and_its_text_is_carried_over(model, tag_not_utf8, tmp_path):
    with open_input(tag_not_utf8) as container:
        assert "QQQQQQ" in container.metadata["title"]
    output = tmp_path / "out.mp4"
    stylize_video(tag_not_utf8, make_image(tmp_path / "style.png", size=(32, 32)), output, model=model,
                  quiet=True, style_size=32)
    with open_input(output) as container:
        assert container.streams.video[0].frames == 2
        assert "QQQQQQ" in container.metadata["title"]

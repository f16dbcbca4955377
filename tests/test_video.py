"""Video in, video out: the output plays like the input (frames, timing, size, rotation, sound)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from _media import make_image, make_video, probe

from sanet_video.api import stylize_video
from sanet_video.image_io import read_image, resize_short_side
from sanet_video.temporal import TemporalConfig, TemporalStylizer
from sanet_video.video import FrameStylizer, StylizerOptions


@pytest.fixture(scope="module")
def style(tmp_path_factory) -> Path:
    return make_image(tmp_path_factory.mktemp("style") / "style.png", size=(48, 40))


def stylize(model, source: Path, style: Path, output: Path, **options) -> None:
    stylize_video(source, style, output, model=model, quiet=True, style_size=64, **options)


def assert_same_timing(source: Path, output: Path, constant_rate: bool = True) -> None:
    before, after = probe(source), probe(output)
    assert (after.width, after.height) == (before.width, before.height)
    assert after.pts == before.pts
    assert after.time_base == before.time_base
    assert after.video_end == pytest.approx(before.video_end, abs=1e-3)
    assert after.duration == pytest.approx(before.duration, abs=0.03)
    if constant_rate:  # for variable rates FFmpeg derives it from decode-order durations
        assert after.average_rate == before.average_rate


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
def test_constant_rate_keeps_frames_timing_size_and_audio(model, style, tmp_path, suffix):
    source = make_video(tmp_path / f"in{suffix}", frames=8, audio=("aac",))
    output = tmp_path / f"out{suffix}"
    stylize(model, source, style, output)
    assert_same_timing(source, output)
    before, after = probe(source).audio, probe(output).audio
    assert len(after) == 1 and after[0]["codec"] == "aac"
    assert after[0]["packets"] == before[0]["packets"]  # copied, not re-encoded
    assert after[0]["duration"] == pytest.approx(before[0]["duration"])


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_keeps_every_timestamp(model, style, tmp_path, suffix):
    time_base = Fraction(1, 90_000) if suffix == ".mp4" else Fraction(1, 1000)
    pts = [round(t / time_base) for t in (0, 0.011, 0.056, 0.067, 0.222, 0.233, 0.444)]
    source = make_video(tmp_path / f"vfr{suffix}", pts=pts, time_base=time_base, audio=("aac",))
    output = tmp_path / f"out{suffix}"
    stylize(model, source, style, output, batch_size=3)
    assert_same_timing(source, output, constant_rate=False)


def test_every_audio_stream_is_kept(model, style, tmp_path):
    source = make_video(tmp_path / "two.mkv", frames=4, audio=("aac", "mp3"))
    output = tmp_path / "out.mkv"
    stylize(model, source, style, output)
    before, after = probe(source).audio, probe(output).audio
    assert len(after) == 2
    assert [a["codec"] for a in after] == [a["codec"] for a in before]
    assert [a["packets"] for a in after] == [a["packets"] for a in before]


def test_audio_is_transcoded_where_the_container_needs_it(model, style, tmp_path):
    source = make_video(tmp_path / "in.mp4", frames=6, audio=("aac",))
    output = tmp_path / "out.webm"
    stylize(model, source, style, output)
    after = probe(output)
    assert after.codec == "vp9" and after.audio[0]["codec"] == "opus"
    assert after.audio[0]["duration"] == pytest.approx(probe(source).audio[0]["duration"], abs=0.03)
    assert len(after.pts) == 6


def test_odd_size_is_kept(model, style, tmp_path):
    source = make_video(tmp_path / "odd.mp4", size=(271, 481), frames=2, pix_fmt="yuv444p")
    output = tmp_path / "out.mp4"
    stylize(model, source, style, output)
    after = probe(output)
    assert (after.width, after.height) == (271, 481)
    assert after.pix_fmt == "yuv444p"
    assert_same_timing(source, output)


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_metadata_is_kept(model, style, tmp_path, rotation):
    source = make_video(tmp_path / "rot.mp4", frames=2, rotation=rotation)
    output = tmp_path / "out.mp4"
    stylize(model, source, style, output)
    assert probe(output).rotation == probe(source).rotation
    assert probe(output).rotation % 360 == rotation % 360


def test_start_and_duration_cut_video_and_audio(model, style, tmp_path):
    source = make_video(tmp_path / "in.mp4", frames=12, audio=("aac",))
    output = tmp_path / "out.mp4"
    stylize(model, source, style, output, start=0.16, duration=0.2)
    after = probe(output)
    assert after.pts == [0, 512, 1024, 1536, 2048]  # frames at 0.16 .. 0.32 s, from time 0
    assert after.audio[0]["duration"] == pytest.approx(0.2, abs=0.025)


def test_max_side_downscales_to_even_sides(model, style, tmp_path):
    source = make_video(tmp_path / "in.mp4", size=(64, 48), frames=3)
    output = tmp_path / "out.mp4"
    summary = stylize_video(source, style, output, model=model, quiet=True, max_side=33)
    after = probe(output)
    assert (after.width, after.height) == (summary.width, summary.height) == (32, 24)
    assert after.pts == probe(source).pts


@pytest.mark.parametrize("codec, name", [("h265", "hevc"), ("vp9", "vp9")])
def test_other_encoders(model, style, tmp_path, codec, name):
    source = make_video(tmp_path / "in.mp4", frames=3)
    output = tmp_path / "out.mkv"
    stylize(model, source, style, output, codec=codec, crf=30, preset="ultrafast")
    assert probe(output).codec == name
    assert len(probe(output).pts) == 3


@pytest.mark.parametrize("temporal", ["off", "full"])
def test_output_frames_are_the_stylized_frames(model, style, tmp_path, temporal):
    """The encoded frames match stylizing the decoded input frames directly (up to compression).

    With temporal smoothing, the pipeline's batches of 3 carry the state exactly as one
    TemporalStylizer call over all frames does.
    """
    source = make_video(tmp_path / "in.mp4", frames=5)
    output = tmp_path / "out.mp4"
    stylize(model, source, style, output, crf=0, batch_size=3, temporal=temporal)
    with av.open(str(source)) as c:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
    with av.open(str(output)) as c:
        written = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
    code = model.encode_style(resize_short_side(read_image(style)[0][None], 64))
    content = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    expected = TemporalStylizer(model, [code], TemporalConfig(temporal=temporal))(frames, content)
    expected = (expected * 255).round().permute(0, 2, 3, 1).numpy()
    assert np.abs(written.astype(float) - expected).mean() < 4.0
    if temporal == "full":
        with torch.inference_mode():
            per_frame = (model.stylize(content, [code]) * 255).round().permute(0, 2, 3, 1).numpy()
        assert np.abs(written[1:].astype(float) - per_frame[1:]).mean() > 1.0


class RecordingStylizer(FrameStylizer):
    """Records what the per-stream hook sees."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.seen: list[np.ndarray] = []

    def stylize(self, pixels, frames, estimated=None):
        self.seen.append(pixels.copy())
        return super().stylize(pixels, frames, estimated)


def test_frame_stylizer_hook_sees_frames_in_order(model, style):
    codes = [model.encode_style(read_image(style)[0][None]), model.encode_style(torch.rand(1, 3, 32, 32))]
    stylizer = RecordingStylizer(model, codes, StylizerOptions((0.7, 0.3), alpha=0.8, preserve_color=True))
    pixels = np.random.default_rng(0).integers(0, 256, (5, 24, 40, 3), dtype=np.uint8)
    frames = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255
    with torch.inference_mode():
        out = [stylizer(pixels[i:i + 2], frames[i:i + 2]) for i in (0, 2, 4)]
    assert [o.shape for o in out] == [(2, 3, 24, 40), (2, 3, 24, 40), (1, 3, 24, 40)]
    assert all(o.dtype == torch.float32 and 0 <= o.min() and o.max() <= 1 for o in out)
    assert np.array_equal(np.concatenate(stylizer.seen), pixels)
    stylizer.reset()


def test_full_batches_pad_the_last_batch_without_changing_the_output(model, style, tmp_path):
    """With ``full_batches`` (used when the model is compiled) every batch has the same shape,
    and the padding frames after the last one change neither the frames nor their timing."""
    from sanet_video.options import StylizeOptions
    from sanet_video.video.pipeline import FrameBatch, run
    from sanet_video.video.sink import VideoSink
    from sanet_video.video.source import VideoSource

    source = make_video(tmp_path / "in.mp4", frames=5)
    code = model.encode_style(resize_short_side(read_image(style)[0][None], 64))
    written = {}
    for full in (False, True):
        stylizer = RecordingStylizer(model, [code], StylizerOptions(
            (1.0,), temporal=TemporalConfig(temporal="full"), full_batches=full))
        video = VideoSource(source)
        output = tmp_path / f"out_{full}.mp4"
        sink = VideoSink(output, video, video.first_frame.width, video.first_frame.height,
                         StylizeOptions(crf=0, quiet=True))
        summary = run(video, sink, stylizer, FrameBatch(3, video.first_frame.width, video.first_frame.height,
                                                        torch.device("cpu")), progress=False)
        sink.close()
        video.close()
        assert summary.frames == 5
        assert [len(s) for s in stylizer.seen] == ([3, 3] if full else [3, 2])
        with av.open(str(output)) as c:
            written[full] = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
        assert probe(output).pts == probe(source).pts
    assert np.array_equal(written[True], written[False])

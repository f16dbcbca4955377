"""Fuzzing the input path: mutated container and image bytes into decode-and-stylize.

Hypothesis takes a tiny valid file (a video in one of several containers, or an image)
and mutates its bytes: flips, overwrites, cuts, insertions, deletions and repeated spans.
The result goes through :meth:`Stylist.stylize`, the entry the command line and the
batch workers use, on the CPU at 32 pixels. It must either write a complete output or
raise :class:`UserError` with one line; nothing else may escape, and no temporary file
may stay behind, and no warning be printed. Every crash the fuzzer found is kept below as an ``@example``.

The run is bounded (:data:`EXAMPLES` examples, each within a deadline) and, unless
``SANET_FUZZ_EXAMPLES`` asks for a campaign, derandomized: CI tries the same inputs every
time, so a new finding comes from a campaign (and lands here as an ``@example``), not as a
random CI failure.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from _media import make_animated_gif, make_image, make_still_video, make_video
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sanet_video.errors import UserError
from sanet_video.image_io import is_still_image
from sanet_video.options import StylizeOptions
from sanet_video.stylist import Stylist

EXAMPLES = int(os.environ.get("SANET_FUZZ_EXAMPLES", "60"))
CAMPAIGN = "SANET_FUZZ_EXAMPLES" in os.environ
pytestmark = pytest.mark.filterwarnings("error")  # a warning would be one more line on the user's stderr

Mutation = tuple[str, int, bytes]
"""(kind, position, data): where a mutation applies (modulo the length) and the bytes it uses."""
KINDS = ("flip", "overwrite", "cut", "insert", "delete", "repeat")


def _seeds(folder: Path) -> dict[str, bytes]:
    """Tiny valid inputs, one per container or image format."""
    files = [make_video(folder / "clip.mp4", size=(32, 24), frames=3, audio=("aac",)),
             make_video(folder / "clip.mkv", size=(32, 24), frames=3),
             make_video(folder / "clip.mov", size=(30, 22), frames=3, pix_fmt="yuv444p", rotation=90),
             make_video(folder / "clip.webm", size=(32, 24), frames=3, codec="libvpx-vp9"),
             make_video(folder / "clip.avi", size=(32, 24), frames=3, codec="mpeg4"),
             make_still_video(folder / "still.mov", "png", size=(32, 24)),
             make_animated_gif(folder / "anim.gif", frames=2, size=(32, 24)),
             make_image(folder / "photo.png", mode="RGBA", size=(32, 24)),
             make_image(folder / "photo.jpg", size=(32, 24)),
             make_image(folder / "photo.webp", size=(32, 24)),
             make_image(folder / "photo.tif", mode="CMYK", size=(32, 24)),
             make_image(folder / "photo.bmp", mode="P", size=(32, 24))]
    return {path.name: path.read_bytes() for path in files}


SEEDS = ("clip.mp4", "clip.mkv", "clip.mov", "clip.webm", "clip.avi", "still.mov", "anim.gif",
         "photo.png", "photo.jpg", "photo.webp", "photo.tif", "photo.bmp")


def mutate(data: bytes, mutations: list[Mutation]) -> bytes:
    """Apply each mutation in turn."""
    for kind, position, chunk in mutations:
        at = position % (len(data) + 1)
        if kind == "flip":
            data = data[:at] + bytes([data[at] ^ (chunk[0] if chunk else 0xFF)]) + data[at + 1:] \
                if at < len(data) else data
        elif kind == "overwrite":
            data = data[:at] + chunk + data[at + len(chunk):]
        elif kind == "cut":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + chunk + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + 1 + len(chunk):]
        else:  # repeat a span: lengths and counts that disagree with the data
            data = data[:at] + data[at:at + 1 + len(chunk) * 8] * 2 + data[at + 1 + len(chunk) * 8:]
    return data


mutations = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 1 << 20), st.binary(max_size=8)),
                     min_size=1, max_size=4)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


class Seeds(dict):
    """The seed files' bytes by name, shown by their names only in Hypothesis's reports."""

    def __repr__(self) -> str:
        return f"Seeds({', '.join(self)})"


@pytest.fixture(scope="module")
def seeds(fuzz_dir) -> Seeds:
    (fuzz_dir / "seeds").mkdir()
    seeds = Seeds(_seeds(fuzz_dir / "seeds"))
    assert sorted(seeds) == sorted(SEEDS)
    return seeds


@pytest.fixture(scope="module")
def stylist(model, fuzz_dir) -> Stylist:
    style = make_image(fuzz_dir / "style.png", size=(32, 32))
    options = StylizeOptions(styles=[str(style)], style_size=32, max_side=32, batch_size=2, quiet=True,
                             overwrite=True, device="cpu")
    return Stylist(options, model)


def stylize_bytes(stylist: Stylist, folder: Path, name: str, data: bytes) -> None:
    """The fuzz target: ``data`` as the input file ``name`` through Stylist.stylize; checks what it leaves.

    The output's extension follows what the file is, as the command line's user would choose it.
    """
    work = folder / "work"
    work.mkdir(exist_ok=True)
    for leftover in work.iterdir():
        leftover.unlink()
    source = work / f"input{Path(name).suffix}"
    source.write_bytes(data)
    output = work / ("out.png" if is_still_image(source) else "out.mp4")
    try:
        summary = stylist.stylize(source, output)
    except UserError as err:
        assert str(err) and "\n" not in str(err)
        assert sorted(p.name for p in work.iterdir()) == [source.name]
        return
    assert summary.frames >= 1 and 1 <= summary.width <= 32 and 1 <= summary.height <= 32
    assert output.stat().st_size > 0
    assert sorted(p.name for p in work.iterdir()) == sorted([source.name, output.name])


@settings(max_examples=EXAMPLES, deadline=timedelta(seconds=20), database=None,
          derandomize=not CAMPAIGN, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(SEEDS), changes=mutations)
# Crashes found by this test, kept as regressions:
@example(name="photo.tif", changes=[("flip", 4, b"")])  # Pillow's warning, a second line on stderr
@example(name="anim.gif", changes=[("cut", 10312, b"")])  # IndexError in Pillow's GIF parser (is_still_image)
@example(name="anim.gif", changes=[("cut", 1492, b"")])  # struct.error in Pillow's GIF parser
@example(name="photo.tif", changes=[("flip", 84, b"")])  # ValueError: PyAV does not know a side-data type
@example(name="clip.mp4", changes=[("cut", 671616, b"")])  # AttributeError: an audio stream without codec context
def test_mutated_inputs_are_stylized_or_refused_in_one_line(stylist, fuzz_dir, seeds, name, changes):
    stylize_bytes(stylist, fuzz_dir, name, mutate(seeds[name], changes))


@settings(max_examples=max(10, EXAMPLES // 4), deadline=timedelta(seconds=20), database=None,
          derandomize=not CAMPAIGN, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=512), name=st.sampled_from(SEEDS))
def test_random_bytes_are_refused_in_one_line(stylist, fuzz_dir, name, data):
    stylize_bytes(stylist, fuzz_dir, name, data)


def test_the_seeds_themselves_work(stylist, fuzz_dir, seeds):
    """Unmutated, every seed is stylized (so the fuzzer starts from inputs that reach the model)."""
    for name, data in seeds.items():
        stylize_bytes(stylist, fuzz_dir, name, data)
        assert any(p.name.startswith("out.") for p in (fuzz_dir / "work").iterdir()), name

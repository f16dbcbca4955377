"""Rebuild examples/city.mp4 from the CC0 clip that ships in Debian's python-kivy-examples.

    apt-get download python-kivy-examples && dpkg -x python-kivy-examples_*.deb kivy
    python examples/make_city_clip.py kivy/usr/share/kivy-examples/widgets/cityCC0.mpg examples/city.mp4

Takes frames 76-155 (3.2 s at 25 fps, with the shot change of the original at 1.6 s),
scales them to 426x240 and adds a generated stereo tone (a slowly swelling A-major
chord) as AAC, so that the example has a sound track to keep.
"""

from __future__ import annotations

import sys
from fractions import Fraction

import av
import numpy as np

FIRST, COUNT, SIZE, RATE = 76, 80, (426, 240), 48_000


def tone(seconds: float) -> np.ndarray:
    """(2, samples) float32: an A-major chord with a slow swell, faded in and out."""
    t = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) / 3
    swell = 0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t - np.pi / 2)
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.3)
    left = 0.3 * chord * (0.4 + 0.6 * swell) * fade
    right = 0.3 * np.roll(chord, RATE // 100) * (0.4 + 0.6 * swell) * fade
    return np.stack([left, right]).astype(np.float32)


def main(source: str, target: str) -> None:
    with av.open(source) as src, av.open(target, "w", container_options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=25, options={"crf": "24", "preset": "slow"})
        video.width, video.height, video.pix_fmt = *SIZE, "yuv420p"
        audio = out.add_stream("aac", rate=RATE, layout="stereo", bit_rate=96_000)
        for index, frame in enumerate(src.decode(video=0)):
            if FIRST <= index < FIRST + COUNT:
                small = frame.reformat(*SIZE, "yuv420p", interpolation="AREA")
                small.pts, small.time_base = index - FIRST, Fraction(1, 25)
                out.mux(video.encode(small))
        out.mux(video.encode(None))
        samples = tone(COUNT / 25)
        for start in range(0, samples.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + 1024]),
                                               format="fltp", layout="stereo")
            chunk.sample_rate, chunk.pts, chunk.time_base = RATE, start, Fraction(1, RATE)
            out.mux(audio.encode(chunk))
        out.mux(audio.encode(None))


if __name__ == "__main__":
    main(*sys.argv[1:3])

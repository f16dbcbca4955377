"""Ablation experiments: sanity of the metrics, a tiny grid end to end, the cache, the report in Chromium."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

import flow
from sanet_video.errors import UserError
from sanet_video.experiments import GridRunner, load_experiment
from sanet_video.experiments.__main__ import main
from sanet_video.experiments.cache import CellCache
from sanet_video.experiments.config import ClipSpec
from sanet_video.experiments.inputs import build_clips, frames_to_tensor
from sanet_video.experiments.media import write_mp4
from sanet_video.experiments.metrics import warping_curve

TINY = {"width": 64, "height": 48, "frames": 6}
ARMS = {"per_frame": {"temporal": "off"}, "full": {}, "output_blend": {"temporal": "flow", "blend": 0.0, "output_blend": 0.5}}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def pan():
    spec = ClipSpec(name="pan", seed=3, translation=[2.0, 0.5], occluder=14, occluder_position=[4.0, 16.0],
                    occluder_velocity=[3.0, 0.0], **TINY)
    return build_clips([spec])["pan"]


# --- metrics ------------------------------------------------------------------------------

def test_identity_output_scores_the_inputs_own_error(pan) -> None:
    inputs = frames_to_tensor(pan.frames)
    exact = warping_curve(inputs, pan.exact)
    assert np.mean(exact) == pytest.approx(flow.warping_error(pan.frames, pan.exact.flows, pan.exact.masks))
    estimated = warping_curve(inputs, pan.estimated("farneback"))
    reference = flow.video_warping_error(pan.frames, pan.frames, flow.FlowEstimator("farneback"))
    assert np.mean(estimated) == pytest.approx(reference, rel=1e-5)


def test_estimated_flow_does_not_score_pairs_across_a_cut() -> None:
    specs = [ClipSpec(name="a", seed=3, translation=[2.0, 0.5], **TINY),
             ClipSpec(name="b", seed=8, zoom=1.02, **TINY), ClipSpec(name="ab", kind="cut", parts=["a", "b"])]
    clip = build_clips(specs)["ab"]
    kept = clip.estimated("farneback").masks.mean((1, 2, 3))
    cut = TINY["frames"] - 1
    assert kept[cut] == 0
    assert (torch.cat([kept[:cut], kept[cut + 1:]]) > 0.5).all()


def test_exact_flow_of_a_pan_leaves_almost_no_error_and_noise_scores_much_worse(pan) -> None:
    inputs = frames_to_tensor(pan.frames)
    own = np.mean(warping_curve(inputs, pan.exact))
    noise = torch.rand(inputs.shape, generator=torch.Generator().manual_seed(0))
    assert own < 2e-3
    assert np.mean(warping_curve(noise, pan.exact)) > 100 * own
    dis = pan.estimated("dis")
    assert np.mean(warping_curve(noise, dis)) > 10 * np.mean(warping_curve(inputs, dis))


# --- config ---------------------------------------------------------------------------------

def test_config_errors_name_the_entry(tmp_path) -> None:
    path = write_config(tmp_path, {"per_frame": {"temporal": "off"}, "bad": {"sigmaa": 2}})
    with pytest.raises(UserError, match=r"arms\.bad: unknown option\(s\) sigmaa"):
        load_experiment(path)
    path = write_config(tmp_path, {"full": {}})
    with pytest.raises(UserError, match="baseline 'per_frame' is not one of the arms"):
        load_experiment(path)


# --- the grid end to end ----------------------------------------------------------------------

def write_config(folder: Path, arms: dict) -> Path:
    """A grid of tiny clips: a pan with an occluder, a zoom with a rotation, and a cut of both."""
    clips = [
        {"name": "pan", "seed": 3, "translation": [2.0, 0.5], "occluder": 14, "occluder_position": [4, 16],
         "occluder_velocity": [3, 0], **TINY},
        {"name": "zoom", "seed": 11, "zoom": 1.03, "rotation": 1.0, **TINY},
        {"name": "cut", "kind": "cut", "parts": ["pan", "zoom"]},
    ]
    config = {"settings": {"batch_size": 4}, "styles": [{"name": "texture", "seed": 7, "size": 64}],
              "clips": clips, "arms": arms}
    path = folder / "grid.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_video_clips_and_photos_from_a_video_file(tmp_path) -> None:
    frames = np.stack([flow.random_texture((48, 64), seed) for seed in range(5)])
    video = tmp_path / "user.mp4"
    write_mp4(video, frames, 10.0)
    clips = build_clips([ClipSpec(name="user", kind="video", path=str(video), frames=4, max_side=32),
                         ClipSpec(name="still", path=str(video), start=0.2, frames=3, width=40, height=30)])
    user, still = clips["user"], clips["still"]
    assert user.frames.shape == (4, 24, 32, 3) and user.fps == 10.0 and user.exact is None
    downscaled = np.stack([cv2.resize(f, (32, 24), interpolation=cv2.INTER_AREA) for f in frames]).astype(float)
    for index, frame in enumerate(user.frames):  # the first 4 frames in order (H.264 blurs their colours)
        assert np.abs(frame - downscaled).mean((1, 2, 3)).argmin() == index
    assert still.frames.shape == (3, 30, 40, 3) and still.exact.flows.shape == (2, 2, 30, 40)
    assert user.identity["video"] == still.identity["photo"]  # the file's SHA-256


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """The grid run once from the command line: (config path, output folder, printed text)."""
    folder = tmp_path_factory.mktemp("grid")
    config = write_config(folder, ARMS)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        main([str(config), "--out", str(folder / "out"), "--quiet"])
    return config, folder / "out", printed.getvalue()


def test_grid_writes_a_complete_report(grid) -> None:
    _, out, printed = grid
    assert "12 cells: 9 stylized, 12 scored, 0 from the cache" in printed
    report = out / "report"
    for name in ("index.html", "results.csv", "results.json", "summary.md", "config.yaml",
                 "plots/tradeoff.png", "plots/bars.png", "plots/curves.png"):
        assert (report / name).is_file(), name
    assert len(list((report / "videos").glob("*.mp4"))) == 3
    cells = json.loads((report / "results.json").read_text())["cells"]
    assert {(c["clip"], c["arm"]) for c in cells} == {(clip, arm) for clip in ("pan", "zoom", "cut")
                                                      for arm in ("input", *ARMS)}
    for cell in cells:
        assert all(np.isfinite(cell[m]) for m in ("warp_exact", "warp_indep", "style_loss", "content_loss", "runtime"))
        assert len(cell["curves"]["warp_indep"]) == (11 if cell["clip"] == "cut" else 5)
    by = {(c["clip"], c["arm"]): c for c in cells}
    for clip in ("pan", "zoom", "cut"):  # stylizing adds flicker; the input is steadiest, by far under exact flow
        assert by[clip, "input"]["warp_exact"] < 0.1 * by[clip, "per_frame"]["warp_exact"]
        assert by[clip, "input"]["content_loss"] == 0.0
    html = (report / "index.html").read_text()
    assert html.count("<video") == 3 and "<h2>Config</h2>" in html and "output_blend: 0.5" in html


def test_cache_skips_finished_cells_and_recomputes_only_a_changed_arm(grid) -> None:
    config, out, _ = grid
    again = GridRunner(load_experiment(config), CellCache(out / "cache"), progress=False).run()
    assert (again.stats.stylized, again.stats.scored, again.stats.cached) == (0, 0, 12)

    folder = config.parent / "changed"
    folder.mkdir()
    unused = {"temporal": "off", "sigma": 3.0, "blend": 0.3}  # settings per-frame stylization does not use
    changed = write_config(folder, {**ARMS, "per_frame": unused, "full": {"blend": 0.5}})
    result = GridRunner(load_experiment(changed), CellCache(out / "cache"), progress=False).run()
    assert (result.stats.stylized, result.stats.scored, result.stats.cached) == (3, 3, 9)
    old = {(r["clip"], r["arm"]): r["key"] for r in again.rows}
    new = {(r["clip"], r["arm"]): r["key"] for r in result.rows}
    changed_cells = {cell for cell in old if old[cell] != new[cell]}
    assert changed_cells == {(clip, "full") for clip in ("pan", "zoom", "cut")}


# --- the report in a real browser -------------------------------------------------------------

MEDIA_CHECK = """<pre id="media-check"></pre><script>
window.addEventListener('load', () => {
  const videos = [...document.querySelectorAll('video')];
  const played = new Set();
  videos.forEach(v => { v.addEventListener('timeupdate', () => { if (v.currentTime > 0) played.add(v); }); v.play(); });
  setInterval(() => { document.getElementById('media-check').textContent = JSON.stringify({
    images: [...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]),
    videos: videos.map(v => [v.getAttribute('src'), v.readyState >= 2 && !v.error && played.has(v)])}); }, 100);
});
</script></body>"""


def media_in_chromium(page: Path, tmp_path: Path) -> dict[str, list]:
    """Open ``page`` in headless Chromium (no network) with a script that plays every video; what loaded.

    The script goes into a copy of the page beside it, so relative links resolve as in the page.
    """
    probe = page.with_name(f"_probe_{page.name}")
    probe.write_text(page.read_text().replace("</body>", MEDIA_CHECK))
    try:
        dom = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
             f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=10000", "--dump-dom",
             probe.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    finally:
        probe.unlink()
    found = re.search(r'<pre id="media-check">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), f"the probe script did not run; DOM starts {dom[:300]!r}"
    return json.loads(found.group(1).replace("&amp;", "&"))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: apt-get install chromium)")
def test_report_images_and_videos_load_and_play_in_chromium(grid, tmp_path) -> None:
    _, out, _ = grid
    media = media_in_chromium(out / "report" / "index.html", tmp_path)
    assert len(media["images"]) >= 4 and len(media["videos"]) == 3
    assert [src for src, ok in media["images"] + media["videos"] if not ok] == []

    broken = tmp_path / "broken.html"  # and the probe does notice what fails
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    broken.write_text("<html><body><img src='missing.png'><video src='bad.mp4' muted></video></body></html>")
    media = media_in_chromium(broken, tmp_path)
    assert media == {"images": [["missing.png", False]], "videos": [["bad.mp4", False]]}

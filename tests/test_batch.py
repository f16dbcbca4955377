"""Batch processing as a user meets it: a messy folder, re-runs, interruptions, unsafe paths, Ray."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from _media import interruptible, make_image, make_video, probe
from PIL import Image

from sanet_video.batch.discovery import MediaFile, Style, find_media
from sanet_video.batch.jobs import inside, plan_jobs
from sanet_video.batch.manifest import MANIFEST, Manifest
from sanet_video.cli import main
from sanet_video.errors import UserError

REPO = Path(__file__).resolve().parents[1]
FAST = ("--style-size", "32", "--devices", "cpu")


@pytest.fixture(scope="module")
def styles(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("styles")
    make_image(folder / "starry.png", size=(48, 40))
    make_image(folder / "wave.jpg", mode="L", size=(40, 48))
    return folder


def make_library(root: Path) -> Path:
    """Good videos and images in nested folders with spaces and non-ASCII names, and the usual mess."""
    (root / "season 1" / "déjà vu").mkdir(parents=True)
    make_video(root / "a clip.mp4", frames=4, audio=("aac",))
    make_video(root / "season 1" / "déjà vu" / "ü.mkv", size=(48, 32), frames=3)
    make_image(root / "season 1" / "photo one.png", size=(40, 32))
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(300))  # a corrupt video
    (root / "notes.txt").write_text("not a picture")
    (root / ".hidden.png").write_bytes((root / "season 1" / "photo one.png").read_bytes())
    os.symlink("..", root / "season 1" / "loop")  # a symbolic link loop
    return root


def batch(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main(["batch", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def records(out_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (out_dir / MANIFEST).read_text().splitlines()]


def report_rows(out_dir: Path) -> dict[tuple[str, str], dict]:
    with (out_dir / "batch_report.csv").open(encoding="utf-8") as file:
        return {(row["input"], row["style"]): row for row in csv.DictReader(file)}


def frames_of(path: Path) -> np.ndarray:
    """Every frame of a video, or the image, as (N, H, W, 3) uint8."""
    if path.suffix in (".png", ".jpg"):
        return np.asarray(Image.open(path).convert("RGB"))[None]
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def leftovers(out_dir: Path) -> list[Path]:
    return [p for p in out_dir.rglob("*") if ".partial" in p.name]


def test_a_messy_folder_times_two_styles(tmp_path, styles, capsys):
    library = make_library(tmp_path / "in")
    out_dir = tmp_path / "out"
    code, out, err = batch(capsys, library, out_dir, "--styles", styles, *FAST)
    assert code == 2, err  # the corrupt video failed, the batch went on
    expected = {"a clip__starry.mp4": 4, "a clip__wave.mp4": 4,
                "season 1/déjà vu/ü__starry.mkv": 3, "season 1/déjà vu/ü__wave.mkv": 3,
                "season 1/photo one__starry.png": 1, "season 1/photo one__wave.png": 1}
    made = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if "__" in p.name}
    assert made == set(expected)  # nothing for the text file, the hidden file or through the loop
    for name, frames in expected.items():
        assert len(frames_of(out_dir / name)) == frames
    assert probe(out_dir / "a clip__starry.mp4").audio  # sound kept, as for a single file
    rows = report_rows(out_dir)
    assert len(rows) == 8 and {row["status"] for key, row in rows.items() if key[0] != "broken.mp4"} == {"done"}
    failure = rows["broken.mp4", "starry"]
    assert failure["status"] == "failed" and "broken.mp4" in failure["reason"] and "\n" not in failure["reason"]
    assert "failed: broken.mp4 × starry: input" in err
    assert out.startswith("batch: 8 jobs: 6 done, 2 failed;") and "season 1/déjà vu/ü.mkv × wave" in out
    summary = json.loads((out_dir / "batch_report.json").read_text())
    assert summary["totals"] | {"frames": 0} == {"done": 6, "skipped": 0, "failed": 2, "interrupted": 0,
                                                 "pending": 0, "frames": 0}
    assert summary["totals"]["frames"] == 16
    last = {(r["input"], r["style"]): r for r in records(out_dir)}
    done = last["a clip.mp4", "wave"]
    assert done["status"] == "done" and done["options"]["style_size"] == 32 and len(done["weights"]) == 64
    assert done["output_file"]["size"] == (out_dir / "a clip__wave.mp4").stat().st_size
    assert not leftovers(out_dir)

    # A re-run skips everything done; the corrupt video is tried again.
    stamps = {p: p.stat().st_mtime_ns for p in out_dir.rglob("*__*")}
    code, out, _ = batch(capsys, library, out_dir, "--styles", styles, *FAST)
    assert code == 2 and out.startswith("batch: 8 jobs: 6 skipped, 2 failed;")
    assert stamps == {p: p.stat().st_mtime_ns for p in out_dir.rglob("*__*")}


def test_a_rerun_redoes_exactly_what_changed(tmp_path, styles, capsys):
    library = tmp_path / "in"
    library.mkdir()
    make_image(library / "a.png", size=(40, 32))
    make_image(library / "b.png", size=(32, 40))
    make_video(library / "c.mp4", size=(48, 32), frames=3)
    out_dir = tmp_path / "out"
    style = styles / "starry.png"
    assert batch(capsys, library, out_dir, "--style", style, *FAST)[0] == 0

    def rerun(*extra: str) -> dict[str, str]:
        code, _, err = batch(capsys, library, out_dir, "--style", style, *FAST, *extra)
        assert code == 0, err
        return {key[0]: row["status"] for key, row in report_rows(out_dir).items()}

    assert rerun() == {"a.png": "skipped", "b.png": "skipped", "c.mp4": "skipped"}
    make_image(library / "a.png", mode="L", size=(40, 32))  # new content
    (out_dir / "b__starry.png").unlink()  # output deleted
    with (out_dir / "c__starry.mp4").open("ab") as file:  # output damaged
        file.write(b"junk")
    assert rerun() == {"a.png": "done", "b.png": "done", "c.mp4": "done"}
    os.utime(library / "a.png")  # touched, same content
    assert rerun("--batch-size", "2", "--quiet") == {"a.png": "skipped", "b.png": "skipped", "c.mp4": "skipped"}
    assert rerun("--alpha", "0.5") == {"a.png": "done", "b.png": "done", "c.mp4": "done"}
    last = {r["input"]: r for r in records(out_dir)}
    assert {(r["status"], r["options"]["alpha"]) for r in last.values()} == {("done", 0.5)}


def test_a_bad_style_fails_its_jobs_only(tmp_path, styles, capsys):
    library = tmp_path / "in"
    library.mkdir()
    make_image(library / "a.png", size=(40, 32))
    style_dir = tmp_path / "styles"
    style_dir.mkdir()
    make_image(style_dir / "good.png", size=(40, 40))
    (style_dir / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code, _, err = batch(capsys, library, tmp_path / "out", "--styles", style_dir, *FAST)
    assert code == 2, err
    rows = report_rows(tmp_path / "out")
    assert rows["a.png", "good"]["status"] == "done"
    assert rows["a.png", "bad"]["status"] == "failed" and "style image" in rows["a.png", "bad"]["reason"]


def test_outputs_never_leave_the_output_folder(tmp_path, styles, capsys):
    library = tmp_path / "in"
    (library / "sub").mkdir(parents=True)
    make_image(library / "sub" / "a.png", size=(40, 32))
    make_image(library / "b.png", size=(40, 32))
    outside = tmp_path / "outside"
    outside.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "sub").symlink_to(outside)
    code, _, _ = batch(capsys, library, out_dir, "--style", styles / "starry.png", *FAST)
    assert code == 2
    rows = report_rows(out_dir)
    assert rows["sub/a.png", "starry"]["status"] == "failed" and "outside" in rows["sub/a.png", "starry"]["reason"]
    assert rows["b.png", "starry"]["status"] == "done"
    assert list(outside.iterdir()) == []
    for relative in (Path("../x.png"), Path("/tmp/x.png"), Path("sub/x.png")):
        with pytest.raises(UserError, match="outside the output folder"):
            inside(out_dir, relative)
    item = MediaFile(library / "b.png", Path("b.png"), "image")
    jobs, refused = plan_jobs([item], [Style("../../evil", styles / "starry.png")], out_dir)
    assert not jobs and "outside" in refused[0].reason


def test_output_names(tmp_path):
    def media(name: str, kind: str) -> MediaFile:
        return MediaFile(tmp_path / name, Path(name), kind)

    items = [media("d/a.avi", "video"), media("d/a.mp4", "video"), media("b.gif", "video"),
             media("c.webm", "video"), media("p.JPG", "image"), media("q.bmp", "image"), media("r.heic", "image")]
    jobs, _ = plan_jobs(items, [Style("s", tmp_path / "s.png")], tmp_path / "out")
    assert [job.relative_output.as_posix() for job in jobs] == [
        "d/a.avi__s.mp4", "d/a.mp4__s.mp4", "b__s.mp4", "c__s.webm", "p__s.jpg", "q__s.bmp", "r__s.png"]


def test_discovery_ends_on_loops_and_skips_what_is_not_a_picture(tmp_path):
    root = tmp_path / "in"
    (root / "x" / "y").mkdir(parents=True)
    make_image(root / "x" / "y" / "pic.png", size=(16, 16)).rename(root / "x" / "y" / "pic.dat")  # by content
    os.symlink(root, root / "x" / "y" / "up")
    os.symlink(root / "x", root / "again")  # the same folder twice
    os.symlink(root / "missing", root / "dangling")
    os.mkfifo(root / "pipe.mp4")  # opening it would block
    (root / "audio.mp3").write_bytes(b"ID3 not much")
    (root / "out").mkdir()
    make_image(root / "out" / "pic__s.png", size=(16, 16))  # the output folder, inside the input folder
    found, skipped = find_media(root, exclude=root / "out")
    assert [(m.relative.as_posix(), m.kind) for m in found] == [("again/y/pic.dat", "image")]
    assert skipped == [f"{root / 'pipe.mp4'} is a named pipe (FIFO), not a regular file"]


def test_foreign_files_are_not_replaced_without_overwrite(tmp_path, styles, capsys):
    library = tmp_path / "in"
    library.mkdir()
    make_image(library / "a.png", size=(40, 32))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "a__starry.png").write_bytes(b"precious")
    assert batch(capsys, library, out_dir, "--style", styles / "starry.png", *FAST)[0] == 2
    assert (out_dir / "a__starry.png").read_bytes() == b"precious"
    assert "pass --overwrite" in report_rows(out_dir)["a.png", "starry"]["reason"]
    assert batch(capsys, library, out_dir, "--style", styles / "starry.png", *FAST, "--overwrite")[0] == 0
    assert Image.open(out_dir / "a__starry.png").size == (40, 32)


def test_leftovers_of_a_crash_are_not_taken_for_done(tmp_path, styles, capsys):
    """A worker killed after its rename but before the record, and one killed mid-write."""
    library = tmp_path / "in"
    library.mkdir()
    make_image(library / "a.png", size=(40, 32))
    make_image(library / "b.png", size=(40, 32))
    out_dir = tmp_path / "out"
    style = styles / "starry.png"
    assert batch(capsys, library, out_dir, "--style", style, *FAST)[0] == 0
    with Manifest.open(out_dir) as manifest:  # as if both were being redone when the machine died
        for key in (("a.png", "starry"), ("b.png", "starry")):
            manifest.append({**manifest.records[key], "status": "started"})
    (out_dir / "a__starry.png").write_bytes(b"half")
    (out_dir / "b__starry.png").unlink()
    (out_dir / ".b__starry.0123abcd.partial.png").write_bytes(b"half")
    with (out_dir / MANIFEST).open("a") as file:
        file.write('{"input": "a.png", "sty')  # a line cut short
    code, out, _ = batch(capsys, library, out_dir, "--style", style, *FAST)
    assert code == 0 and "2 done" in out
    assert Image.open(out_dir / "a__starry.png").size == (40, 32) and not leftovers(out_dir)


def test_usage_errors_are_one_line(tmp_path, styles, capsys):
    library = tmp_path / "in"
    library.mkdir()
    style = str(styles / "starry.png")
    cases = [
        ((library, tmp_path / "out"), "no style image given"),
        ((library, library, "--style", style), "is (or holds) the input folder"),
        ((tmp_path / "nope", tmp_path / "out", "--style", style), "not found"),
        ((library, tmp_path / "out", "--style", f"{style}:0.5"), "drop the weight"),
        ((library, tmp_path / "out", "--style", tmp_path / "x.png"), "style image"),
        ((library, tmp_path / "out", "--style", style, "--engine", "spark"), "engine must be one of"),
        ((library, tmp_path / "out", "--style", style, "--address", "auto"), "add --engine ray"),
        ((library, tmp_path / "out", "--style", style, "--devices", "cuda:7"), "CUDA"),
    ]
    for args, message in cases:
        code, out, err = batch(capsys, *args)
        assert (code, out) == (1, ""), args
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    with Manifest.open(tmp_path / "out"):
        code, _, err = batch(capsys, library, tmp_path / "out", "--style", style)
    assert code == 1 and "another batch is writing" in err


def test_config_file(tmp_path, styles, capsys):
    library = tmp_path / "in"
    library.mkdir()
    make_image(library / "a.png", size=(40, 32))
    config = tmp_path / "batch.yaml"
    config.write_text((REPO / "configs" / "batch.yaml").read_text().replace("styles: []", f"styles: ['{styles}']")
                      + "style_size: 32\ndevices: cpu\nalpha: 0.7\n")
    code, _, err = batch(capsys, library, tmp_path / "out", "--config", config, "--quiet")
    assert code == 0, err
    assert {p.name for p in (tmp_path / "out").glob("*.*g")} == {"a__starry.png", "a__wave.png"}
    assert {r["options"]["alpha"] for r in records(tmp_path / "out")} == {0.7}


def _run_until_done_then(signum: int, library: Path, out_dir: Path, style: Path,
                         devices: str) -> subprocess.CompletedProcess:
    """Start a batch, send ``signum`` once its first job is recorded as done, and wait for it."""
    process = subprocess.Popen([sys.executable, "-m", "sanet_video", "batch", str(library), str(out_dir),
                                "--style", str(style), "--style-size", "32", "--devices", devices],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    deadline = time.monotonic() + 120
    while '"status": "done"' not in ((out_dir / MANIFEST).read_text() if (out_dir / MANIFEST).exists() else ""):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize(("signum", "devices"), [(signal.SIGINT, "cpu,cpu"), (signal.SIGKILL, "cpu")])
def test_interrupted_batch_resumes_and_does_each_job_once(tmp_path, styles, capsys, signum, devices):
    library = tmp_path / "in"
    library.mkdir()
    for index in range(4):
        make_video(library / f"clip{index}.mp4", size=(48, 32), frames=12)
    out_dir = tmp_path / "out"
    stopped = _run_until_done_then(signum, library, out_dir, styles / "starry.png", devices)
    if signum == signal.SIGINT:
        assert stopped.returncode == 130 and not leftovers(out_dir)
        assert stopped.stderr.splitlines()[-1].startswith("error: interrupted; finished jobs are kept")
        assert time.time() - max(p.stat().st_mtime for p in out_dir.iterdir()) < 60
    else:
        assert stopped.returncode == -signal.SIGKILL
    finished = {r["input"] for r in records(out_dir) if r["status"] == "done"}
    assert 1 <= len(finished) < 4
    code, out, err = batch(capsys, library, out_dir, "--style", styles / "starry.png", *FAST)
    assert code == 0, err
    assert f"{len(finished)} skipped" in out and not leftovers(out_dir)
    done = [r["input"] for r in records(out_dir) if r["status"] == "done"]
    assert sorted(done) == [f"clip{index}.mp4" for index in range(4)]  # each job done exactly once
    for index in range(4):
        assert len(frames_of(out_dir / f"clip{index}__starry.mp4")) == 12


def test_ray_engine_gives_the_local_outputs(tmp_path, styles, capsys):
    ray = pytest.importorskip("ray")
    library = tmp_path / "in"
    (library / "sub").mkdir(parents=True)
    make_video(library / "sub" / "clip.mp4", size=(48, 32), frames=4)
    make_image(library / "photo.png", size=(40, 32))
    (library / "broken.mp4").write_bytes(b"junk")
    local, remote = tmp_path / "local", tmp_path / "ray"
    # fp32: bf16 convolutions round differently with the workers' different thread counts
    exact = ("--styles", styles, "--precision", "fp32")
    assert batch(capsys, library, local, *exact, *FAST)[0] == 2
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        code, out, err = batch(capsys, library, remote, *exact, "--style-size", "32", "--engine", "ray")
        assert code == 2, err
        assert out.startswith("batch: 6 jobs: 4 done, 2 failed;")
        code, out, err = batch(capsys, library, remote, *exact, "--style-size", "32", "--engine", "ray")
        assert code == 2 and out.startswith("batch: 6 jobs: 4 skipped, 2 failed;")
    finally:
        ray.shutdown()
    for name in ("sub/clip__starry.mp4", "sub/clip__wave.mp4", "photo__starry.png", "photo__wave.png"):
        ours, theirs = frames_of(local / name), frames_of(remote / name)
        assert ours.shape == theirs.shape
        assert np.abs(ours.astype(int) - theirs.astype(int)).mean() < 1.0, name
    def failures(out_dir: Path) -> dict[tuple[str, str], str]:
        return {key: row["reason"] for key, row in report_rows(out_dir).items() if row["status"] == "failed"}

    assert failures(remote) == failures(local) and len(failures(local)) == 2

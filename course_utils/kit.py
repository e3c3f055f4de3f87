"""A classroom kit: the course, its wheels, weights and data in one folder for an offline room.

    python -m course_utils.kit build KIT_DIR                      # fast's backbone's weights + cats_vs_dogs
    python -m course_utils.kit build KIT_DIR --wheels             # + pip wheels for this platform
    python -m course_utils.kit build KIT_DIR --wheels --platform windows-x86_64 --platform macos-arm64 --python-version 3.12
    python -m course_utils.kit build KIT_DIR --backbones vgg16 mobilenet_0.25 --datasets cats_vs_dogs flowers
    python -m course_utils.kit build KIT_DIR --from-data /path/to/data   # reuse an earlier `make fetch`

Run it once on a machine with internet, copy KIT_DIR to a USB stick, and on each laptop follow
KIT_DIR/README.txt (docs/teaching.md, "The offline room", says the same). The kit holds:

    course/    the repository (every file git tracks or would track; no .venv, outputs, data cache)
    data/      COURSE_DATA_DIR: weights/ (verified ImageNet files) and cache/ (datasets)
    keras/     KERAS_HOME: Keras' own cache and settings, inside the kit, not in ~/.keras
    wheels/    with --wheels: `pip download -r requirements.txt` (and setuptools for `pip install -e`)
    env.sh, env.bat   set COURSE_DATA_DIR, KERAS_HOME and COURSE_OFFLINE=1 for this kit's location
    kit.json   what was put in, with sizes and checksums; README.txt, the learners' steps

Weights and datasets are found first in --from-data, then in this clone's data folder and Keras'
cache, and only then downloaded (the course's own fetch, checksums verified). Building again
completes and updates a kit without losing anything: weights and datasets already in it are
kept (and verified); a course file is updated only while it is still the one the kit wrote
(kit.json records their checksums), so an instructor's edited notebooks and added worksheets
stay, and are listed; nothing is deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import backbones, data, paths, profiles, storage
from .integrity import is_complete

ENV_VARS = ("COURSE_DATA_DIR", "KERAS_HOME", "COURSE_OFFLINE")


class KitError(RuntimeError):
    """A kit that cannot be built here, with what to do instead."""


_NOT_COPIED = {".git", ".venv", "outputs", "__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def environment(kit: Path | str) -> dict[str, str]:
    """The variables that point the course at a kit (what env.sh and env.bat set)."""
    kit = Path(kit).resolve()
    return {"COURSE_DATA_DIR": str(kit / "data"), "KERAS_HOME": str(kit / "keras"), "COURSE_OFFLINE": "1"}


def course_files(root: Path) -> list[Path]:
    """The repository's files, relative to `root`: tracked or not ignored by git (else a walk)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True).stdout
        files = [Path(p) for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # no git, or not a clone: skip what git ignores
        files = [p.relative_to(root) for p in root.rglob("*") if p.is_file()]
        files = [p for p in files if not _NOT_COPIED.intersection(p.parts)
                 and p.parts[:2] not in {("data", "cache"), ("data", "weights")}]
    return sorted(p for p in files if (root / p).is_file())


def copy_course(root: Path, dest: Path, kit: Path, written: dict[str, str] | None = None,
                ) -> tuple[int, dict[str, str], list[str]]:
    """Copy the repository's files to `dest` (none from inside `kit`), never over someone's edits.

    `written`: relative path -> SHA-256 of each file an earlier build wrote (kit.json). A file of
    `dest` is replaced only when it is still what the kit wrote; a file someone changed or added
    is kept as it is, and nothing is deleted. Returns (files copied or kept up to date, what
    this build wrote (path -> SHA-256), files kept because someone changed them).
    """
    written = written or {}
    inside = kit.resolve().relative_to(root.resolve()) if kit.resolve().is_relative_to(root.resolve()) else None
    files = [p for p in course_files(root) if inside is None or not p.is_relative_to(inside)]
    now: dict[str, str] = {}
    kept: list[str] = []
    for rel in files:
        key, target = rel.as_posix(), dest / rel
        digest = data.file_digest(root / rel)
        if target.exists():
            there = data.file_digest(target) if target.is_file() else None
            if there == digest:
                now[key] = digest
                continue
            if there is None or written.get(key) != there:  # changed (or added) by someone: theirs
                kept.append(key)
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_new(root / rel, target)
        now[key] = digest
    return len(now), now, kept


def _sources(from_data: Path | None) -> list[Path]:
    """Data folders to copy from before downloading: --from-data, then this machine's own."""
    found = [from_data] if from_data else []
    return [*found, paths.data_dir()]


def _copy_new(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    if src.is_dir():
        shutil.copytree(src, tmp)
    else:
        shutil.copy2(src, tmp)
    os.replace(tmp, dest)


def gather_weights(names: list[str], sources: list[Path], keras_cache: Path) -> list[dict]:
    """Put each backbone's verified ImageNet file in the kit's weights folder (current data dir)."""
    rows = []
    for name in names:
        b = backbones.get(name)
        dest = paths.weights_dir() / b.weights_file
        origin = "already in the kit"
        if not dest.exists():
            found = [p for p in [s / "weights" / b.weights_file for s in sources] + [keras_cache / b.weights_file]
                     if p.is_file()]
            if found:
                _copy_new(found[0], dest)
                origin = f"copied from {found[0]}"
            else:
                backbones.fetch_weights(b, progress=True)
                origin = f"downloaded from {b.weights_url}"
        if b.weights_hash:
            try:
                data.verify_file(dest, checksum=b.weights_hash)
            except data.ChecksumError as err:
                dest.unlink()  # the kit's copy only; the source is left as it was
                raise data.ChecksumError(f"{err} ({origin}; removed from the kit). It is not {b.title}'s "
                                         "published file: fetch it again (`make fetch`).") from None
        rows.append({"backbone": b.name, "file": str(dest.relative_to(paths.data_dir())), "origin": origin,
                     "bytes": dest.stat().st_size, "sha256": data.file_digest(dest)})
    return rows


def gather_datasets(names: list[str], sources: list[Path]) -> list[dict]:
    """Put each dataset, complete, in the kit's cache: copied from a source, else fetched."""
    rows = []
    for name in names:
        s = data.spec(name)
        dest = data.dataset_root(name)
        origin = "already in the kit"
        if not data.is_present(name):
            found = [src / "cache" / s.root for src in sources if is_complete(src / "cache" / s.root)]
            if found:
                if dest.exists():  # an incomplete earlier copy: the kit's own, safe to replace
                    shutil.rmtree(dest)
                _copy_new(found[0], dest)
                origin = f"copied from {found[0]}"
                recorded = found[0].parent / "checksums.json"
                if recorded.exists() and not (paths.cache_dir() / "checksums.json").exists():
                    shutil.copy2(recorded, paths.cache_dir() / "checksums.json")
            else:
                data.fetch(name, progress=True)
                origin = "generated here" if s.url is None else f"downloaded from {s.url}"
        files = sum(1 for p in dest.rglob("*") if p.is_file())
        rows.append({"dataset": name, "folder": str(dest.relative_to(paths.data_dir())), "origin": origin,
                     "files": files})
    return rows


# The learners' laptops a kit can carry wheels for, as pip's --platform tags. The first tag of each is
# the one TensorFlow 2.21 publishes its wheel under (checked 2026-12-03 with `pip install --dry-run
# --only-binary=:all: --platform TAG --python-version 3.12 -r requirements.txt`; TF has no
# macosx_11_0_arm64 wheel, and with manylinux2014_x86_64 alone pip quietly picks TF 2.20). pip matches
# an explicit manylinux tag exactly, so a Linux laptop also lists the older tags other packages (grpcio,
# h5py) are published under; macOS tags pip widens by itself. Intel Macs get TensorFlow 2.16.2, its
# last Intel-Mac wheel, with Python 3.10-3.12.
LAPTOPS: dict[str, tuple[str, ...]] = {
    "linux-x86_64": ("manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "linux-aarch64": ("manylinux_2_27_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    "macos-arm64": ("macosx_12_0_arm64",),
    "macos-x86_64": ("macosx_10_15_x86_64",),
    "windows-x86_64": ("win_amd64",),
}


def platform_tags(platform: str) -> tuple[str, ...]:
    """pip's --platform tags for a laptop name (``linux-x86_64`` ...) or one of their tags."""
    if platform in LAPTOPS:
        return LAPTOPS[platform]
    for tags in LAPTOPS.values():
        if platform in tags:
            return tags if platform == tags[0] else (platform,)
    raise KitError(f"--platform {platform!r}: no TensorFlow wheel is published for it. Name the laptops: "
                   f"{', '.join(LAPTOPS)} (or one of their pip tags: "
                   f"{', '.join(t for tags in LAPTOPS.values() for t in tags)}).")


def wheel_commands(requirements: Path, wheels: Path, platforms: list[str] | None = None,
                   python_version: str | None = None) -> list[list[str]]:
    """The `pip download` commands that fill the kit's wheels folder (one per kind of laptop).

    `platforms` names laptops (``LAPTOPS``: linux-x86_64, macos-arm64, windows-x86_64 ...) or
    their pip tags; a laptop's command carries all of its tags. KitError for any other name.
    """
    target: list[list[str]] = [[]]
    if platforms:
        target = [["--only-binary=:all:", *[a for t in platform_tags(p) for a in ("--platform", t)]]
                  + (["--python-version", python_version] if python_version else []) for p in platforms]
    base = [sys.executable, "-m", "pip", "download", "--dest", str(wheels)]
    return [base + ["-r", str(requirements), "setuptools>=77"] + t for t in target]


def _write_env_scripts(kit: Path) -> None:
    (kit / "env.sh").write_text(
        "# source this file (bash/zsh): points the course at this kit, wherever the kit is\n"
        'KIT="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"\n'
        'export COURSE_DATA_DIR="$KIT/data"\nexport KERAS_HOME="$KIT/keras"\nexport COURSE_OFFLINE=1\n')
    (kit / "env.bat").write_text(
        "@rem run this in cmd.exe: points the course at this kit, wherever the kit is\r\n"
        'set "COURSE_DATA_DIR=%~dp0data"\r\nset "KERAS_HOME=%~dp0keras"\r\nset "COURSE_OFFLINE=1"\r\n')


README = """Classroom kit of the course "Transfer Learning and Fine-tuning with TensorFlow/Keras"
(built {built} with backbones {backbones} and datasets {datasets}; wheels: {wheels}).

On each laptop, with Python 3.10-3.13 and no internet:
1. Copy this whole folder to the laptop (for instance to ~/kit) and open a terminal there.
2. cd course && python3 -m venv .venv
   .venv/bin/pip install --no-index --find-links ../wheels -r requirements.txt
   (Windows: .venv\\Scripts\\pip ...). Without a wheels/ folder, install from the internet instead.
3. source ../env.sh   (Windows cmd: ..\\env.bat)   -- sets COURSE_DATA_DIR, KERAS_HOME, COURSE_OFFLINE=1
4. .venv/bin/jupyter lab notebooks/   and open 00_setup.ipynb: its section 4 lists this kit's data.
"""


def _written(kit: Path) -> dict[str, str]:
    """The course files an earlier build wrote, with their checksums (empty for older kits)."""
    try:
        return dict(json.loads((kit / "kit.json").read_text()).get("course_checksums", {}))
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def build(kit: Path, *, backbones_: list[str], datasets: list[str], wheels: bool = False,
          from_data: Path | None = None, platforms: list[str] | None = None,
          python_version: str | None = None) -> dict:
    """Build (or complete) the kit folder; returns what kit.json records."""
    root = paths.repo_root()
    if root is None:
        raise KitError("Build the kit from a clone of the course repository (course_utils is not running from one).")
    kit = kit.resolve()
    if kit.exists() and not kit.is_dir():
        raise KitError(f"{kit} is a file, not a folder: give the kit a folder path (new or empty), "
                       f"for instance {kit.parent / 'kit'}.")
    if kit.exists() and any(kit.iterdir()) and not (kit / "kit.json").exists():
        raise KitError(f"{kit} exists and is not a kit built by this command: choose a new or empty folder "
                       "(nothing in it was changed).")
    sources, keras_cache = _sources(from_data), paths.keras_cache_dir()  # this machine's, before the switch
    saved = {k: os.environ.get(k) for k in (*ENV_VARS, "COURSE_WEIGHTS_DIR")}
    os.environ.pop("COURSE_WEIGHTS_DIR", None)
    os.environ.update({k: v for k, v in environment(kit).items() if k != "COURSE_OFFLINE"})
    try:
        copied, written, kept = copy_course(root, kit / "course", kit, _written(kit))
        (kit / "keras" / "models").mkdir(parents=True, exist_ok=True)
        weights = gather_weights(backbones_, sources, keras_cache)
        dsets = gather_datasets(datasets, sources)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if wheels:
        for cmd in wheel_commands(kit / "course" / "requirements.txt", kit / "wheels", platforms, python_version):
            subprocess.run(cmd, check=True)
    _write_env_scripts(kit)
    from . import __version__

    manifest = {"course_utils": __version__, "course_files": copied, "kept_as_edited": kept,
                "course_checksums": written, "weights": weights, "datasets": dsets,
                "wheels": sorted(p.name for p in (kit / "wheels").glob("*")) if wheels else [],
                "environment": {k: v.replace(str(kit), "<kit>") for k, v in environment(kit).items()}}
    storage.write_text(kit / "kit.json", json.dumps(manifest, indent=2) + "\n")
    import datetime

    (kit / "README.txt").write_text(README.format(
        built=datetime.date.today().isoformat(), backbones=", ".join(backbones_) or "none",
        datasets=", ".join(datasets) or "none", wheels="yes" if wheels else "no (install from the internet)"))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.kit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build or complete a kit folder (needs internet unless everything is on disk)")
    b.add_argument("kit", type=Path)
    b.add_argument("--backbones", nargs="*", default=[profiles.get("fast").backbone],
                   help=f"ImageNet weights to include (known: {', '.join(backbones.REGISTRY)})")
    b.add_argument("--datasets", nargs="*", default=["cats_vs_dogs", "shapes"],
                   help=f"datasets to include (known: {', '.join(data.REGISTRY)})")
    b.add_argument("--all", action="store_true", help="every backbone and every dataset")
    b.add_argument("--wheels", action="store_true", help="also `pip download` the requirements into wheels/")
    b.add_argument("--platform", action="append", help="with --wheels: the learners' laptops (repeatable): "
                   f"{', '.join(LAPTOPS)}, or one of their pip platform tags")
    b.add_argument("--python-version", help="with --platform: the learners' Python, e.g. 3.12")
    b.add_argument("--from-data", type=Path, help="a data folder fetched earlier (`make fetch`) to copy from")
    args = parser.parse_args(argv)
    for platform in args.platform or []:
        try:
            platform_tags(platform)
        except KitError as err:
            parser.error(str(err))
    nets = list(backbones.REGISTRY) if args.all else args.backbones
    names = list(data.REGISTRY) if args.all else args.datasets
    try:
        manifest = build(args.kit, backbones_=nets, datasets=names, wheels=args.wheels, from_data=args.from_data,
                         platforms=args.platform, python_version=args.python_version)
    except (KitError, backbones.UnknownBackboneError, backbones.WeightsUnavailableError, KeyError,
            data.DownloadError, data.ChecksumError, data.DatasetError, subprocess.CalledProcessError) as err:
        print(f"kit: FAILED: {err}", file=sys.stderr)
        return 1
    for row in manifest["weights"]:
        print(f"ok   {row['backbone']} weights: {row['file']} ({row['bytes']:,} bytes, {row['origin']})")
    for row in manifest["datasets"]:
        print(f"ok   dataset {row['dataset']}: {row['folder']} ({row['files']:,} files, {row['origin']})")
    for rel in manifest["kept_as_edited"]:
        print(f"kept course/{rel}: changed or added in the kit (not overwritten; delete it to get the course's)")
    print(f"kit ready: {args.kit.resolve()} ({manifest['course_files']} course files"
          + (f", {len(manifest['wheels'])} wheels)" if args.wheels else ", no wheels)")
          + "; learners follow its README.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Which inputs are bundles: files, globs and folders expanded into archives and unpacked bundle folders."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable
from pathlib import Path

#: The archives taken from inside a folder, by suffix (bundle.py sniffs the kind from the bytes): .tar,
#: .tgz, .tar.<any compression> (.tar.gz, .tar.xz, .tar.bz2, ...) and .zip. `triage --help` says so.
BUNDLE_FILE = re.compile(r"\.(?:tar|tgz|tar\.\w+|zip)$")


def discover(inputs: Iterable[str], exclude: Path | None = None) -> list[Path]:
    """Expand files, globs and folders (recursively) into bundle paths, each once, in a stable order.

    A path named explicitly is always taken, so a broken or missing one becomes an error row;
    inside folders, archives are recognised by suffix and unpacked bundles by their `var/log`.
    Nothing under `exclude` (the output folder, when it sits inside an input folder) is taken.
    """
    found: list[Path] = []
    for arg in inputs:
        matches = sorted(glob.glob(arg, recursive=True)) if glob.has_magic(arg) else [arg]
        for match in matches:
            path = Path(match)
            found.extend(_in_folder(path) if path.is_dir() and not is_unpacked_bundle(path) else [path])
    unique: dict[Path, Path] = {}
    skip = exclude.resolve() if exclude is not None else None
    for path in found:
        resolved = path.resolve()
        if skip is None or not resolved.is_relative_to(skip):
            unique.setdefault(resolved, path)
    return list(unique.values())


def is_unpacked_bundle(path: Path) -> bool:
    """An unpacked `ovs collect logs` archive: its members are `var/log/...`."""
    return path.is_dir() and (path / "var" / "log").is_dir()


def _in_folder(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        bundles = sorted(d for d in dirs if is_unpacked_bundle(here / d))
        found.extend(here / d for d in bundles)
        dirs[:] = sorted(d for d in dirs if d not in bundles)
        found.extend(here / f for f in sorted(files) if BUNDLE_FILE.search(f))
    return found


def bundle_size(path: Path) -> int:
    """Bytes to read: the archive, or every file of an unpacked bundle (0 if missing)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return path.stat().st_size if path.is_file() else 0

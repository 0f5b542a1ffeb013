"""An unpacked bundle folder read as an archive: its files as entries, ovs-analyzer's own output folders left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from analyzer.reading.archive import Entry

#: The file every output folder holds (see `analyzer.outputs.atomic.output_folder`). A folder bundle does not read a
#: folder below it that holds one: the reports a run wrote into the bundle folder (`cd bundle;
#: ovs-analyzer analyze .` writes `./out`) are not logs, and a second run would count their
#: evidence lines again.
OUTPUT_MARK = ".ovs-analyzer-output"


def dir_entries(root: Path) -> Iterator[Entry]:
    """Regular files under a folder, sorted; links are reported, never followed; an output folder
    below `root` (see `OUTPUT_MARK`) is reported as one `output` entry, its files not read."""
    paths = sorted(root.rglob("*"))
    outputs = {path.parent for path in paths if path.name == OUTPUT_MARK and path.parent != root}
    for path in paths:
        if path in outputs:
            yield Entry(name=path.relative_to(root).as_posix(), kind="output", size=0, mtime=0.0, offset=None,
                        open=path.open)  # type: ignore[arg-type]
            continue
        if outputs and not outputs.isdisjoint(path.parents):
            continue
        if path.is_symlink():
            kind = "link"
        elif path.is_file():
            kind = "file"
        elif path.is_dir():
            continue
        else:
            kind = "other"
        try:
            stat = path.lstat()
        except OSError:
            kind, stat = "other", None
        if stat is None:
            yield Entry(name=path.relative_to(root).as_posix(), kind=kind, size=0, mtime=0.0, offset=None,
                        open=path.open)  # type: ignore[arg-type]
            continue
        yield Entry(name=path.relative_to(root).as_posix(), kind=kind, size=stat.st_size, mtime=stat.st_mtime,
                    offset=None, open=lambda path=path: path.open("rb"))  # type: ignore[misc]

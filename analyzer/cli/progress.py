"""A progress bar for long analyses (and parses), on a terminal only.

A bar that flashes by on a small bundle is noise, and one written into a pipe or a captured
test output is garbage: the bar appears only when stderr is a terminal and the analysis has
already taken `delay` seconds. It moves member by member (bytes of the bundle analyzed); for
a compressed archive the total is unknown up front, so it shows bytes and speed without a bar end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from analyzer.reading.bundle import Member

_TAR_MAGIC = b"ustar"


class BundleProgress:
    """Counts analyzed member bytes; draws the bar once the analysis is slow enough to need one."""

    def __init__(self, total: int | None, console: Console, delay: float = 1.5, doing: str = "analyzing") -> None:
        self.total = total
        self.console = console
        self.delay = delay
        self.doing = doing
        self.done = 0
        self._started = time.monotonic()
        self._bar: Progress | None = None
        self._task = None

    def __call__(self, member: Member) -> None:
        """One more member analyzed."""
        self.done += member.stored_size
        self.step(member.path)

    def step(self, description: str) -> None:
        """Say what is being done now (a member's path, or the work after the last member)."""
        if self._bar is None and self.console.is_terminal and time.monotonic() - self._started >= self.delay:
            self._bar = Progress(
                TextColumn(self.doing), BarColumn(), DownloadColumn(binary_units=True),
                TransferSpeedColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
                console=self.console, transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=self.total)
        if self._bar is not None and self._task is not None:
            done = min(self.done, self.total) if self.total else self.done  # nested bundles re-read the file
            self._bar.update(self._task, completed=done, description=description)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def bundle_bytes(path: Path) -> int | None:
    """What the members of an uncompressed tar or a folder add up to (about); None when compressed."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    if not path.is_file():
        return None  # a pipe would be drained (or block) here: the analysis refuses it
    try:
        with path.open("rb") as fh:
            fh.seek(257)
            return path.stat().st_size if fh.read(len(_TAR_MAGIC)) == _TAR_MAGIC else None
    except OSError:
        return None


@contextmanager
def bundle_progress(path: Path, console: Console | None = None, doing: str = "analyzing") -> Iterator[BundleProgress]:
    """A progress callback for `pipeline.analyze` or `events.write_events`, on stderr, removed when
    the block ends."""
    progress = BundleProgress(bundle_bytes(path), console or Console(stderr=True), doing=doing)
    try:
        yield progress
    finally:
        progress.close()

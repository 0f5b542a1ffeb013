"""Progress of a triage batch: a live bar on a terminal, one plain line per bundle otherwise (CI logs,
pipes); both on stderr, so stdout holds only the result."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from analyzer.printable import visible


class PlainProgress:
    """One line per finished bundle: position, name, outcome, time; no control characters."""

    def __init__(self, total: int, total_bytes: int):
        self.total, self.done, self.bytes, self.started = total, 0, 0, time.perf_counter()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, rows: list[dict[str, Any]], size: int) -> None:
        """One input done: a line per row (a bundle of bundles has one per node)."""
        self.done += 1
        self.bytes += size
        rate = self.bytes / 2**20 / max(time.perf_counter() - self.started, 1e-6)
        for row in rows:
            outcome = f"error: {row['error']}" if row["status"] == "error" else \
                f"{row['worst']}, {row['findings_total']} findings"
            typer.echo(visible(f"[{self.done}/{self.total}] {row['bundle']}: {outcome} ({row['seconds']:.1f} s; "
                               f"{rate:.1f} MiB/s overall)"), err=True)


class BarProgress:
    """A rich progress bar on stderr: bundles done, MiB/s read, time left."""

    def __init__(self, total: int, total_bytes: int, console: Any = None):
        """`console`: where to draw (stderr's terminal unless given)."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
        from rich.table import Column
        from rich.text import Text

        class MibPerSecond(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                return Text(f"{(speed or 0) / 2**20:6.1f} MiB/s")

        # one line on an 80-column terminal: a short bar, and the last bundle's name cut to what is left
        last = Column(no_wrap=True, overflow="ellipsis", ratio=1, min_width=0)
        self.progress = Progress(
            TextColumn("triage"), BarColumn(bar_width=16),
            TextColumn("{task.fields[done]}/{task.fields[bundles]} bundles"),
            MibPerSecond(), TextColumn("ETA"), TimeRemainingColumn(),
            TextColumn("{task.fields[last]}", table_column=last),
            console=console or Console(stderr=True), transient=False, expand=True,
        )
        self.task = self.progress.add_task("triage", total=max(total_bytes, 1), done=0, bundles=total, last="")

    def __enter__(self) -> BarProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self, rows: list[dict[str, Any]], size: int) -> None:
        done = self.progress.tasks[0].fields["done"] + 1
        self.progress.update(self.task, advance=size, done=done, last=rows[-1]["bundle"])


def progress_for(total: int, total_bytes: int) -> PlainProgress | BarProgress:
    return BarProgress(total, total_bytes) if sys.stderr.isatty() else PlainProgress(total, total_bytes)

"""Where an analysis spends its time, measured per stage (`ovs-analyzer analyze --timings`).

Code marks its work with `with stage("parse"):`; the marks cost nothing unless a `Timings`
is recording (a context variable, so no recorder has to be threaded through every call).
Stages nest: a stage's time excludes the stages opened inside it, so the figures add up to
the wall time of the recorded block and nothing is counted twice. What no stage covers is
reported as `other`. Work run on a helper thread at the same time (`lane`) is counted apart,
as its own block of rows: it overlaps the main thread's stages, so it cannot share their sum.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
_ACTIVE: ContextVar[Timings | None] = ContextVar("ovs_analyzer_timings", default=None)
_LANE: ContextVar[str] = ContextVar("ovs_analyzer_timings_lane", default="")


@dataclass
class Timings:
    """Exclusive seconds per stage, in first-seen order, plus the recorded block's wall time.

    `seconds` holds the main thread's stages; `lanes` the stages of each helper-thread lane.
    """

    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    lanes: dict[str, dict[str, float]] = field(default_factory=dict)
    #: per thread, per open stage: [start, time of children]
    _open: dict[int, list[list[float]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, exclusive: float, lane: str = "") -> None:
        with self._lock:
            seconds = self.lanes.setdefault(lane, {}) if lane else self.seconds
            seconds[name] = seconds.get(name, 0.0) + exclusive

    def rows(self) -> list[tuple[str, float]]:
        """(stage, seconds) of the main thread with `other` for the unmarked remainder and `total` last."""
        other = max(self.wall - sum(self.seconds.values()), 0.0)
        return [*self.seconds.items(), ("other", other), ("total", self.wall)]

    def table(self) -> str:
        """A small fixed-width table: stage, seconds, share of the wall time; lanes below the total."""
        lines = ["stage                  seconds  share"]

        def row(name: str, secs: float) -> str:
            share = secs / self.wall * 100 if self.wall else 0.0
            return f"{name:<20} {secs:>9.2f}  {share:>4.0f}%"

        lines.extend(row(name, secs) for name, secs in self.rows())
        for lane, seconds in self.lanes.items():
            lines.append(f"# {lane}, at the same time as the stages above:")
            lines.extend(row(name, secs) for name, secs in seconds.items())
        return "\n".join(lines)


@contextmanager
def recording() -> Iterator[Timings]:
    """Record the stages of the block; the block's own wall time becomes `total`."""
    timings = Timings()
    token = _ACTIVE.set(timings)
    start = time.perf_counter()
    try:
        yield timings
    finally:
        timings.wall = time.perf_counter() - start
        _ACTIVE.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Count the block's time (minus nested stages) under `name`, when something records."""
    timings = _ACTIVE.get()
    if timings is None:
        yield
        return
    opened = timings._open.setdefault(threading.get_ident(), [])
    frame = [time.perf_counter(), 0.0]
    opened.append(frame)
    try:
        yield
    finally:
        opened.pop()
        elapsed = time.perf_counter() - frame[0]
        timings.add(name, elapsed - frame[1], _LANE.get())
        if opened:
            opened[-1][1] += elapsed


def measured(name: str, seconds: float) -> None:
    """Count `seconds` that something measured itself (the compiled core, which cannot open a
    stage) under `name`, as a stage nested in the one open on this thread."""
    timings = _ACTIVE.get()
    if timings is None:
        return
    timings.add(name, seconds, _LANE.get())
    opened = timings._open.get(threading.get_ident())
    if opened:
        opened[-1][1] += seconds


@contextmanager
def lane(name: str) -> Iterator[None]:
    """Count the stages of the block (run on a helper thread) in their own lane `name`."""
    token = _LANE.set(name)
    try:
        yield
    finally:
        _LANE.reset(token)


def timed(iterator: Iterator[T], name: str) -> Iterator[T]:
    """Yield from `iterator`, counting the time spent producing each item under `name`."""
    while True:
        with stage(name):
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item
        del item  # hold no reference while the next item is produced (a member can be large)

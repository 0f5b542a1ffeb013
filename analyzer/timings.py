"""Where an analysis spends its time, measured per stage (`ovs-analyzer analyze --timings`).

Code marks its work with `with stage("parse"):`; the marks cost nothing unless a `Timings`
is recording (a context variable, so no recorder has to be threaded through every call).
Stages nest: a stage's time excludes the stages opened inside it, so the figures add up to
the wall time of the recorded block and nothing is counted twice. What no stage covers is
reported as `other`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
_ACTIVE: ContextVar[Timings | None] = ContextVar("ovs_analyzer_timings", default=None)


@dataclass
class Timings:
    """Exclusive seconds per stage, in first-seen order, plus the recorded block's wall time."""

    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    _open: list[list[float]] = field(default_factory=list)  # per open stage: [start, time of children]

    def add(self, name: str, exclusive: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + exclusive

    def rows(self) -> list[tuple[str, float]]:
        """(stage, seconds) with `other` for the unmarked remainder and `total` last."""
        other = max(self.wall - sum(self.seconds.values()), 0.0)
        return [*self.seconds.items(), ("other", other), ("total", self.wall)]

    def table(self) -> str:
        """A small fixed-width table: stage, seconds, share of the wall time."""
        lines = ["stage          seconds  share"]
        for name, secs in self.rows():
            share = secs / self.wall * 100 if self.wall else 0.0
            lines.append(f"{name:<12} {secs:>9.2f}  {share:>4.0f}%")
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
    frame = [time.perf_counter(), 0.0]
    timings._open.append(frame)
    try:
        yield
    finally:
        timings._open.pop()
        elapsed = time.perf_counter() - frame[0]
        timings.add(name, elapsed - frame[1])
        if timings._open:
            timings._open[-1][1] += elapsed


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

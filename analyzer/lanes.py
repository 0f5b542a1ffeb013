"""Two cores at work on one bundle: a chunk's rules, aggregates and collectors run on a helper
thread while the main thread reads and parses the next chunk.

The two halves of the per-chunk work cost about the same, and Polars releases the GIL while
it computes, so overlapping them uses the second core without a second process (no copies of
event tables between processes, one RSS to account for). At most `AHEAD` parsed chunks wait
for the lane, which bounds memory to about two chunks' events whatever the bundle's size.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import ParamSpec, TypeVar

from analyzer.timings import lane, stage

P = ParamSpec("P")
R = TypeVar("R")
#: Parsed chunks allowed to wait while the lane works on one.
AHEAD = 1
LANE_NAME = "analysis thread"


class AnalysisLane:
    """A single helper thread with a short queue; `submit` blocks while the queue is full."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ovs-analysis")
        self._queued: deque[Future[object]] = deque()

    def submit(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        """Run `work` on the lane (in a copy of the caller's context, so its stages are timed)."""
        while len(self._queued) >= AHEAD:
            with stage("wait for analysis"):
                self._queued.popleft().result()  # re-raises the lane's error here, on the main thread
        future = self._pool.submit(contextvars.copy_context().run, _in_lane, work, *args, **kwargs)
        self._queued.append(future)  # type: ignore[arg-type]
        return future

    def __enter__(self) -> AnalysisLane:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=error is not None)


def _in_lane(work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    with lane(LANE_NAME):
        return work(*args, **kwargs)

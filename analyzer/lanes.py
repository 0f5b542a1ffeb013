"""Two cores at work on one bundle: a helper thread (the lane) runs work beside the main thread.

In `analyze`, a chunk's rules, aggregates and collectors run on the lane while the main thread
reads and parses the next chunk. The two halves cost about the same, and Polars releases the
GIL while it computes, so overlapping them uses the second core without a second process (no
copies of event tables between processes, one RSS to account for). At most `AHEAD` parsed
chunks wait for the lane, which bounds memory to about two chunks' events whatever the bundle's
size. In `parse`, two lane threads parse members while the main thread reads the next.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import ParamSpec, TypeVar

from analyzer.timings import lane, stage

P = ParamSpec("P")
R = TypeVar("R")
#: Work allowed to wait while the lane runs something.
AHEAD = 1


class Lane:
    """Helper threads (one unless asked) with a short queue; `submit` blocks while it is full.

    One thread runs the work in the order submitted (analysis chunks rely on it). With n threads
    up to `AHEAD + n - 1` items are in the lane, and a full lane makes room as soon as any of
    them finishes, so a long item does not idle the other threads.
    `purpose` names the timings: the main thread's "wait for <purpose>" stage, and the lane's
    own block of stages ("<purpose> thread(s)", summed over its threads), apart since they overlap the
    main thread's."""

    def __init__(self, purpose: str = "analysis", workers: int = 1) -> None:
        self._purpose = purpose
        self._ahead = AHEAD + workers - 1
        self._block = f"{purpose} thread{'s' if workers > 1 else ''}"  # summed over them
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"ovs-{purpose}")
        self._queued: set[Future[object]] = set()

    def submit(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        """Run `work` on the lane (in a copy of the caller's context, so its stages are timed)."""
        while len(self._queued) >= self._ahead:
            with stage(f"wait for {self._purpose}"):
                done, _ = wait(self._queued, return_when=FIRST_COMPLETED)
            for finished in done:
                self._queued.discard(finished)
                finished.result()  # re-raises the lane's error here, on the main thread
        future = self._pool.submit(contextvars.copy_context().run, self._in_lane, work, *args, **kwargs)
        self._queued.add(future)  # type: ignore[arg-type]
        return future

    def _in_lane(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        with lane(self._block):
            return work(*args, **kwargs)

    def __enter__(self) -> Lane:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=error is not None)

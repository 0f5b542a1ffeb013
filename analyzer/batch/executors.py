"""Where the per-bundle work runs: a local pool of real processes, or an existing Dask cluster.

Both take a top-level function and its arguments and yield results as they complete, so the
triage loop (progress, rows, outputs) is the same whichever runs the work.

- local: `ProcessPoolExecutor` with the `spawn` context (no forked copy of the parent's Polars
  thread pool), one worker per core by default. Workers are not recycled: with
  `max_tasks_per_child` the pool of Python 3.11 hung for good once a worker retired (seen here
  with --jobs 1); a bundle's memory is bounded by `bundle.Caps` and freed when its analysis returns.
- dask: `distributed.Client(ADDRESS)`; the workers must see the bundle and output paths (same
  machine or a shared file system) and have ovs-analyzer installed (`pip install ovs-analyzer[dask]`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from analyzer.errors import UserError

T = TypeVar("T")
EXECUTORS = ("local", "dask")


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_each(fn: Callable[[Any], T], items: Sequence[Any], failed: Callable[[Any, BaseException], T],
             executor: str = "local", jobs: int | None = None, scheduler: str | None = None) -> Iterator[T]:
    """Yield `fn(item)` for every item, in completion order, on the chosen executor.

    `fn` is expected to turn its own errors into a result; `failed(item, exc)` makes the result
    when the worker itself could not return one (killed for lack of memory, lost node, ...).
    """
    if executor == "local":
        yield from _local(fn, items, failed, jobs or default_jobs())
    elif executor == "dask":
        if not scheduler:
            raise UserError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
        yield from _dask(fn, items, failed, scheduler)
    else:
        raise UserError(f"--executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")


def _local(fn: Callable[[Any], T], items: Sequence[Any], failed: Callable[[Any, BaseException], T],
           jobs: int) -> Iterator[T]:
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, not {jobs}")
    workers = min(jobs, max(len(items), 1))
    threads = max(1, default_jobs() // workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_share_cores, initargs=(threads,)) as pool:
        futures = {pool.submit(fn, item): item for item in items}
        try:
            for future in as_completed(futures):
                yield _outcome(future, futures[future], failed)
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _share_cores(threads: int) -> None:
    """Runs first in each worker, before Polars is imported: its thread pool gets this worker's
    share of the cores, so N workers do not run N x cores threads (the usual Polars default)."""
    os.environ.setdefault("POLARS_MAX_THREADS", str(threads))


def _dask(fn: Callable[[Any], T], items: Sequence[Any], failed: Callable[[Any, BaseException], T],
          scheduler: str) -> Iterator[T]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UserError("--executor dask needs the dask extra: pip install 'ovs-analyzer[dask]'") from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise UserError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        futures = {client.submit(fn, item, pure=False): item for item in items}
        for future in dask_completed(list(futures)):
            yield _outcome(future, futures[future], failed)


def _outcome(future: Any, item: Any, failed: Callable[[Any, BaseException], T]) -> T:
    try:
        return future.result()
    except Exception as exc:  # the worker died or was lost: that item fails, the batch goes on
        return failed(item, exc)

"""Giving the C heap's free pages back to the system before an analysis combines what it kept.

The compiled core's tables and Python's large buffers (a member's bytes, a block of lines) come
from the C library's heap, and glibc keeps the pages they freed for later allocations from that
heap. What the combine builds comes from Polars' own allocator, which cannot reuse them: on a
large bundle they were hundreds of MB beside the combine's own peak. So they are given back once
the members are read (`malloc_trim`). With another C library this does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def release_free_heap() -> None:
    """Return the C heap's free pages to the system (glibc), a few milliseconds' work."""
    if _TRIM is not None:
        _TRIM(0)

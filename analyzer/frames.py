"""Small frames that stay small once the big frame they came from is gone."""

from __future__ import annotations

import io

import polars as pl


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of `frame` that owns just the bytes its rows use.

    Polars' string columns are views into the buffers of the frame they were filtered from, so
    the few hits kept from a chunk of a member would keep the whole chunk's text alive, and
    memory would grow member after member. An in-memory Arrow IPC round trip writes and reads
    back only the bytes the rows refer to; for the small frames kept per member it costs little.
    """
    if frame.width == 0:
        return frame
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    buffer.seek(0)
    return pl.read_ipc(buffer)

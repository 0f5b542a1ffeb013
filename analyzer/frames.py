"""Small frames that stay small once the big frame they came from is gone."""

from __future__ import annotations

import io

import polars as pl


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of `frame` that owns just the bytes its rows use.

    Polars' string columns are views into the buffers of the frame they were filtered from, and
    a sliced column shares its parent's buffer, so the few hits kept from a chunk of a member
    would keep the whole chunk's text alive, and memory would grow member after member. Each
    column is rebuilt instead: strings by concatenation (which writes new strings), anything
    else by a gather (which writes a new buffer). A column type this does not know how to copy
    goes through an in-memory Arrow IPC round trip, which writes and reads back only the bytes
    the rows refer to, but costs about twice as much.
    """
    if frame.width == 0:
        return frame
    copies = [_owned(name, dtype) for name, dtype in frame.schema.items()]
    if any(copy is None for copy in copies):
        buffer = io.BytesIO()
        frame.write_ipc(buffer)
        buffer.seek(0)
        return pl.read_ipc(buffer)
    return frame.select(copies)  # type: ignore[arg-type]


def _owned(name: str, dtype: pl.DataType) -> pl.Expr | None:
    """An expression giving a freshly written copy of column `name`, or None for nested types other
    than lists of strings."""
    column = pl.col(name)
    if dtype == pl.String:
        return (column + pl.lit("")).alias(name)
    if dtype == pl.List(pl.String):
        return column.list.eval(pl.element() + pl.lit("")).alias(name)
    if dtype.is_nested() or dtype in (pl.Binary, pl.Object):
        return None
    return column.gather(pl.int_range(pl.len())).alias(name)

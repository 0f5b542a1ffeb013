"""Small frames that stay small once the big frame they came from is gone, and small in memory
until the end of an analysis."""

from __future__ import annotations

import io
import itertools
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

#: A kept frame larger than this is compressed; a smaller one is only copied (reading many small
#: compressed frames back costs more than the memory they would save).
PACK_BYTES = 256 * 1024


@dataclass(frozen=True)
class Packed:
    """A frame kept until the end of an analysis, owning just the bytes of its rows, compressed
    when it is large.

    A large kept frame is written to zstd-compressed Arrow IPC in memory: the text most of them
    carry (task lines, hits, unexplained errors) compresses several times over, so what an
    analysis keeps of a large bundle weighs far less while the rest of it is read. It is read back
    once, when the analysis combines what it kept. A small one is `detached` instead.
    """

    height: int
    #: The frame as Arrow IPC, when it was large enough to compress.
    data: bytes | None = None
    #: The frame itself, when it was not.
    frame: pl.DataFrame | None = None

    @classmethod
    def of(cls, frame: pl.DataFrame) -> Packed:
        if frame.width == 0 or frame.estimated_size() < PACK_BYTES:
            return cls(frame.height, frame=detached(frame))
        buffer = io.BytesIO()
        frame.write_ipc(buffer, compression="zstd")
        return cls(frame.height, data=buffer.getvalue())

    def unpack(self, columns: Collection[str] | None = None, drop: Collection[str] = ()) -> pl.DataFrame:
        """The frame as it was packed: only those of `columns` it has when they are given, never
        those in `drop` (a compressed frame reads back only the columns asked for)."""
        names = self.frame.columns if self.frame is not None else list(pl.read_ipc_schema(io.BytesIO(self.data)))
        wanted = [c for c in names if (columns is None or c in columns) and c not in drop]
        if self.frame is not None:
            return self.frame if wanted == names else self.frame.select(wanted)
        return pl.read_ipc(self.data, columns=wanted if wanted != names else None)


def unpack_all(packed: list[Packed], columns: Collection[str] | None = None,
               drop: Collection[str] = ()) -> list[pl.DataFrame]:
    """Each frame as it was packed (see `Packed.unpack`), read on two threads: reading back the
    many frames of one kind one after the other was most of the time an analysis took to combine
    them."""
    def unpack(p: Packed) -> pl.DataFrame:
        return p.unpack(columns, drop)

    if sum(p.data is not None for p in packed) < 2:
        return [unpack(p) for p in packed]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ovs-unpack") as pool:
        return list(pool.map(unpack, packed))


def gather_rows(parts: list[Packed], column: str, rows: pl.Series) -> pl.Series:
    """`column` at `rows` (see `gather_columns`)."""
    return gather_columns(parts, (column,), rows)[column]


def gather_columns(parts: list[Packed], columns: Sequence[str], rows: pl.Series) -> pl.DataFrame:
    """`columns` at `rows` (row numbers of the parts' rows one after the other; a null row gives
    nulls), read back from the parts that hold them, one part at a time: columns of text that only
    a few rows need in the end are never whole in memory. A column no part has is all null text."""
    ends = pl.Series(list(itertools.accumulate(p.height for p in parts)), dtype=pl.Int64)
    wanted = pl.DataFrame({"row": rows.cast(pl.Int64)}).with_row_index("at").drop_nulls("row")
    wanted = wanted.with_columns(part=ends.search_sorted(wanted["row"], side="right"))
    found = []
    for (part,), picked in wanted.group_by("part"):
        start = int(ends[part]) - parts[part].height
        values = parts[part].unpack(columns=columns)
        found.append(picked.select("at", *[values[c].gather(picked["row"] - start) for c in values.columns]))
    gathered = pl.concat(found, how="diagonal_relaxed") if found else pl.DataFrame(schema={"at": pl.UInt32})
    gathered = gathered.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in columns
                                     if c not in gathered.columns)
    return pl.DataFrame({"at": pl.int_range(rows.len(), dtype=pl.UInt32, eager=True)}) \
        .join(gathered, on="at", how="left", maintain_order="left").select(columns)


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

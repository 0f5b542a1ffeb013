"""detached: a small frame kept per member is an exact copy that no longer shares the chunk's buffers."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from polars.testing import assert_frame_equal

from analyzer.frames import detached


def _chunk() -> pl.DataFrame:
    rows = 1000
    return pl.DataFrame({
        "raw": [f"2017-03-14 10:22:05 record number {i} with enough text to live in a buffer" for i in range(rows)],
        "host": ["n1" if i % 3 else None for i in range(rows)],
        "line": pl.Series(range(1, rows + 1), dtype=pl.UInt32),
        "ts_local": [datetime(2017, 3, 14, 10, i % 60) for i in range(rows)],
        "level": pl.Series(["info", "error"] * (rows // 2), dtype=pl.Enum(["info", "error"])),
        "context_before": [[f"line {i - 1}", None] if i % 7 else None for i in range(rows)],
    })


def test_a_filtered_or_sliced_frame_detaches_to_an_equal_frame_of_the_same_types():
    chunk = _chunk()
    for kept in (chunk.filter(pl.col("line") % 97 == 0), chunk.head(5), chunk.clear()):
        assert_frame_equal(detached(kept), kept)


def test_column_types_it_cannot_copy_itself_go_through_the_ipc_round_trip():
    kept = _chunk().select(pl.struct("raw", "line").alias("s"), "host").filter(pl.col("s").struct.field("line") < 4)
    assert_frame_equal(detached(kept), kept)


def test_a_frame_without_columns_is_returned_as_is():
    assert detached(pl.DataFrame()).shape == (0, 0)

"""Packed: a frame kept per member is an exact copy that no longer shares the chunk's buffers,
compressed when it is large."""

from __future__ import annotations

import io
from datetime import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analyzer import frames
from analyzer.frames import Packed, gather_columns, gather_rows


def _chunk(rows: int = 1000) -> pl.DataFrame:
    return pl.DataFrame({
        "raw": [f"2017-03-14 10:22:05 record number {i} with enough text to live in a buffer" for i in range(rows)],
        "host": ["n1" if i % 3 else None for i in range(rows)],
        "line": pl.Series(range(1, rows + 1), dtype=pl.UInt32),
        "ts_local": [datetime(2017, 3, 14, 10, i % 60) for i in range(rows)],
        "level": pl.Series(["info", "error"] * (rows // 2), dtype=pl.Enum(["info", "error"])),
        "context_before": [[f"line {i - 1}", None] if i % 7 else None for i in range(rows)],
        "s": [{"a": i, "b": "x"} for i in range(rows)],
    })


@pytest.mark.parametrize("compressed", [False, True], ids=["copied", "compressed"])
def test_a_filtered_or_sliced_frame_unpacks_to_an_equal_frame_of_the_same_types(monkeypatch, compressed):
    monkeypatch.setattr(frames, "PACK_BYTES", 0 if compressed else 1 << 40)
    chunk = _chunk()
    for kept in (chunk.filter(pl.col("line") % 97 == 0), chunk.head(5), chunk.clear()):
        packed = Packed.of(kept)
        assert packed.height == kept.height
        assert (packed.data is not None) == compressed
        assert_frame_equal(packed.unpack(), kept)


def test_a_large_kept_frame_is_compressed_and_a_small_one_only_copied():
    large = _chunk(20_000).filter(pl.col("line") % 2 == 0)
    assert large.estimated_size() >= frames.PACK_BYTES
    packed = Packed.of(large)
    assert packed.data is not None and len(packed.data) < large.estimated_size() / 3
    small = _chunk(20_000).head(10)
    assert Packed.of(small).data is None


def test_a_frame_without_columns_packs_as_it_is():
    assert Packed.of(pl.DataFrame()).unpack().shape == (0, 0)


@settings(max_examples=60, deadline=None)
@given(heights=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=6),
       compressed=st.lists(st.booleans(), min_size=6, max_size=6), data=st.data())
def test_gathering_rows_back_from_the_parts_gives_what_their_concatenation_holds(heights, compressed, data):
    """Any rows, in any order, repeated or null, of parts packed either way."""
    texts = [[f"part {p} row {r}" if r % 4 else None for r in range(h)] for p, h in enumerate(heights)]
    parts = []
    for text, packed in zip(texts, compressed, strict=False):
        frame = pl.DataFrame({"n": range(len(text)), "text": pl.Series(text, dtype=pl.String)})
        buffer = io.BytesIO()
        frame.write_ipc(buffer, compression="zstd")
        parts.append(Packed(frame.height, data=buffer.getvalue()) if packed else Packed(frame.height, frame=frame))
    whole = [t for text in texts for t in text]
    rows = data.draw(st.lists(st.none() | st.integers(min_value=0, max_value=len(whole) - 1), max_size=40)
                     if whole else st.lists(st.none(), max_size=3))
    got = gather_rows(parts, "text", pl.Series(rows, dtype=pl.UInt32))
    assert got.to_list() == [None if r is None else whole[r] for r in rows]


def test_several_columns_of_any_type_are_gathered_at_once_and_a_column_a_part_lacks_is_null_there():
    first = pl.DataFrame({"raw": ["a0", "a1"], "context_before": [["x", "y"], None]})
    second = pl.DataFrame({"raw": ["b0", "b1", "b2"]})  # a part without context
    parts = [Packed.of(first), Packed.of(second)]
    got = gather_columns(parts, ("raw", "context_before", "context_after"), pl.Series([4, None, 0, 1, 2]))
    assert got.columns == ["raw", "context_before", "context_after"]
    assert got["raw"].to_list() == ["b2", None, "a0", "a1", "b0"]
    assert got["context_before"].to_list() == [None, None, ["x", "y"], None, None]
    assert got["context_after"].to_list() == [None] * 5, "a column no part has is null"

"""A member is parsed a bounded chunk at a time: by bytes, and by lines for a member of short lines."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from analyzer.parsing import chunks
from analyzer.parsing.context import ParseContext
from analyzer.parsing.member import parse_member

LINE = "2017-03-14 10:22:{s:02d} 04700 +0100 - ovs-node1 - 1/2 - lib/x - 3 - INFO - m{i}"


def _member(lines: int) -> bytes:
    """Records with an empty line between each: a line-dense member in few bytes."""
    return "".join(f"{LINE.format(s=i % 60, i=i)}\n\n" for i in range(lines // 2)).encode()


def test_a_member_of_many_short_lines_is_cut_by_lines_and_reads_as_it_does_whole(formats, monkeypatch):
    text = _member(5000)
    whole = parse_member("var/log/ovs/lib.log", text, formats, ParseContext(year=2017))
    monkeypatch.setattr(chunks, "CHUNK_LINES", 700)
    parts = list(chunks.parse_chunks("var/log/ovs/lib.log", text, formats, ParseContext(year=2017)))
    assert len(parts) >= 5000 // 700, "a member under CHUNK_BYTES but over CHUNK_LINES is chunked"
    assert all(part.lines <= 700 + 700 // 4 for part in parts), "a rest under a quarter joins the last chunk"
    assert sum(part.lines for part in parts) == whole.lines == 5000, "every physical line is counted once"
    assert_frame_equal(pl.concat([part.events for part in parts]), whole.events)


def test_a_streamed_block_of_many_short_lines_is_cut_by_lines_too(formats, monkeypatch):
    text = _member(3000)
    monkeypatch.setattr(chunks, "CHUNK_LINES", 500)
    cut = text.index(b"\n", len(text) // 2) + 1  # blocks end on a line end, as the stream hands them
    blocks = iter([text[:cut], text[cut:]])
    parts = list(chunks.parse_chunks("var/log/ovs/lib.log", blocks, formats, ParseContext(year=2017)))
    assert all(part.lines <= 500 for part in parts)
    assert sum(part.lines for part in parts) == 3000
    assert sum(part.events.height for part in parts) == 1500

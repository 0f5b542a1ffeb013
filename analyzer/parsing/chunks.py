"""A large member parsed a chunk of whole records at a time, so memory follows the chunk."""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from dataclasses import replace
from itertools import chain

import polars as pl

from analyzer.parsing.context import ChunkCarry, ParseContext
from analyzer.parsing.formats import FormatSpec
from analyzer.parsing.member import ParsedMember, format_counts, parse_lines, parse_member, split_lines
from analyzer.parsing.pasted import (
    glued_count,
)
from analyzer.reading.text import line_blocks, looks_binary

#: Members larger than this are parsed a chunk of whole records at a time: memory follows the chunk.
CHUNK_BYTES = 16 * 1024**2
#: ... and so are members of more lines than this: a chunk's tables grow with its lines, and a
#: member of empty or very short lines (a hostile or broken one) holds millions in a few MiB.
#: Real log lines are far longer than CHUNK_BYTES / CHUNK_LINES bytes on average.
CHUNK_LINES = 1 << 18


def parse_chunks(source: str, text: bytes | Iterator[bytes], formats: list[FormatSpec], ctx: ParseContext,
                 chunk_bytes: int | None = None) -> Iterator[ParsedMember]:
    """Parse a member as consecutive chunks of about `chunk_bytes` and no more than about
    `CHUNK_LINES` lines (a rest under a quarter of that joins the chunk before; one record longer
    than a chunk stays whole), each a `ParsedMember` of whole records.

    `text` is the whole member, or its blocks of whole lines as they are read (a streamed member).
    A chunk ends on a line end; the lines of its last record are held back and parsed again at
    the start of the next chunk, so a multi-line record is never cut (a record larger than a chunk
    makes its chunk grow); they are carried as lines, so every byte is split into lines once.
    Line numbers count from the member's start, the stated host and year roll-overs carry over;
    each chunk picks its formats from its own sample of lines. Unlike a whole member,
    a chunk fills missing hosts from the hosts stated so far, not from later chunks. A member no larger
    than `chunk_bytes` (default `CHUNK_BYTES`) and of no more than `CHUNK_LINES` lines is one chunk,
    parsed exactly as `parse_member` parses it.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    if isinstance(text, bytes):
        if one_chunk(text, chunk_bytes):
            yield parse_member(source, text, formats, ctx)
            return
        # each block split into lines on its own: the lines of the whole member at once would hold its
        # text twice
        batches = _Batches(_block_batches(line_blocks(text, chunk_bytes)))
    else:
        first = next(text, b"")
        if not first or looks_binary(first):
            for _ in text:  # read past it: a binary file is counted, not parsed
                pass
            yield parse_member(source, first, formats, ctx)  # nothing read, or binary
            return
        batches = _Batches(_block_batches(chain([first], text)))
    carry = ChunkCarry()
    first_line = 0  # lines of the member yielded so far
    held = pl.Series("text", [], dtype=pl.String)  # the lines of the record held back for the next chunk
    invalid = 0  # invalid UTF-8 read but not yet yielded
    size = chunk_bytes
    while True:
        read, read_invalid, last_piece = batches.take(size)
        parts = [part for part in (held, *read) if part.len()]
        if not parts:
            return
        lines = parts[0] if len(parts) == 1 else pl.concat(parts)
        invalid += read_invalid
        before = deepcopy(carry)
        parsed = parse_lines(source, lines, invalid, formats, replace(ctx, carry=carry), first_line)
        if not last_piece:
            last = int(parsed.events["line"][-1]) - first_line  # 1-based in the chunk
            if last == 1:  # one record fills the chunk: read on until it ends
                held, carry, size = lines, before, size * 2
                continue
            held = lines.slice(last - 1)  # a view: the held lines are not split again
            parsed = _without_last_record(parsed, last - 1)
        yield parsed
        if last_piece:
            return
        first_line, invalid, size = first_line + parsed.lines, 0, chunk_bytes


def one_chunk(text: bytes, chunk_bytes: int | None = None) -> bool:
    """Whether `parse_chunks` parses this whole member as one chunk (a binary file always is)."""
    return (len(text) <= (chunk_bytes or CHUNK_BYTES) and text.count(b"\n") <= CHUNK_LINES) or looks_binary(text)


#: One batch of a member's lines: the lines, about how many bytes they held, invalid UTF-8 replaced in them.
_Batch = tuple[pl.Series, int, int]


def _block_batches(blocks: Iterator[bytes]) -> Iterator[_Batch]:
    """A streamed member's blocks of whole lines (about a chunk each, see `member_stream.BLOCK_BYTES`),
    each split as it comes and cut into slices of at most `CHUNK_LINES` lines: no block is joined
    to another or copied."""
    for block in blocks:
        if not block:
            continue
        lines, invalid = split_lines(block)
        if lines.len() <= CHUNK_LINES:
            yield lines, len(block), invalid
            continue
        for start in range(0, lines.len(), CHUNK_LINES):
            piece = lines.slice(start, CHUNK_LINES)
            yield piece, int(piece.str.len_bytes().sum()) + piece.len(), invalid if start == 0 else 0


class _Batches:
    """A member's line batches, taken a chunk's worth at a time; one batch is read ahead to tell the last."""

    def __init__(self, batches: Iterator[_Batch]) -> None:
        self._batches = batches
        self._next = next(batches, None)

    def take(self, size: int) -> tuple[list[pl.Series], int, bool]:
        """Batches holding at least three quarters of `size` bytes, or as many as fit in
        `CHUNK_LINES` lines (at least one batch; all of them if the member ends first), the invalid
        UTF-8 replaced in them, and whether they are the last."""
        taken: list[pl.Series] = []
        got = invalid = lines_taken = 0
        while self._next is not None:
            lines, count, replaced = self._next
            if taken and (got >= size - size // 4 or lines_taken + lines.len() > CHUNK_LINES):
                break
            taken.append(lines)
            got, invalid, lines_taken = got + count, invalid + replaced, lines_taken + lines.len()
            self._next = next(self._batches, None)
        return taken, invalid, self._next is None


def _without_last_record(parsed: ParsedMember, lines: int) -> ParsedMember:
    """The chunk minus its last record (it keeps its first `lines` lines), recounted; records
    glued on the last record's line go with it, since that whole line is parsed again."""
    events = parsed.events.head(parsed.events.height - 1)
    if parsed.glued:
        events = events.filter(pl.col("line") < parsed.events["line"][-1])
        return ParsedMember(source=parsed.source, events=events, lines=lines, invalid_utf8=parsed.invalid_utf8,
                            formats=format_counts(events), glued=glued_count(events))
    # one record less: its format counted once less (counting the chunk's formats again costs a pass)
    formats, last = dict(parsed.formats), parsed.events["format"][-1]
    if last is not None:
        formats[last] -= 1
        if not formats[last]:
            del formats[last]
    return ParsedMember(source=parsed.source, events=events, lines=lines, invalid_utf8=parsed.invalid_utf8,
                        formats=formats)

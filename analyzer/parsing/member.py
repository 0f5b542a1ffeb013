"""One member's text into its events, with the accounting that proves no line was lost.

Steps, each a Polars expression over every line at once (no Python loop per line):
decode -> split lines -> try each format's header regex on the lines still unexplained ->
build local timestamps and offsets -> assemble multi-line records -> re-parse the message of
wrapper formats (journald, syslog) that carry a whole OVS line inside.

Every physical line ends up in exactly one record: a line no format explains and that cannot
continue a record is kept as an `unparsed` record, never dropped.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field

import polars as pl

from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import FormatSpec
from analyzer.parsing.matching import (
    match_lines,
)
from analyzer.parsing.pasted import (
    glued_count,
    reread_pasted_lines,
    split_glued,
)
from analyzer.parsing.records import assemble_records, fold_journal_tracebacks
from analyzer.parsing.schema import (
    EVENT_SCHEMA,
    empty_events,
)
from analyzer.reading.text import looks_binary


@dataclass
class ParsedMember:
    """A member's events plus the accounting that proves no line was lost."""

    source: str
    events: pl.DataFrame
    lines: int = 0
    binary: bool = False
    invalid_utf8: int = 0
    #: Records split off the line they were glued to (`split_glued`): they share its line number.
    glued: int = 0
    formats: dict[str, int] = field(default_factory=dict)

    @property
    def unparsed(self) -> int:
        # counted on the one column: a filter would copy every column of the kept rows first
        return int(self.events.select((pl.col("parse_status") == "unparsed").sum()).item())


def split_lines(data: bytes) -> tuple[pl.Series, int]:
    """Decode as UTF-8 (invalid bytes replaced and counted) and split into physical lines.

    Polars' line reader splits and validates in Rust; only a file with invalid UTF-8 takes the
    slower road through Python's decoder, which replaces and counts the bad bytes.
    """
    invalid = 0
    try:
        lines = pl.read_lines(data, name="text")["text"]
    except pl.exceptions.ComputeError:
        text = data.decode("utf-8", errors="replace")
        invalid = text.count("\ufffd") - data.count("\ufffd".encode())
        lines = pl.read_lines(text.encode(), name="text")["text"]
    return (lines.str.strip_suffix("\r") if b"\r" in data else lines), invalid  # a copy only for CRLF files


def parse_member(source: str, data: bytes, formats: list[FormatSpec], ctx: ParseContext) -> ParsedMember:
    """Parse a whole member; see the module docstring for the steps."""
    if looks_binary(data):
        return ParsedMember(source=source, events=empty_events(), binary=True)
    lines, invalid = split_lines(data)
    return parse_lines(source, lines, invalid, formats, ctx)


def format_counts(events: pl.DataFrame) -> dict[str, int]:
    """Records per format, in the order the formats first appear: the inventory and findings.json
    list them in this order, and the same bundle must give the same bytes."""
    counts = events.group_by("format", maintain_order=True).len().drop_nulls("format")
    return dict(zip(counts["format"].to_list(), counts["len"].to_list(), strict=True))


def parse_lines(source: str, lines: pl.Series, invalid: int, formats: list[FormatSpec], ctx: ParseContext,
                first_line: int = 0) -> ParsedMember:
    """The records of `lines` (physical lines `first_line` + 1 on of the member; `invalid` UTF-8
    sequences were replaced in them)."""
    if lines.len() == 0:
        return ParsedMember(source=source, events=empty_events(), invalid_utf8=invalid)
    physical_lines = lines.len()
    before = deepcopy(ctx.carry)
    fields = match_lines(lines, formats, ctx)
    unglued = split_glued(lines, fields)
    if unglued is not None:
        lines, physical = unglued
        if ctx.carry is not None and before is not None:
            ctx.carry.restore(before)
        fields = match_lines(lines, formats, ctx)
    fields = reread_pasted_lines(lines, fields, formats, ctx)
    events = fold_journal_tracebacks(assemble_records(lines, fields, formats))
    if unglued is not None:  # back to the lines of the member
        events = events.with_columns(physical.gather(events["line"].cast(pl.Int64) - 1).alias("line"))
    stated = events["host"].drop_nulls().mode().sort()
    host = stated[0] if stated.len() else None
    if ctx.carry is not None:
        host = ctx.carry.host = host or ctx.carry.host
    stated_zone = pl.when(pl.col("ts_local").is_not_null()).then(pl.lit(ctx.naive_offset, dtype=pl.Int16))
    events = events.with_columns(
        pl.lit(source).alias("source"),
        pl.col("host").fill_null(pl.lit(host, dtype=pl.String)),
        pl.lit(_vpool_of(source), dtype=pl.String).alias("vpool"),
        pl.col("utc_offset").fill_null(stated_zone),
    )
    events = events.select(pl.col(c) if events.schema[c] == kind else pl.col(c).cast(kind)
                           for c, kind in EVENT_SCHEMA.items())  # a column no format filled is all null
    if first_line:
        events = events.with_columns(pl.col("line") + first_line)
    return ParsedMember(
        source=source,
        events=events,
        lines=physical_lines,
        invalid_utf8=invalid,
        formats=format_counts(events),
        glued=glued_count(events) if unglued is not None else 0,
    )


def _vpool_of(source: str) -> str | None:
    """`var/log/ovs/volumedriver/<vpool>.log`, `foc_<vpool>.log`, `dtl_<vpool>.log`."""
    parts = source.split("/")
    if len(parts) < 2 or parts[-2] != "volumedriver":
        return None
    stem = parts[-1].split(".log")[0]
    for prefix in ("foc_", "dtl_"):
        if stem.startswith(prefix):
            return stem[len(prefix):]
    if stem.startswith("metadataserver_"):
        return stem[len("metadataserver_"):].rsplit("_", 1)[0]
    return stem.removesuffix("_ganesha")

"""Members' text into their events, with the accounting that proves no line was lost.

Steps, each a Polars expression over every line at once (no Python loop per line):
decode -> split lines -> try each format's header regex on the lines still unexplained ->
build local timestamps and offsets -> assemble multi-line records -> re-parse the message of
wrapper formats (journald, syslog) that carry a whole OVS line inside.

Several small members are parsed in one pass (`parse_members`): their lines one after the
other, each line knowing its member (`member`, its place in the batch), so a bundle of
thousands of tiny members pays each step's fixed cost once a batch, not once a member. No step
reaches across a member's edge: each member is matched as a file of its own, a record never
continues into the next member, and host, vPool, zone and line numbers are each member's own.

Every physical line ends up in exactly one record: a line no format explains and that cannot
continue a record is kept as an `unparsed` record, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from itertools import accumulate

import polars as pl

from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import FormatSpec
from analyzer.parsing.matching import match_members
from analyzer.parsing.pasted import GLUED_RECORD, reread_pasted_lines, split_glued
from analyzer.parsing.records import assemble_records, fold_journal_tracebacks
from analyzer.parsing.schema import (
    EVENT_SCHEMA,
    empty_events,
)
from analyzer.reading.text import looks_binary
from analyzer.timings import stage


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


#: A member to parse: its path, its text, and what the bundle knows of it.
MemberText = tuple[str, bytes, ParseContext]


def split_lines(data: bytes) -> tuple[pl.Series, int]:
    """Decode as UTF-8 (invalid bytes replaced and counted) and split into physical lines.

    Polars' line reader splits and validates in Rust; only a file with invalid UTF-8 takes the
    slower road through Python's decoder, which replaces and counts the bad bytes.
    """
    invalid = 0
    with stage("split lines"):
        try:
            lines = pl.read_lines(data, name="text")["text"]
        except pl.exceptions.ComputeError:
            text, invalid = _replaced(data)
            lines = pl.read_lines(text.encode(), name="text")["text"]
        return (lines.str.strip_suffix("\r") if b"\r" in data else lines), invalid  # a copy only for CRLF files


def _replaced(data: bytes) -> tuple[str, int]:
    """`data` decoded with invalid UTF-8 replaced, and how many sequences were."""
    text = data.decode("utf-8", errors="replace")
    return text, text.count("\ufffd") - data.count("\ufffd".encode())


def split_members(texts: Sequence[bytes]) -> tuple[pl.Series, list[int], list[int]]:
    """The lines of each text as `split_lines` gives them, all in one Series (each text's after
    the one before), with how many lines each gave and how many invalid UTF-8 sequences were
    replaced in each. The texts are split in one call: a line end is put after a text that lacks
    one, so no line runs into the next text."""
    lines, invalid = split_lines(b"".join(t if not t or t.endswith(b"\n") else t + b"\n" for t in texts))
    counts = [t.count(b"\n") + (1 if t and not t.endswith(b"\n") else 0) for t in texts]
    return lines, counts, [_replaced(t)[1] for t in texts] if invalid else [0] * len(texts)


def parse_member(source: str, data: bytes, formats: list[FormatSpec], ctx: ParseContext) -> ParsedMember:
    """Parse a whole member; see the module docstring for the steps."""
    return parse_members([(source, data, ctx)], formats)[0]


def parse_members(members: Sequence[MemberText], formats: list[FormatSpec]) -> list[ParsedMember]:
    """Parse whole members at once: each gives what it gives parsed alone (`parse_member`), but
    every step runs once over all their lines. A binary member gives no events."""
    binary = [looks_binary(data) for _, data, _ in members]
    texts = [member for member, skipped in zip(members, binary, strict=True) if not skipped]
    lines, counts, invalid = split_members([data for _, data, _ in texts])
    parsed = iter(_parse([source for source, _, _ in texts], lines, counts, invalid, formats,
                         [ctx for _, _, ctx in texts]))
    return [ParsedMember(source=source, events=empty_events(), binary=True) if skipped else next(parsed)
            for (source, _, _), skipped in zip(members, binary, strict=True)]


def format_counts(events: pl.DataFrame) -> dict[str, int]:
    """Records per format, in the order the formats first appear: the inventory and findings.json
    list them in this order, and the same bundle must give the same bytes."""
    return _format_counts(events, 1)[0]


def parse_lines(source: str, lines: pl.Series, invalid: int, formats: list[FormatSpec], ctx: ParseContext,
                first_line: int = 0) -> ParsedMember:
    """The records of `lines` (physical lines `first_line` + 1 on of the member; `invalid` UTF-8
    sequences were replaced in them)."""
    return _parse([source], lines, [lines.len()], [invalid], formats, [ctx], first_line)[0]


def _parse(sources: list[str], lines: pl.Series, counts: list[int], invalid: list[int], formats: list[FormatSpec],
           contexts: list[ParseContext], first_line: int = 0) -> list[ParsedMember]:
    """The records of each member whose lines `lines` holds one after the other (`counts` of them
    each; physical lines `first_line` + 1 on of the member when there is one member, a chunk)."""
    if lines.len() == 0:
        return [ParsedMember(source=s, events=empty_events(), invalid_utf8=i) for s, i in zip(sources, invalid,
                                                                                           strict=True)]
    carry = contexts[0].carry if len(contexts) == 1 else None
    before = deepcopy(carry)
    member = _members_of_lines(counts)
    fields = match_members(lines, formats, list(zip(counts, contexts, strict=True)))
    with stage("assemble records"):
        unglued = split_glued(lines, fields)
        if unglued is not None:
            lines, physical = unglued
            member = member.gather(physical - 1)  # a record cut off a line stays in that line's member
            if carry is not None and before is not None:
                carry.restore(before)
            fields = match_members(lines, formats, list(zip(_per_member(member, len(counts)), contexts,
                                                            strict=True)))
        fields = reread_pasted_lines(lines, fields.with_columns(member), formats, contexts)
        events = fold_journal_tracebacks(assemble_records(lines, fields, formats))
    if unglued is not None:  # back to the lines of the members
        events = events.with_columns(physical.gather(events["line"].cast(pl.Int64) - 1).alias("line"))
    at = events["member"]
    hosts = _stated_hosts(events, len(counts))
    if carry is not None:
        hosts[0] = carry.host = hosts[0] or carry.host
    stated_zone = pl.when(pl.col("ts_local").is_not_null()).then(
        _spread([ctx.naive_offset for ctx in contexts], at, pl.Int16()))
    glued = events.group_by("member").agg(GLUED_RECORD.sum()) if unglued is not None else None
    shifts = [first_line - start for start in accumulate(counts[:-1], initial=0)]  # to each member's own lines
    events = events.with_columns(
        _spread(sources, at, pl.String()).alias("source"),
        pl.col("host").fill_null(_spread(hosts, at, pl.String())),
        _spread([_vpool_of(s) for s in sources], at, pl.String()).alias("vpool"),
        pl.col("utc_offset").fill_null(stated_zone),
        *([pl.col("line").cast(pl.Int64) + _spread(shifts, at, pl.Int64())] if any(shifts) else []),
    )
    bounds = at.search_sorted(pl.Series(range(len(counts) + 1), dtype=pl.UInt32)).to_list()
    formats_of = _format_counts(events, len(counts))
    schema = events.schema
    events = events.select(pl.col(c) if schema[c] == kind else pl.col(c).cast(kind)
                           for c, kind in EVENT_SCHEMA.items())  # a column no format filled is all null
    glued_of = dict(glued.iter_rows()) if glued is not None else {}
    return [
        ParsedMember(source=source, events=events.slice(bounds[m], bounds[m + 1] - bounds[m]), lines=counts[m],
                     invalid_utf8=invalid[m], formats=formats_of[m], glued=int(glued_of.get(m, 0)))
        for m, source in enumerate(sources)
    ]


def _members_of_lines(counts: list[int]) -> pl.Series:
    """Each line's member: its place in `counts`, the members' numbers of lines."""
    if len(counts) == 1:  # a chunk of a large member: nothing to repeat
        return pl.zeros(counts[0], pl.UInt32, eager=True).alias("member")
    return pl.Series("member", range(len(counts)), dtype=pl.UInt32).repeat_by(pl.Series(counts)).explode()


def _spread(values: Sequence[object], at: pl.Series, dtype: pl.DataType) -> pl.Expr:
    """Each row's value of its member (`at`: the row's member, `values`: one per member); one
    literal when there is one member (a chunk of a large one: nothing to gather per line)."""
    return pl.lit(values[0], dtype=dtype) if len(values) == 1 else pl.lit(pl.Series(values, dtype=dtype).gather(at))


def _per_member(member: pl.Series, members: int) -> list[int]:
    """How many rows each member has, by the `member` of each row."""
    counts = dict(member.value_counts().iter_rows())
    return [int(counts.get(m, 0)) for m in range(members)]


def _stated_hosts(events: pl.DataFrame, members: int) -> list[str | None]:
    """Each member's host: the one its records state most often, the first by name on a tie."""
    stated = events.select("member", "host").drop_nulls("host").group_by("member", "host").len() \
        .sort("len", "host", descending=[True, False]).group_by("member", maintain_order=True).first()
    hosts = dict(stated.select("member", "host").iter_rows())
    return [hosts.get(m) for m in range(members)]


def _format_counts(events: pl.DataFrame, members: int) -> list[dict[str, int]]:
    """`format_counts` of each member's records (`member`: its place among `members`, unless
    there is one)."""
    keys = ["member", "format"] if members > 1 else ["format"]
    counts: list[dict[str, int]] = [{} for _ in range(members)]
    for *member, name, count in events.group_by(keys, maintain_order=True).len().drop_nulls("format").iter_rows():
        counts[member[0] if member else 0][name] = count
    return counts


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

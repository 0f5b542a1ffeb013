"""The whole bundle as one event table, for `ovs-analyzer parse` and users of Polars/DuckDB.

Unlike the analysis pipeline, which keeps only small things per member, this builds every
event of the bundle (memory grows with the bundle: about 5.5x its inflated size at the peak,
while every member's table is held and the entity columns are added). Times are
resolved to UTC once all members are read, since naive lines learn their offset from the
zoned lines of any member of the same node.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import polars as pl

from analyzer.bundle import Bundle, Caps, Member, describe, iter_members
from analyzer.copies import mark_journal_copies
from analyzer.entities import with_entities
from analyzer.errors import UserError
from analyzer.formats import FormatSpec, load_formats
from analyzer.lanes import Lane
from analyzer.parse import EVENT_SCHEMA, ParsedMember
from analyzer.pipeline import parse_bundle_member
from analyzer.timezones import fill_offsets, offset_samples
from analyzer.timings import stage, timed

#: Members parsed at once (see `bundle_events`).
PARSER_THREADS = 2


def bundle_events(path: Path, formats: list[FormatSpec] | None = None, caps: Caps = Caps()) -> pl.DataFrame:
    """Every record of every text member, with `ts` in UTC, journal copies marked `duplicate`.

    Members are parsed on two helper threads while the main thread reads the next one, each read
    whole (the table holds several times more than its text anyway). Polars spreads one member's
    parse over the cores only part of the time (Python steps, single-threaded kernels); a second
    member in flight fills those gaps: 4.8-5.1 s instead of 5.3-5.5 s on the 1 GiB bench, and a
    third thread adds nothing."""
    formats = formats if formats is not None else load_formats()
    bundle = describe(path)
    parsing: dict[str, Future[ParsedMember]] = {}
    with Lane("parse", workers=PARSER_THREADS) as lane:
        for member in timed(iter_members(bundle, replace(caps, stream_bytes=caps.max_member_bytes)), "read"):
            parsing[member.path] = parsed = lane.submit(_parsed, member, bundle, formats)  # last copy wins (#1146)
            if member.stream is not None:  # one larger than the member cap is read as it is parsed
                with stage("wait for parse"):
                    parsed.result()  # done with it before the archive moves on past it
        with stage("wait for parse"):
            frames = [future.result().events for future in parsing.values()]
    if bundle.nested:  # one table mixes one node's hostless lines; several nodes would be mislabelled
        raise UserError(f"{path}: holds {len(bundle.nested)} node bundles ({', '.join(bundle.nested[:3])}): "
                        "parse each one, or `analyze` it, which splits them")
    if not frames:
        return _ordered(fill_offsets(pl.DataFrame(schema=EVENT_SCHEMA), pl.DataFrame()))
    with stage("combine"):
        events = pl.concat(frames, how="vertical_relaxed")
        stated = events["host"].drop_nulls().mode().sort()
        node = stated[0] if stated.len() else bundle.host_hint
        events = events.with_columns(pl.col("host").fill_null(pl.lit(node, dtype=pl.String)))
        events = fill_offsets(events, offset_samples(events))
        return _ordered(with_entities(mark_journal_copies(events)))


def _parsed(member: Member, bundle: Bundle, formats: list[FormatSpec]) -> ParsedMember:
    with stage("parse"):
        return parse_bundle_member(member, bundle, formats)


def write_events(path: Path, out: Path) -> tuple[Path, pl.DataFrame]:
    """Write `out/events.parquet`; return its path and the table."""
    events = bundle_events(path)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "events.parquet"
    with stage("write"):
        events.write_parquet(target)
    return target, events


def _ordered(events: pl.DataFrame) -> pl.DataFrame:
    first = ["ts", "host", "source", "line", "producer", "component", "level", "message", "raw", "parse_status"]
    return events.select(first + [c for c in events.columns if c not in first])


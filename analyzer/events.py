"""The whole bundle as one event table, for `ovs-analyzer parse` and users of Polars/DuckDB.

Unlike the analysis pipeline, which keeps only small things per member, this builds every
event of the bundle (memory grows with the bundle: about 2-3x its inflated size). Times are
resolved to UTC once all members are read, since naive lines learn their offset from the
zoned lines of any member of the same node.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analyzer.bundle import Caps, describe, iter_members
from analyzer.formats import FormatSpec, load_formats
from analyzer.parse import EVENT_SCHEMA
from analyzer.pipeline import parse_bundle_member
from analyzer.timezones import fill_offsets, offset_samples

#: The journal dump is the evidence kept; rsyslog's copy of the same entry is marked, not dropped.
JOURNAL_SOURCES = ("var/log/journald.log", "var/log/ovs_journald.log")
_COPY_KEY = ["host", "ts_local", "service", "message"]


def bundle_events(path: Path, formats: list[FormatSpec] | None = None, caps: Caps = Caps()) -> pl.DataFrame:
    """Every record of every text member, with `ts` in UTC, journal copies marked `duplicate`."""
    formats = formats if formats is not None else load_formats()
    bundle = describe(path)
    frames: dict[str, pl.DataFrame] = {}
    for member in iter_members(bundle, caps):
        frames[member.path] = parse_bundle_member(member, bundle, formats).events  # last copy wins (#1146)
    if not frames:
        return _ordered(fill_offsets(pl.DataFrame(schema=EVENT_SCHEMA), pl.DataFrame()))
    events = pl.concat(frames.values(), how="vertical_relaxed")
    stated = events["host"].drop_nulls().mode().sort()
    node = stated[0] if stated.len() else bundle.host_hint
    events = events.with_columns(pl.col("host").fill_null(pl.lit(node, dtype=pl.String)))
    events = fill_offsets(events, offset_samples(events))
    return _ordered(mark_journal_copies(events))


def mark_journal_copies(events: pl.DataFrame) -> pl.DataFrame:
    """An entry rsyslog copied from the journal (same host, instant, ident and message) counts once.

    The journal copy stays `ok` as the evidence; the other copy's `parse_status` becomes
    `duplicate`, so every line is still accounted for but no count sees it twice.
    """
    journal = events.filter(pl.col("source").is_in(JOURNAL_SOURCES) & (pl.col("parse_status") == "ok"))
    if journal.height == 0:
        return events
    keys = journal.select(_COPY_KEY).unique().with_columns(pl.lit(True).alias("_copy"))
    candidate = ~pl.col("source").is_in(JOURNAL_SOURCES) & pl.col("service").is_not_null()
    marked = events.with_row_index("_row").join(keys, on=_COPY_KEY, how="left", nulls_equal=False)
    return marked.sort("_row").with_columns(
        pl.when(candidate & pl.col("_copy").fill_null(False)).then(pl.lit("duplicate"))
        .otherwise(pl.col("parse_status")).alias("parse_status")
    ).drop("_row", "_copy")


def write_events(path: Path, out: Path) -> tuple[Path, pl.DataFrame]:
    """Write `out/events.parquet`; return its path and the table."""
    events = bundle_events(path)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "events.parquet"
    events.write_parquet(target)
    return target, events


def _ordered(events: pl.DataFrame) -> pl.DataFrame:
    first = ["ts", "host", "source", "line", "producer", "component", "level", "message", "raw", "parse_status"]
    return events.select(first + [c for c in events.columns if c not in first])


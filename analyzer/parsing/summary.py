"""Every record of a batch folded once into a small table that the per-record aggregates read.

The timeline's minute counts, the offset samples, each member's first and last instant, the
identity collector's hosts, formats and spans and the services' own-log activity all count
records by a few of the same columns. Each used to be a pass of its own over every record of a
chunk; now one group-by folds the records by all of those columns at once, and each aggregate is
folded from its few thousand rows. That is also the shape the compiled core can hand over
directly, so that the records nothing else needs never become rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

#: What the records are folded by, besides their member (`source`, and its `vpool`): the local
#: minute is null for a record without a time stamp.
SUMMARY_KEYS = ("host", "producer", "level", "format", "service", "utc_offset", "minute")
#: A member's columns: one value per member, so a chunk of one member is folded without them.
_MEMBER_COLUMNS = ("source", "vpool")


def record_summary(events: pl.DataFrame, sources: Sequence[str], copy: pl.Series | None = None) -> pl.DataFrame:
    """The records of the members `sources` names (each member's rows one run, in order), folded
    by member, `SUMMARY_KEYS` and, when `copy` is given, whether the record repeats a journal
    entry (column `copy`). Per key: how many records (`count`), their first and last local time,
    and the row of the first of them (`row`, so "the first record's host" stays exactly that).
    Counts of records are exact: summing `count` over any of the keys gives what counting the
    records by those keys gives."""
    one_member = len(sources) == 1
    member = () if one_member else _MEMBER_COLUMNS
    frame = events.lazy().select(
        *member, *SUMMARY_KEYS[:-1], "ts_local", pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        *([pl.lit(copy).alias("copy")] if copy is not None else []),
    )
    keys = [*member, *SUMMARY_KEYS[:-1], pl.col("ts_local").dt.truncate("1m").alias("minute"),
            *(["copy"] if copy is not None else [])]
    summary = frame.group_by(keys).agg(
        pl.len().alias("count"), pl.col("ts_local").min().alias("first"), pl.col("ts_local").max().alias("last"),
        pl.col("row").min(),
    ).collect()
    if one_member:
        vpool = events["vpool"][0] if events.height else None
        summary = summary.with_columns(pl.lit(sources[0], dtype=pl.String).alias("source"),
                                       pl.lit(vpool, dtype=pl.String).alias("vpool"))
    return summary


def activity(summary: pl.DataFrame, history: Sequence[str]) -> pl.DataFrame:
    """The rows of records the timeline counts: no copy of a journal entry (that was counted in
    the journal), nothing of a history format (dpkg, apt: not the node's activity)."""
    kept = in_timeline(history)
    if "copy" in summary.columns:
        kept = kept & ~pl.col("copy")
    return summary.filter(kept)


def in_timeline(history: Sequence[str]) -> pl.Expr:
    """Whether a record is the node's activity: of no history format (`history`: their ids)."""
    return ~pl.col("format").is_in(list(history)).fill_null(False)


def spans(summary: pl.DataFrame) -> pl.DataFrame:
    """Each member's first and last local time per offset, with the host of its first record
    there: enough to give a member's span in UTC once offsets are learned."""
    return summary.sort("row").group_by("source", "utc_offset", maintain_order=True).agg(
        pl.col("host").first(), pl.col("first").min(), pl.col("last").max()
    )

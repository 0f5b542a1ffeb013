"""Per-minute record counts (node x producer x level): what every record leaves behind once its member is gone."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from analyzer.parsing.timezones import fill_offsets

#: A record's place in the timeline's minute counts, and the names of those columns.
_COUNTED = [pl.col("host"), pl.col("producer"), pl.col("level"), pl.col("ts_local").dt.truncate("1m").alias("minute"),
            pl.col("utc_offset")]


_COUNT_KEYS = [e.meta.output_name() for e in _COUNTED]


def minute_counts(summary: pl.DataFrame) -> pl.DataFrame:
    """Records per member, host, producer, level and local minute (folded from the rows of
    `record_summary`, or of its `activity`): the timeline's and absence rules' food."""
    return summary.filter(pl.col("minute").is_not_null()).group_by("source", *_COUNT_KEYS).agg(pl.col("count").sum())


def counts_in_utc(frames: list[pl.DataFrame], offsets: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Merge members' minute counts on UTC minutes; also say how many records had a learned offset."""
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(), 0
    counts = fill_offsets(pl.concat(frames, how="diagonal_relaxed").rename({"minute": "ts_local"}), offsets)
    learned = int(counts.filter(pl.col("offset_learned"))["count"].sum())
    merged = counts.group_by("host", "producer", "level", pl.col("ts").alias("minute")).agg(pl.col("count").sum())
    return merged.sort("minute", "host", "producer", "level"), learned


def end_of_logs(counts: pl.DataFrame) -> datetime | None:
    """The end of the last minute anything was logged: how far 'never followed by' can be judged."""
    return counts["minute"].max() + timedelta(minutes=1) if counts.height else None  # type: ignore[operator]


def dominant_host(counts: list[pl.DataFrame]) -> str | None:
    """The host with the most records in `counts` (host, count frames), the first by name on a tie;
    None when no record states one."""
    if not counts:
        return None
    totals = pl.concat(counts).drop_nulls("host").group_by("host").agg(pl.col("count").sum())
    if totals.height == 0:
        return None
    return str(totals.sort(["count", "host"], descending=[True, False])["host"][0])

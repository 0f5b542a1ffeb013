"""Give every event a UTC instant, including the ones whose line carries no zone.

Zoned lines (every OVS format since 2016) state their offset. Naive lines (Python formats
A/B, celery, django, journal and syslog prefixes) are local time of the node that wrote them;
they take the offset of the node's zoned lines nearest in time, so a DST change mid-bundle is
followed. The report says how many events got a learned offset.
"""

from __future__ import annotations

import polars as pl

OFFSETS_SCHEMA = {"host": pl.String, "ts_local": pl.Datetime("us"), "utc_offset": pl.Int16}


def offset_samples(events: pl.DataFrame, apart: tuple[str, ...] = ()) -> pl.DataFrame:
    """A small table of (host, local hour, offset) seen in zoned events, to learn from; apart per
    value of the `apart` columns (`("source",)`: each member's own samples)."""
    return samples_of(offset_tallies(events, apart), apart)


def offset_tallies(events: pl.DataFrame, apart: tuple[str, ...] = ()) -> pl.DataFrame:
    """Zoned events per host, local hour and offset (apart per value of the `apart` columns): what
    `samples_of` picks from. Tallies of a table's parts add up to the whole table's, so a table
    written a part at a time learns the same."""
    # filtering the whole table would copy every column
    return _tallies(events.select(*apart, "host", "ts_local", "utc_offset"), apart, pl.len())


def summary_tallies(summary: pl.DataFrame, apart: tuple[str, ...] = ()) -> pl.DataFrame:
    """`offset_tallies` of the records the rows of `summary` (`record_summary`) stand for."""
    rows = summary.select(*apart, "host", pl.col("minute").alias("ts_local"), "utc_offset", "count")
    return _tallies(rows, apart, pl.col("count").sum())


def _tallies(rows: pl.DataFrame, apart: tuple[str, ...], count: pl.Expr) -> pl.DataFrame:
    return (
        rows.filter(pl.col("utc_offset").is_not_null() & pl.col("ts_local").is_not_null())
        .group_by(*apart, "host", pl.col("ts_local").dt.truncate("1h"), "utc_offset")
        .agg(count.cast(pl.UInt64).alias("count"))
    )


def samples_of(tallies: pl.DataFrame, apart: tuple[str, ...] = ()) -> pl.DataFrame:
    """Each host's most frequent offset per local hour (the smaller one on a tie), apart per value
    of the `apart` columns, which are kept before the others."""
    keys = [*apart, "host", "ts_local"]
    return (
        tallies.group_by(*keys, "utc_offset").agg(pl.col("count").sum())
        .sort("count", "utc_offset", descending=[True, False])
        .group_by(keys, maintain_order=True).first()
        .select(*apart, *OFFSETS_SCHEMA)
        .cast(OFFSETS_SCHEMA)  # type: ignore[arg-type]
    )


def fill_offsets(frame: pl.DataFrame, samples: pl.DataFrame, default_offset: int = 0) -> pl.DataFrame:
    """Fill null `utc_offset` from the nearest zoned sample of the same host, then add `ts` (UTC).

    Adds a boolean `offset_learned` so the report can say which times are inferred.
    """
    if frame.height == 0:
        return frame.with_columns(
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts"),
            pl.lit(False).alias("offset_learned"),
        )
    # only the naive rows' keys are matched, and the offsets found are put back by position: joining
    # the whole table and sorting it back copied it twice (`parse` holds every event of a bundle)
    is_naive = pl.col("utc_offset").is_null() & pl.col("ts_local").is_not_null()
    # the host as text: a frame may name its hosts as categories, the samples as text
    naive = frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), pl.col("host").cast(pl.String),
                         "ts_local", is_naive.alias("_naive")).filter("_naive").drop("_naive")
    learned: pl.Expr = pl.lit(None, dtype=pl.Int16)
    if naive.height and samples.height:
        fallback = int(samples["utc_offset"].mode().min())  # type: ignore[arg-type]
        # one offset per host and hour (the smaller where members' samples disagree), so which
        # sample is nearest never depends on the order the samples come in
        hourly = samples.group_by("host", "ts_local").agg(pl.col("utc_offset").min().alias("_near"))
        near = (
            naive.sort("ts_local")
            .join_asof(hourly.sort("ts_local"), on="ts_local", by="host", strategy="nearest", check_sortedness=False)
            .select("_row", pl.col("_near").fill_null(fallback))
        )
        learned = pl.lit(pl.repeat(None, frame.height, dtype=pl.Int16, eager=True).scatter(near["_row"], near["_near"]))
    elif naive.height:
        learned = pl.lit(default_offset, dtype=pl.Int16)
    frame = frame.with_columns(
        is_naive.alias("offset_learned"),
        pl.coalesce(pl.col("utc_offset"), learned).cast(pl.Int16).alias("utc_offset"),
    )
    frame = frame.with_columns(
        (pl.col("ts_local") - pl.duration(minutes=pl.col("utc_offset").cast(pl.Int64)))
        .dt.replace_time_zone("UTC")
        .alias("ts")
    )
    return frame

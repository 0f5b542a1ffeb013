"""Give every event a UTC instant, including the ones whose line carries no zone.

Zoned lines (every OVS format since 2016) state their offset. Naive lines (Python formats
A/B, celery, django, journal and syslog prefixes) are local time of the node that wrote them;
they take the offset of the node's zoned lines nearest in time, so a DST change mid-bundle is
followed. The report says how many events got a learned offset.
"""

from __future__ import annotations

import polars as pl

OFFSETS_SCHEMA = {"host": pl.String, "ts_local": pl.Datetime("us"), "utc_offset": pl.Int16}


def offset_samples(events: pl.DataFrame) -> pl.DataFrame:
    """A small table of (host, local hour, offset) seen in zoned events, to learn from."""
    return (
        events.filter(pl.col("utc_offset").is_not_null() & pl.col("ts_local").is_not_null())
        .group_by("host", pl.col("ts_local").dt.truncate("1h"))
        .agg(pl.col("utc_offset").mode().first())
        .select(list(OFFSETS_SCHEMA))
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
    frame = frame.with_row_index("_row")
    naive = frame.filter(pl.col("utc_offset").is_null() & pl.col("ts_local").is_not_null())
    learned = pl.lit(None, dtype=pl.Int16)
    if naive.height and samples.height:
        fallback = int(samples["utc_offset"].mode().first())  # type: ignore[arg-type]
        near = (
            naive.select("_row", "host", "ts_local").sort("ts_local")
            .join_asof(samples.sort("ts_local").rename({"utc_offset": "_near"}),
                       on="ts_local", by="host", strategy="nearest", check_sortedness=False)
            .select("_row", pl.col("_near").fill_null(fallback))
        )
        frame = frame.join(near, on="_row", how="left")
        learned = pl.col("_near")
    elif naive.height:
        frame = frame.with_columns(pl.lit(default_offset, dtype=pl.Int16).alias("_near"))
        learned = pl.col("_near")
    frame = frame.with_columns(
        (pl.col("utc_offset").is_null() & pl.col("ts_local").is_not_null()).alias("offset_learned"),
        pl.coalesce(pl.col("utc_offset"), learned).cast(pl.Int16).alias("utc_offset"),
    )
    frame = frame.with_columns(
        (pl.col("ts_local") - pl.duration(minutes=pl.col("utc_offset").cast(pl.Int64)))
        .dt.replace_time_zone("UTC")
        .alias("ts")
    )
    return frame.sort("_row").drop([c for c in ("_row", "_near") if c in frame.columns])

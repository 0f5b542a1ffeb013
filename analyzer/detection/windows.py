"""The windowed rule kinds, evaluated over small tables only: rule hits and per-minute counts.

- peaks: the most hits of a group inside any sliding window (threshold rules, escalation);
- chains: step A, then B, then ... within a time on the same entity (sequence rules), or A
  never followed by B ("never recovered");
- gaps: a producer silent for a while although the node keeps logging (absence rules).

All three are Polars operations (rolling windows, as-of joins, shifted differences) over
tables that hold at most one row per hit or per minute, so they cost nothing next to parsing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from analyzer.detection.rule import Absence, Sequence, Window

#: What a hit shows as evidence: its place, and its text or, when its text stays packed, its row
#: number (`_hit`, see `build_findings`).
EVIDENCE_COLUMNS = ("source", "line", "ts", "host", "raw", "_hit")


def peaks(hits: pl.DataFrame, keys: list[str], window: Window) -> pl.DataFrame:
    """Per group of `keys`: `peak` (most hits in any window) and `peak_end` (when it was reached)."""
    timed = hits.filter(pl.col("ts").is_not_null()).sort([*keys, "ts"])
    if timed.height == 0:
        schema = {**{k: hits.schema[k] for k in keys}, "peak": pl.UInt32, "peak_end": hits.schema["ts"]}
        return pl.DataFrame(schema=schema)
    rolled = timed.rolling(index_column="ts", period=f"{int(window.seconds * 1e6)}us",
                           group_by=keys or None).agg(pl.len().alias("peak"))
    best = rolled.sort(["peak", "ts"], descending=[True, False])
    best = best.group_by(keys, maintain_order=True).first() if keys else best.head(1)
    return best.rename({"ts": "peak_end"}).select([*keys, "peak", "peak_end"])


def chains(hits: pl.DataFrame, sequence: Sequence, end_of_logs: datetime | None) -> pl.DataFrame:
    """One row per chain instance: join keys, `t0..tN` step times and each step's evidence columns.

    With `absent_last`, rows are the instances whose last step never came within the window
    (and whose window ended before the logs did, so the absence is known, not assumed).
    """
    keys = list(sequence.join_on)
    within = timedelta(seconds=sequence.within)
    steps = sequence.steps
    last = len(steps) - 1

    def step(k: int) -> pl.DataFrame:
        rows = hits.filter((pl.col("rule_id") == steps[k]) & pl.col("ts").is_not_null())
        rows = rows.filter(pl.all_horizontal(pl.col(key).is_not_null() for key in keys))
        shown = [c for c in EVIDENCE_COLUMNS if c in rows.columns]
        return rows.select(*keys, *[pl.col(c).alias(f"{c}{k}") for c in shown]).sort(f"ts{k}")

    current = step(0)
    for k in range(1, len(steps)):
        current = current.sort(f"ts{k - 1}").join_asof(
            step(k), left_on=f"ts{k - 1}", right_on=f"ts{k}", by=keys, strategy="forward", tolerance=within,
            check_sortedness=False,
        )
        if k < last or not sequence.absent_last:
            current = current.filter(pl.col(f"ts{k}").is_not_null())
    if sequence.absent_last:
        current = current.filter(pl.col(f"ts{last}").is_null())
        if end_of_logs is None:
            return current.clear()
        current = current.filter(pl.col(f"ts{last - 1}") + within <= end_of_logs)
    return current


def gaps(counts: pl.DataFrame, absence: Absence) -> pl.DataFrame:
    """Silences of at least `silent_for` in the watched producers while the same host logged otherwise.

    Returns host, producer (the watched stream), start, end, `until_end` (the silence lasts to
    the end of the node's logs: a crash or a stuck service) and `other` (records the node wrote
    meanwhile).
    """
    empty = pl.DataFrame(schema={"host": pl.String, "producer": pl.String, "start": counts.schema.get("minute"),
                                 "end": counts.schema.get("minute"), "until_end": pl.Boolean, "other": pl.UInt32})
    if counts.height == 0:
        return empty
    per_minute = counts.group_by("host", "producer", "minute").agg(pl.col("count").sum())
    each = "*" in absence.producers
    watched = per_minute if each else per_minute.filter(pl.col("producer").is_in(list(absence.producers)))
    if watched.height == 0:
        return empty
    label = pl.col("producer") if each else pl.lit(",".join(absence.producers))
    streams = watched.with_columns(label.alias("stream")).group_by("host", "stream", "minute").agg()
    node_end = per_minute.group_by("host").agg(pl.col("minute").max().alias("node_end"))
    silent = timedelta(seconds=absence.silent_for)
    step = timedelta(minutes=1)
    candidates = (
        streams.sort("host", "stream", "minute")
        .join(node_end, on="host")
        .with_columns(pl.col("minute").shift(-1).over("host", "stream").alias("next"))
        .with_columns(
            (pl.col("minute") + step).alias("start"),
            pl.coalesce(pl.col("next"), pl.col("node_end") + step).alias("end"),
            pl.col("next").is_null().alias("until_end"),
        )
        .filter(pl.col("end") - pl.col("start") >= silent)
        .with_row_index("gap")
    )
    if candidates.height == 0:
        return empty
    others = per_minute.rename({"producer": "other_producer"})
    if not each:
        others = others.filter(~pl.col("other_producer").is_in(list(absence.producers)))
    activity = (
        candidates.select("gap", "host", "stream", "start", "end")
        .join(others, on="host")
        .filter((pl.col("minute") >= pl.col("start")) & (pl.col("minute") < pl.col("end"))
                & (pl.col("other_producer") != pl.col("stream")))
        .group_by("gap").agg(pl.col("count").sum().cast(pl.UInt32).alias("other"))
    )
    return (
        candidates.join(activity, on="gap", how="inner")
        .filter(pl.col("other") > 0)
        .select("host", pl.col("stream").alias("producer"), "start", "end", "until_end", "other")
        .sort("host", "producer", "start")
    )

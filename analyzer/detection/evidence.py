"""What an evidence line shows besides the record itself: the lines around it.

Context is taken while the member is in memory, for the hits that can become evidence only
(the first and last few of each rule and entity in the member), so a rule that matches a
million records does not copy a million contexts.
"""

from __future__ import annotations

import polars as pl

CONTEXT_LINES = 3
#: Hits per rule and entity and member that may become evidence (findings keep first/last 10).
CANDIDATES_PER_END = 10


def with_context(hits: pl.DataFrame, events: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Add `context_before`/`context_after` (lists of physical lines) to evidence candidates.

    `events` hold one or more members, each in one run of rows in line order with one record per
    first line, as parse yields them, so a candidate's record is found by binary search (on the
    member's place and the line) rather than by a join over every event, and its context stops at
    the member's first and last record.
    """
    if hits.height == 0:
        return hits
    per_member = ["source", *keys]
    rank = pl.int_range(pl.len()).over(per_member, order_by="line")
    size = pl.len().over(per_member)
    candidate = (rank < CANDIDATES_PER_END) | (rank >= size - CANDIDATES_PER_END)
    indexed = hits.with_row_index("_hit")
    runs = events["source"].rle().struct.unnest()  # the members in order, and their rows
    ends = runs["len"].cast(pl.Int64).cum_sum()
    place = pl.col("source").replace_strict(runs["value"], pl.int_range(runs.height, eager=True))
    chosen = indexed.filter(candidate.fill_null(False)).select("_hit", "line", place.alias("member"))
    chosen = chosen.with_columns(
        _sort_key(events["source"].rle_id(), events["line"]).search_sorted(_sort_key(chosen["member"], chosen["line"]))
        .alias("i"),
        (ends - runs["len"]).gather(chosen["member"]).alias("start"),
        ends.gather(chosen["member"]).alias("end"),
    )

    def around(offsets: range) -> pl.Expr:
        lines = [
            pl.when((pl.col("i") + k >= pl.col("start")) & (pl.col("i") + k < pl.col("end")))
            .then(pl.col("i") + k).otherwise(None).alias(f"at{k}")
            for k in offsets
        ]
        return pl.concat_list(lines)

    before = chosen.select("_hit", around(range(-CONTEXT_LINES, 0)).alias("idx"))
    after = chosen.select("_hit", around(range(1, CONTEXT_LINES + 1)).alias("idx"))
    raws = events["raw"]

    def lines_of(frame: pl.DataFrame, take_last: bool) -> pl.DataFrame:
        flat = frame.explode("idx").drop_nulls("idx")
        flat = flat.with_columns(raws.gather(flat["idx"].cast(pl.UInt32)).alias("raw"))
        joined = flat.group_by("_hit", maintain_order=True).agg(pl.col("raw").str.join("\n"))
        split = pl.col("raw").str.split("\n")
        pick = split.list.tail(CONTEXT_LINES) if take_last else split.list.head(CONTEXT_LINES)
        return joined.select("_hit", pick.alias("lines"))

    ctx_before = lines_of(before, take_last=True).rename({"lines": "context_before"})
    ctx_after = lines_of(after, take_last=False).rename({"lines": "context_after"})
    return (
        indexed.join(ctx_before, on="_hit", how="left")
        .join(ctx_after, on="_hit", how="left")
        .sort("_hit")
        .drop("_hit")
    )


def _sort_key(member: pl.Series, line: pl.Series) -> pl.Series:
    """A record's place in a frame of several members: its member's place, then its line."""
    return member.cast(pl.UInt64) * (1 << 32) + line.cast(pl.UInt64)

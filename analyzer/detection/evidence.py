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

    `events` are in line order with one record per first line, as parse yields them, so a
    candidate's record is found by binary search rather than by a join over every event.
    """
    if hits.height == 0:
        return hits
    rank = pl.int_range(pl.len()).over(keys, order_by="line")
    size = pl.len().over(keys)
    candidate = (rank < CANDIDATES_PER_END) | (rank >= size - CANDIDATES_PER_END)
    indexed = hits.with_row_index("_hit")
    chosen = indexed.filter(candidate.fill_null(False)).select("_hit", "line")
    chosen = chosen.with_columns(events["line"].search_sorted(chosen["line"]).alias("i"))
    n = events.height

    def around(offsets: range) -> pl.Expr:
        lines = [
            pl.when((pl.col("i") + k >= 0) & (pl.col("i") + k < n))
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

"""Which of many literals a column holds, in one scan: the pre-filter of rules and collectors alike."""

from __future__ import annotations

import polars as pl


def contains_any_literal(column: pl.Expr, literals: list[str] | tuple[str, ...]) -> pl.Expr:
    """Whether `column` contains any of `literals`: the same answer as `str.contains_any`, but as
    one regex alternation, which the Rust regex engine scans with its SIMD literal search, faster
    than Polars' Aho-Corasick; this pre-filter runs over every line of a bundle."""
    if not literals:
        return pl.lit(False)
    return column.str.contains("|".join(pl.escape_regex(literal) for literal in literals))


def literals_present(frame: pl.DataFrame, column: str, literals: list[str]) -> set[str]:
    """Which of `literals` occur in `column` of `frame`, found in one pass (overlapping matches, so a
    literal inside another still counts): the signatures or rules of the others can be skipped
    without a filter each (a chunk holds only a few kinds of line)."""
    if frame.height == 0 or not literals:
        return set()
    found = frame[column].str.extract_many(literals, overlapping=True).explode().drop_nulls().unique()
    return set(found.to_list())


def literal_masks(frame: pl.DataFrame, column: str, literals: list[str]) -> dict[str, pl.Series]:
    """For each of `literals` that `column` of `frame` holds somewhere, which rows hold it: one
    substring pass per literal over a few candidates, each pass both telling whether a literal's
    signature can match there and picking the rows it reads (cheaper than finding the literals
    present in one overlapping scan, then filtering for each again)."""
    if frame.height == 0 or not literals:
        return {}
    masks = frame.select(pl.col(column).str.contains(literal, literal=True).fill_null(False).alias(str(i))
                         for i, literal in enumerate(literals))
    return {literal: mask for literal, mask in zip(literals, masks.iter_columns(), strict=True) if mask.any()}

"""Physical lines into records: continuation lines folded into the record they continue."""

from __future__ import annotations

import polars as pl

from analyzer.parsing.formats import FormatSpec
from analyzer.parsing.pasted import (
    STAMPED,
)


def assemble_records(lines: pl.Series, fields: pl.DataFrame, formats: list[FormatSpec]) -> pl.DataFrame:
    """Fold continuation lines into the record they continue; the rest become `unparsed`.

    A line no format explains continues the record before it when that record's format says
    records may span lines (tracebacks, banners, a journal entry's indented lines, a customer's
    hard wraps) and the line does not itself start with a time stamp. The first line of a member
    (`member`: the lines may be those of several) continues nothing.
    """
    frame = fields.with_columns(
        lines.alias("text"),
        (pl.col("idx") + 1).cast(pl.UInt32).alias("line"),
        pl.col("format").is_not_null().alias("is_header"),
    )
    if "wrapper" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("wrapper"))
    first_of_member = pl.col("member").ne_missing(pl.col("member").shift(1))
    continues = pl.when(pl.col("is_header")).then(pl.col("multiline")).when(first_of_member).then(False) \
        .forward_fill().fill_null(False)
    if not frame["is_header"].all():
        continues = continues & ~pl.col("text").str.contains(STAMPED).fill_null(False)
    if "cut_tail" in frame.columns:
        continues = continues | pl.col("cut_tail")
    frame = frame.with_columns(
        (pl.col("is_header") | ~continues).alias("starts"),
    ).with_columns(pl.col("starts").cum_sum().alias("record"))
    if frame["starts"].all():  # the usual member: no line continues another, nothing to fold
        starts = frame.with_columns(pl.col("text").alias("raw"))
    else:
        starts = frame.filter(pl.col("starts"))
        tails = (
            frame.filter(~pl.col("starts"))
            .group_by("record")
            .agg(pl.col("text").str.join("\n").alias("tail"))
        )
        starts = starts.join(tails, on="record", how="left").with_columns(
            pl.when(pl.col("tail").is_null())
            .then(pl.col("text"))
            .otherwise(pl.concat_str([pl.col("text"), pl.lit("\n"), pl.col("tail")]))
            .alias("raw")
        )
    if not starts["line"].is_sorted():  # the join may reorder; the usual member needs no gather
        starts = starts.sort("line")
    return starts.with_columns(
        pl.when(pl.col("is_header")).then(pl.lit("ok")).otherwise(pl.lit("unparsed")).alias("parse_status"),
        pl.when(pl.col("is_header")).then(pl.col("message")).otherwise(pl.col("text")).alias("message"),
    )


#: Formats whose every physical line is its own entry, even the lines of one Python traceback.
_LINE_PER_ENTRY = ("syslog_short",)


_TRACEBACK = "Traceback (most recent call last):"


def fold_journal_tracebacks(events: pl.DataFrame) -> pl.DataFrame:
    """One record for a traceback the journal (or rsyslog) split into one entry per line.

    A service's stderr reaches the journal line by line, each with the same `ident[pid]`, so a
    Python traceback would be a dozen records none of which says what failed. Entries of the
    same member, host, ident and pid within two seconds fold into the entry before them when
    they are the `Traceback (most recent call last):` line, an indented frame line, or the
    exception line right after a frame; only runs that contain a traceback line fold. The
    folded record keeps its first entry's fields and line number and all entries' raw text.
    """
    if events.height < 2 or not events["format"].is_in(_LINE_PER_ENTRY).any():
        return events
    if not events["message"].str.starts_with(_TRACEBACK).any():
        return events  # the usual journal: one literal scan instead of the window work below
    message = pl.col("message").fill_null("")
    indented = message.str.contains(r"^\s")
    an_entry = pl.col("format").is_in(_LINE_PER_ENTRY) | pl.col("wrapper").is_in(_LINE_PER_ENTRY)
    same_entry_stream = (
        pl.col("format").is_in(_LINE_PER_ENTRY) & pl.col("wrapper").is_null() & pl.col("pid").is_not_null()
        & an_entry.shift(1) & (pl.col("member") == pl.col("member").shift(1))
        & (pl.col("host") == pl.col("host").shift(1)) & (pl.col("service") == pl.col("service").shift(1))
        & (pl.col("pid") == pl.col("pid").shift(1))
        & ((pl.col("ts_local") - pl.col("ts_local").shift(1)).abs() <= pl.duration(seconds=2))
    ).fill_null(False)
    candidate = same_entry_stream & (message.str.starts_with(_TRACEBACK) | indented
                                     | (indented.shift(1).fill_null(False) & ~indented))
    frame = events.with_columns(candidate.alias("_cont")).with_columns((~pl.col("_cont")).cum_sum().alias("_run"))
    frame = frame.with_columns(
        (pl.col("_cont") & message.str.starts_with(_TRACEBACK).any().over("_run"))
        .alias("_fold")
    )
    if not frame["_fold"].any():
        return events
    frame = frame.with_columns((~pl.col("_fold")).cum_sum().alias("_record"))
    tails = frame.filter(pl.col("_fold")).group_by("_record").agg(pl.col("raw").str.join("\n").alias("_tail"))
    return (
        frame.filter(~pl.col("_fold"))
        .join(tails, on="_record", how="left")
        .with_columns(pl.when(pl.col("_tail").is_null()).then(pl.col("raw"))
                      .otherwise(pl.concat_str([pl.col("raw"), pl.lit("\n"), pl.col("_tail")])).alias("raw"))
        .sort("line")
        .drop("_cont", "_run", "_fold", "_record", "_tail")
    )

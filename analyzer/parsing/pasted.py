"""Lines as customers paste them into tickets: records glued together, markdown escapes, hard wraps."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from analyzer import _core
from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import FormatSpec
from analyzer.parsing.matching import match_members

#: A year-less stamp this far before the one read before it crossed a New Year (the core's rule).
NEW_YEAR_JUMP = pl.duration(days=_core.NEW_YEAR_JUMP_DAYS)
#: A record glued to the end of the line before it by a copy-paste (`… took 0.000592Jan 11
#: 12:51:23 …`, as lines pasted into issue threads show): a syslog, ISO or slash-dated stamp right after
#: a letter, digit or full stop. A stamp after a space, bracket or colon is text or a wrapped record.
_GLUED = (r"([0-9A-Za-z.])((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d "
          r"|\d{4}[-/]\d\d[-/]\d\d[ T]\d\d:\d\d:\d\d)")


#: A glued record puts a time of day after the header of the line it is glued to.
_TIME_OF_DAY = r"\d\d:\d\d:\d\d"


def split_glued(lines: pl.Series, fields: pl.DataFrame) -> tuple[pl.Series, pl.Series] | None:
    """The lines with every glued record cut onto a line of its own, and each line's 1-based
    number among `lines`; None when no record is glued.

    Only lines whose message (or whole text, where no format explains them) holds a time of day
    are searched for a glued stamp: finding those is one scan of the messages, and they are few.
    The choice is per line, so chunking cannot change it."""
    timed = fields.select(pl.coalesce("message", pl.lit(lines)).str.contains(_TIME_OF_DAY)).to_series()
    if not timed.any() or not lines.filter(timed).str.contains(_GLUED).any():
        return None
    cut = pl.DataFrame({"text": lines}).with_row_index("line", offset=1).with_columns(
        pl.col("text").str.replace_all(_GLUED, "${1}\n${2}").str.split("\n")
    ).explode("text")
    return cut["text"], cut["line"]


#: A record on the same line as the record before it: only a glued record is.
GLUED_RECORD = pl.col("line").diff() == 0


def glued_count(events: pl.DataFrame) -> int:
    """Records glued to the line of the record before them."""
    return int(events.select(GLUED_RECORD.sum()).item())


#: An unexplained line that starts like this is a record of a format nobody taught the tool, not
#: the continuation of the record before it (ISO or slash dates, syslog stamps, `[date` prefixes).
STAMPED = (r"^\s*(?:\d{4}[-/]\d\d[-/]\d\d[ T]\d\d:\d\d|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d"
            r"|\d{1,2}月 [ \d]\d \d\d:|\[\d{4}-\d\d-\d\d)")


def reread_pasted_lines(lines: pl.Series, fields: pl.DataFrame, formats: list[FormatSpec],
                        contexts: list[ParseContext]) -> pl.DataFrame:
    """Lines a customer pasted into a ticket or an issue thread that no format
    explains as they are, matched again as they were before the paste: a leading space and
    markdown escapes (`\\+0200`, `\\_run_hooks`) taken out, and a hard wrap inside the header
    (`- inf\\no -`) undone: a stamped line no format explains and the unstamped line after it, if
    no format explains that one either, are matched as one line, and where that explains them the
    second (`cut_tail`) continues the first's record whatever its format says of continuation
    lines. `raw` keeps the lines as they are. A year-less stamp re-read so takes its year from the
    lines of its format around it (`_years_from_neighbours`).

    `fields` says each line's `member` (its place in `contexts`): a line and the next are one
    line only within a member."""
    unexplained = fields["format"].is_null()
    if not unexplained.any():
        return fields  # the usual file: one null count
    contexts = [replace(ctx, carry=None) for ctx in contexts]
    member = pl.col("member")
    texts = pl.DataFrame({"text": lines, "open": unexplained, "member": fields["member"]}).with_row_index("idx") \
        .with_columns(pl.col("text").shift(-1).alias("tail"),
                      (pl.col("open").shift(-1) & (member.shift(-1) == member)).fill_null(False).alias("tail_open")) \
        .filter(pl.col("open")).filter(pl.col("text").str.contains(STAMPED))
    single = texts.with_columns(_unpasted(pl.col("text")).alias("clean")).filter(pl.col("clean") != pl.col("text"))
    fields, reread = _reread(fields, single["idx"], single["clean"], formats, contexts)
    pairs = texts.filter(pl.col("tail_open") & ~pl.col("idx").is_in(reread.implode())
                         & ~pl.col("tail").str.contains(STAMPED))
    fields, cut = _reread(fields, pairs["idx"], _unpasted(pairs["text"] + pairs["tail"]), formats, contexts)
    fields = _years_from_neighbours(fields, pl.concat([reread, cut]), formats)
    return fields.with_columns(pl.col("idx").is_in((cut + 1).implode()).alias("cut_tail")) if cut.len() else fields


def _years_from_neighbours(fields: pl.DataFrame, reread: pl.Series, formats: list[FormatSpec]) -> pl.DataFrame:
    """Re-read rows of a year-less format in the year of the nearest row of that format and member
    read as it was: the one before (a year later if the stamp would then go back more than half a year:
    a New Year in between), else the one after (a year earlier the other way round). Matched
    apart from the other lines, they would roll over and step back on their own."""
    yearless = [f.id for f in formats if f.timestamp is not None and f.timestamp.yearless]
    if reread.len() == 0 or not yearless:
        return fields
    ts = pl.col("ts_local")
    again = pl.col("idx").is_in(reread.implode()) & pl.col("format").is_in(yearless) & ts.is_not_null()
    read_as_is = pl.when(~again).then(ts)
    before = read_as_is.forward_fill().over("member", "format")  # rows are in line order
    after = read_as_is.backward_fill().over("member", "format")

    def in_year_of(anchor: pl.Expr) -> pl.Expr:
        return ts.dt.offset_by(pl.format("{}y", anchor.dt.year().cast(pl.Int32) - ts.dt.year().cast(pl.Int32)))

    near_before, near_after = in_year_of(before), in_year_of(after)
    from_before = pl.when(near_before < before - NEW_YEAR_JUMP).then(near_before.dt.offset_by("1y")) \
        .otherwise(near_before)
    from_after = pl.when(near_after > after + NEW_YEAR_JUMP).then(near_after.dt.offset_by("-1y")) \
        .otherwise(near_after)
    return fields.with_columns(pl.when(again).then(pl.coalesce(from_before, from_after, ts)).otherwise(ts)
                               .alias("ts_local"))


def _unpasted(text: pl.Expr | pl.Series) -> pl.Expr | pl.Series:
    return text.str.strip_chars_start().str.replace_all(_MARKDOWN_ESCAPE, "$1")


#: A backslash markdown put before punctuation it would otherwise read as markup.
_MARKDOWN_ESCAPE = r"\\([\\`*_{}\[\]()#+\-.!|<>~])"


def _reread(fields: pl.DataFrame, idx: pl.Series, texts: pl.Series, formats: list[FormatSpec],
            contexts: list[ParseContext]) -> tuple[pl.DataFrame, pl.Series]:
    """`fields` with the rows `idx` (in line order) taken from `texts` where a format explains
    them, each matched with its member's context; and those rows."""
    if texts.len() == 0:
        return fields, idx.clear()
    runs = fields["member"].gather(idx).rle().struct.unnest()  # the members of the rows, in order
    members = [(count, contexts[m]) for count, m in runs.iter_rows()]
    matched = match_members(texts, formats, members).with_columns(idx.alias("idx"))
    hits = matched.filter(pl.col("format").is_not_null())
    if hits.height == 0:
        return fields, idx.clear()
    fields = fields.update(hits, on="idx")
    if not fields["idx"].is_sorted():  # rows stay aligned with the lines
        fields = fields.sort("idx")
    return fields, hits["idx"]

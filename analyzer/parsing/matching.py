"""Which format explains each line, and its header fields normalized (time, zone, level, producer)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import polars as pl

from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import FRACTION_UNITS, TEMPLATE_FIELD, FormatSpec, OnePassForm
from analyzer.parsing.schema import (
    EVENT_SCHEMA,
    LEVEL_TYPE,
    level_expr,
)

_FIELDS = [c for c in EVENT_SCHEMA if c not in ("source", "line", "raw", "parse_status", "vpool")]


#: Lines of a file the format sampler looks at first (all of them in a file this short).
SAMPLE_LINES = 400


#: A year-less stamp this far before the one read before it crossed a New Year (Dec -> Jan).
NEW_YEAR_JUMP = pl.duration(days=180)


#: A year-less stamp this far after the collection time must belong to the previous year.
_FUTURE_SLACK = timedelta(days=60)


def match_lines(lines: pl.Series, formats: list[FormatSpec], ctx: ParseContext,
                allow_wrappers: bool = True) -> pl.DataFrame:
    """Per line: the normalized header fields of the first format that explains it, else nulls.

    Formats seen in a sample of the file are tried first (by priority), then all others, each
    only on the lines still unexplained, so a mixed file (an upstart log, a journal) costs one
    regex pass per format over what is left. A format's capture and normalization run as one
    query, and the usual file that one format explains whole is never filtered or re-sorted.
    A null line (a wrapper entry that carries nothing) is explained by no format.
    """
    frame = pl.DataFrame({"text": lines}).with_row_index("idx")
    ordered = _order_by_sample(lines, [f for f in formats if allow_wrappers or not f.wraps])
    remaining = frame.drop_nulls("text").rechunk()  # see the rechunk below
    parts: list[pl.DataFrame] = [] if remaining.height == frame.height else [frame.filter(pl.col("text").is_null())]
    for spec, one_pass in _passes(ordered):
        if remaining.height == 0:
            break
        matched = _match_one(remaining, spec, ctx, one_pass)
        hit = matched["_hit"]
        if not hit.any():
            continue
        everything = hit.all()
        hits = (matched if everything else matched.filter(hit)).drop("text", "_hit")
        if spec.timestamp is not None and spec.timestamp.yearless:
            hits = _roll_years(hits, spec.id, ctx)
        parts.append(hits)
        # one chunk per column: Polars 2.1's string kernels panic on columns chunked differently (a
        # chunk's lines are two chunks when a held-back record leads them)
        remaining = remaining.clear() if everything else matched.filter(~hit).select("idx", "text").rechunk()
    parts.append(remaining.select("idx"))
    parts = [p for p in parts if p.height] or [frame.select("idx")]
    parts.sort(key=lambda part: part["idx"][0])  # each is in line order: blocks of lines (a journal's
    # header line, then its entries) then need no re-sort, only interleaved formats do
    fields = pl.concat(parts, how="diagonal_relaxed") if len(parts) > 1 else parts[0]
    if not fields["idx"].is_sorted():
        fields = fields.sort("idx")
    fields = fields.with_columns(
        *[pl.lit(None).alias(c) for c in [*_FIELDS, "multiline"] if c not in fields.columns]
    ).with_columns(
        pl.col("ts_local").cast(pl.Datetime("us")),
        pl.col("utc_offset").cast(pl.Int16),
        pl.col("level").cast(LEVEL_TYPE),
    )
    wrapped = [f for f in ordered if f.wraps or f.wraps_component]
    if allow_wrappers and wrapped:
        fields = _unwrap(fields, formats, ctx)
    return fields


def _passes(ordered: list[FormatSpec]) -> Iterator[tuple[FormatSpec, OnePassForm | None]]:
    """Each format, after its one-pass form where it has one (see `OnePassForm`)."""
    for spec in ordered:
        if (one_pass := spec.one_pass) is not None:
            yield spec, one_pass
        yield spec, None


def _match_one(remaining: pl.DataFrame, spec: FormatSpec, ctx: ParseContext,
               one_pass: OnePassForm | None = None) -> pl.DataFrame:
    """`remaining` (idx, text) with `_hit` and, on hit rows, the format's normalized fields,
    read with the spec's capture pattern or with its one-pass form."""
    capture = spec.capture if one_pass is None else one_pass.pattern
    captured = remaining.lazy().with_columns(pl.col("text").str.extract_groups(capture).alias("g")).unnest("g")
    hit = pl.col("message").is_not_null()
    if one_pass is not None:
        captured = captured.with_columns(pl.col(g).str.strip_suffix(" ") for g in one_pass.trimmed)
        for group, suffix in one_pass.suffixes:
            hit = hit & pl.col(group).str.ends_with(suffix) & (pl.col(group).str.len_bytes() > len(suffix))
    if spec.head is not None:  # the message is what follows the matched prefix (null where nothing matched);
        # a slice is a view into the line's bytes, where stripping the prefix would copy every message
        captured = captured.with_columns(pl.col("text").str.slice(pl.col("_head").str.len_chars()).alias("message"))
    # in memory, not streamed: analyze's parser and lane (and parse's two parser threads) already fill
    # both cores, and splitting one chunk into morsels over more threads only costs CPU; the chunk's
    # extra columns live a moment longer, paid for by jemalloc's shorter decay
    return captured.select(
        "text", hit.fill_null(False).alias("_hit"), *_normalized(spec, ctx)
    ).collect(engine="in-memory")


def _order_by_sample(lines: pl.Series, formats: list[FormatSpec]) -> list[FormatSpec]:
    n = lines.len()
    sample = lines.head(SAMPLE_LINES)
    if n > 2 * SAMPLE_LINES:
        sample = pl.concat([sample, lines.slice(n // 2, SAMPLE_LINES // 2), lines.tail(SAMPLE_LINES // 2)])
    # one query for all formats: it runs without the GIL (Series methods hold it, stalling the lane).
    # A format is tried with its capture pattern (what `_match_one` runs: on a line, it matches where
    # the header does, digits ASCII), so Polars' small per-thread regex cache holds one pattern less
    found = pl.DataFrame({"text": sample}).select(
        pl.col("text").str.contains(f.capture).any().alias(str(i)) for i, f in enumerate(formats)).row(0)
    seen = [f for f, hit in zip(formats, found, strict=True) if hit]
    return seen + [f for f in formats if f not in seen]


def _normalized(spec: FormatSpec, ctx: ParseContext) -> list[pl.Expr]:
    """One format's captured groups mapped onto the event columns."""
    groups = set(spec.group_names)
    columns: list[pl.Expr] = [pl.col("idx")]
    for name in ("host", "pid", "thread", "component", "message", "service"):
        if name in spec.compose:
            columns.append(_composed(spec.compose[name]).alias(name))
        elif name in groups:
            columns.append(pl.col(name).alias(name))
    if "level" in groups:
        columns.append(pl.col("level").alias("level_raw"))
        columns.append(level_expr(pl.col("level")).alias("level"))
    else:
        columns.append(pl.lit("info").alias("level"))
    columns.append(_producer_expr(spec).alias("producer"))
    columns.append(pl.lit(spec.id).alias("format"))
    columns.append(pl.lit(spec.multiline == "continuation").alias("multiline"))
    if spec.timestamp is not None:
        columns.extend(_timestamp_exprs(spec, ctx))
    return columns


def _composed(template: str) -> pl.Expr:
    """`{source}/{name}` from the groups of the same names."""
    names = TEMPLATE_FIELD.findall(template)
    return pl.format(TEMPLATE_FIELD.sub("{}", template), *[pl.col(n).fill_null("") for n in names])


def _producer_expr(spec: FormatSpec) -> pl.Expr:
    pb = spec.producer_by
    if pb is None:
        return pl.lit(spec.producer)
    return pl.col(pb.group).replace_strict(pb.mapping, default=pb.default, return_dtype=pl.String)


def _timestamp_exprs(spec: FormatSpec, ctx: ParseContext) -> list[pl.Expr]:
    rule = spec.timestamp
    assert rule is not None
    date = pl.col(rule.date).str.replace_all("  ", " ", literal=True)  # a space-padded day: `Mar  4`
    formats = [f.replace("  ", " ") for f in rule.formats]
    if rule.yearless:
        year = ctx.year or (ctx.collected_at.year if ctx.collected_at else 1970)
        date = pl.concat_str([pl.lit(str(year)), pl.lit(" "), date])
        formats = ["%Y " + f for f in formats]
    ts = pl.coalesce([date.str.strptime(pl.Datetime("us"), f, strict=False) for f in formats])
    if rule.fraction:
        micros = pl.col(rule.fraction).cast(pl.Int64, strict=False) * FRACTION_UNITS[rule.fraction_unit]
        ts = ts + pl.duration(microseconds=micros.fill_null(0))
    exprs = [ts.alias("ts_local")]
    if rule.offset:
        exprs.append(offset_minutes(pl.col(rule.offset)).alias("utc_offset"))
    elif rule.utc:
        exprs.append(pl.lit(0, dtype=pl.Int16).alias("utc_offset"))
    return exprs


def offset_minutes(text: pl.Expr) -> pl.Expr:
    """`+0100` -> 60, `-0500` -> -300; tolerates the C++ `-03-30` quirk, `+01:00` and a bare `+01`.

    Sign, two hour digits, then the minutes as the last two characters: fixed slices instead of
    stripping non-digits with a regex, which would cost more on every zoned line.
    """
    hours = text.str.slice(1, 2).cast(pl.Int32, strict=False)
    minutes = pl.when(text.str.len_bytes() > 3).then(text.str.slice(-2).cast(pl.Int32, strict=False)).otherwise(0)
    sign = pl.when(text.str.starts_with("-")).then(-1).otherwise(1)
    return (sign * (hours * 60 + minutes.fill_null(0))).cast(pl.Int16)


def _roll_years(frame: pl.DataFrame, format_id: str, ctx: ParseContext) -> pl.DataFrame:
    """Year-less stamps (journal, syslog): add a year at each Dec -> Jan roll-over, and step
    back a year when the guess lands well after the bundle was collected (a December log in a
    bundle collected in January). In a chunked member the roll-overs carry on from the chunk
    before, and once a chunk stepped back the chunks after it do too."""
    carry = ctx.carry
    before, years = carry.years.get(format_id, (None, 0)) if carry else (None, 0)
    previous = pl.col("ts_local").shift(1, fill_value=pl.lit(before, dtype=pl.Datetime("us")))
    back = ((pl.col("ts_local") - previous) < -NEW_YEAR_JUMP).fill_null(False).cast(pl.Int32).cum_sum()
    if carry is not None and frame.height:
        carry.years[format_id] = (frame["ts_local"][-1], years + int(frame.select(back.last()).item()))
    frame = frame.with_columns(pl.col("ts_local").dt.offset_by(pl.format("{}y", back + years)))
    if ctx.collected_at is not None and ctx.year is None:
        last = frame["ts_local"].max()
        late = isinstance(last, datetime) and last > ctx.collected_at + _FUTURE_SLACK
        if late or (carry is not None and format_id in carry.stepped_back):
            frame = frame.with_columns(pl.col("ts_local").dt.offset_by("-1y"))
            if carry is not None:
                carry.stepped_back.add(format_id)
    return frame


def _unwrap(fields: pl.DataFrame, formats: list[FormatSpec], ctx: ParseContext) -> pl.DataFrame:
    """A journald/syslog line often carries a full OVS line: its own time, zone and level win.

    The carried messages are matched as lines of their own (null where a line carries none),
    which keeps the inner fields row-aligned with `fields`: no join.
    """
    inner_formats = [f for f in formats if not f.wraps]
    carries = pl.col("format").is_in([f.id for f in formats if f.wraps])
    for spec in formats:
        if spec.wraps_component:
            relogged = pl.col("component").cast(pl.String).str.contains(spec.wraps_component).fill_null(False)
            carries = carries | ((pl.col("format") == spec.id) & relogged)
    carried = fields.select(pl.when(carries).then(pl.col("message")).alias("carried")).to_series()
    if carried.null_count() == carried.len():
        return fields
    inner = match_lines(carried, inner_formats, ctx, allow_wrappers=False)
    if inner["format"].null_count() == inner.height:
        return fields
    taken = ("ts_local", "utc_offset", "host", "pid", "thread", "component", "level", "level_raw",
             "message", "producer", "format")
    joined = fields.hstack(inner.select(pl.col(c).alias(f"inner_{c}") for c in taken))
    has_inner = pl.col("inner_format").is_not_null()
    has_inner_time = pl.col("inner_ts_local").is_not_null()
    replaced = [
        pl.when(has_inner_time if c in ("ts_local", "utc_offset") else has_inner)
        .then(pl.col(f"inner_{c}")).otherwise(pl.col(c)).alias(c)
        for c in ("ts_local", "utc_offset", "level", "level_raw", "message", "producer")
    ] + [pl.coalesce(pl.col(f"inner_{c}"), pl.col(c)).alias(c) for c in ("pid", "thread", "component")]
    return joined.with_columns(
        *replaced,
        pl.when(has_inner).then(pl.col("format")).otherwise(None).alias("wrapper"),
        pl.when(has_inner).then(pl.col("inner_format")).otherwise(pl.col("format")).alias("format"),
        pl.col("host").fill_null(pl.col("inner_host")),
    ).drop([f"inner_{c}" for c in taken])

"""Turn one member's bytes into a table of events, vectorized over the whole file.

Steps, each a Polars expression over every line at once (no Python loop per line):
decode -> split lines -> try each format's header regex on the lines still unexplained ->
build local timestamps and offsets -> assemble multi-line records -> re-parse the message of
wrapper formats (journald, syslog) that carry a whole OVS line inside.

Every physical line ends up in exactly one record: a line no format explains and that cannot
continue a record is kept as an `unparsed` record, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import chain

import polars as pl

from analyzer.archive_text import looks_binary
from analyzer.formats import FRACTION_UNITS, TEMPLATE_FIELD, FormatSpec, OnePassForm

LEVELS = ("trace", "debug", "info", "notice", "warning", "error", "critical")
LEVEL_TYPE = pl.Enum(LEVELS)
_LEVEL_WORDS = {
    "trace": "trace", "debug": "debug", "periodic": "debug", "info": "info", "notice": "notice",
    "notification": "notice", "warning": "warning", "warn": "warning", "error": "error", "err": "error",
    "critical": "critical", "crit": "critical", "fatal": "critical", "alert": "critical", "emerg": "critical",
}

#: Columns of the event table and their types (documented in docs of `ovs-analyzer parse`).
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "host": pl.String(),
    "source": pl.String(),
    "line": pl.UInt32(),
    "ts_local": pl.Datetime("us"),
    "utc_offset": pl.Int16(),
    "producer": pl.String(),
    "format": pl.String(),
    "wrapper": pl.String(),
    "component": pl.String(),
    "level": LEVEL_TYPE,
    "level_raw": pl.String(),
    "pid": pl.String(),
    "thread": pl.String(),
    "service": pl.String(),
    "vpool": pl.String(),
    "message": pl.String(),
    "raw": pl.String(),
    "parse_status": pl.String(),
}
_FIELDS = [c for c in EVENT_SCHEMA if c not in ("source", "line", "raw", "parse_status", "vpool")]
#: Lines of a file the format sampler looks at first (all of them in a file this short).
SAMPLE_LINES = 400
#: A year-less stamp this far before the one read before it crossed a New Year (Dec -> Jan).
_NEW_YEAR_JUMP = pl.duration(days=180)
#: A year-less stamp this far after the collection time must belong to the previous year.
_FUTURE_SLACK = timedelta(days=60)


#: Members larger than this are parsed a chunk of whole records at a time: memory follows the chunk.
CHUNK_BYTES = 16 * 1024**2


@dataclass
class ChunkCarry:
    """What one chunk of a member hands the next, so the chunks read as one file.

    `years` holds, per year-less format, the last stamp read and the years added at Dec -> Jan
    roll-overs so far; `stepped_back` the formats whose stamps were moved back a year.
    """

    host: str | None = None
    years: dict[str, tuple[datetime | None, int]] = field(default_factory=dict)
    stepped_back: set[str] = field(default_factory=set)

    def restore(self, saved: ChunkCarry) -> None:
        """Go back to `saved`, in place (the chunker holds this object): a chunk matched again
        must not roll its years over twice."""
        self.host, self.years, self.stepped_back = saved.host, saved.years, saved.stepped_back


@dataclass(frozen=True)
class ParseContext:
    """What the bundle knows that a member alone does not: its rough date."""

    year: int | None = None
    collected_at: datetime | None = None
    #: The zone of the member's zone-less stamps, when the member states it (a journal header).
    naive_offset: int | None = None
    #: Set while a member is parsed in chunks (see `parse_chunks`).
    carry: ChunkCarry | None = field(default=None, compare=False)


@dataclass
class ParsedMember:
    """A member's events plus the accounting that proves no line was lost."""

    source: str
    events: pl.DataFrame
    lines: int = 0
    binary: bool = False
    invalid_utf8: int = 0
    #: Records split off the line they were glued to (`_unglued`): they share its line number.
    glued: int = 0
    formats: dict[str, int] = field(default_factory=dict)

    @property
    def unparsed(self) -> int:
        # counted on the one column: a filter would copy every column of the kept rows first
        return int(self.events.select((pl.col("parse_status") == "unparsed").sum()).item())


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENT_SCHEMA)


def split_lines(data: bytes) -> tuple[pl.Series, int]:
    """Decode as UTF-8 (invalid bytes replaced and counted) and split into physical lines.

    Polars' line reader splits and validates in Rust; only a file with invalid UTF-8 takes the
    slower road through Python's decoder, which replaces and counts the bad bytes.
    """
    invalid = 0
    try:
        lines = pl.read_lines(data, name="text")["text"]
    except pl.exceptions.ComputeError:
        text = data.decode("utf-8", errors="replace")
        invalid = text.count("\ufffd") - data.count("\ufffd".encode())
        lines = pl.read_lines(text.encode(), name="text")["text"]
    return (lines.str.strip_suffix("\r") if b"\r" in data else lines), invalid  # a copy only for CRLF files


def parse_member(source: str, data: bytes, formats: list[FormatSpec], ctx: ParseContext) -> ParsedMember:
    """Parse a whole member; see the module docstring for the steps."""
    if looks_binary(data):
        return ParsedMember(source=source, events=empty_events(), binary=True)
    lines, invalid = split_lines(data)
    return _parse_lines(source, lines, invalid, formats, ctx)


def parse_chunks(source: str, text: bytes | Iterator[bytes], formats: list[FormatSpec], ctx: ParseContext,
                 chunk_bytes: int | None = None) -> Iterator[ParsedMember]:
    """Parse a member as consecutive chunks of about `chunk_bytes`, each a `ParsedMember` of whole records.

    `text` is the whole member, or its blocks of whole lines as they are read (a streamed member).
    A chunk ends on a line end; the lines of its last record are held back and parsed again at
    the start of the next chunk, so a multi-line record is never cut (a record larger than a chunk
    makes its chunk grow); they are carried as lines, so every byte is split into lines once.
    Line numbers count from the member's start, the stated host and year roll-overs carry over;
    each chunk picks its formats from its own sample of lines. Unlike a whole member,
    a chunk fills missing hosts from the hosts stated so far, not from later chunks. A member no larger
    than `chunk_bytes` (default `CHUNK_BYTES`) is one chunk, parsed exactly as `parse_member` parses it.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    if isinstance(text, bytes):
        if len(text) <= chunk_bytes or looks_binary(text):
            yield parse_member(source, text, formats, ctx)
            return
        batches = _Batches(_whole_text_batches(text, chunk_bytes))
    else:
        first = next(text, b"")
        if not first or looks_binary(first):
            for _ in text:  # read past it: a binary file is counted, not parsed
                pass
            yield parse_member(source, first, formats, ctx)  # nothing read, or binary
            return
        batches = _Batches(_block_batches(chain([first], text)))
    carry = ChunkCarry()
    first_line = 0  # lines of the member yielded so far
    held = pl.Series("text", [], dtype=pl.String)  # the lines of the record held back for the next chunk
    invalid = 0  # invalid UTF-8 read but not yet yielded
    size = chunk_bytes
    while True:
        read, read_invalid, last_piece = batches.take(size)
        parts = [part for part in (held, *read) if part.len()]
        if not parts:
            return
        lines = parts[0] if len(parts) == 1 else pl.concat(parts)
        invalid += read_invalid
        before = deepcopy(carry)
        parsed = _parse_lines(source, lines, invalid, formats, replace(ctx, carry=carry), first_line)
        if not last_piece:
            last = int(parsed.events["line"][-1]) - first_line  # 1-based in the chunk
            if last == 1:  # one record fills the chunk: read on until it ends
                held, carry, size = lines, before, size * 2
                continue
            held = lines.slice(last - 1)  # a view: the held lines are not split again
            parsed = _without_last_record(parsed, last - 1)
        yield parsed
        if last_piece:
            return
        first_line, invalid, size = first_line + parsed.lines, 0, chunk_bytes


#: One batch of a member's lines: the lines, about how many bytes they held, invalid UTF-8 replaced in them.
_Batch = tuple[pl.Series, int, int]


def _whole_text_batches(text: bytes, chunk_bytes: int) -> Iterator[_Batch]:
    """A whole member split into lines at once, then cut into slices (views, not copies) that end
    at the first line end `chunk_bytes` on; a rest under a quarter of that joins the slice before."""
    lines, invalid = split_lines(text)
    ends = (lines.str.len_bytes().cast(pl.Int64) + 1).cum_sum()  # each line's end, in bytes
    total = int(ends[-1]) if len(ends) else 0
    start = 0
    while start < lines.len():
        done = int(ends[start - 1]) if start else 0
        stop = min(int(ends.search_sorted(done + chunk_bytes, side="left")) + 1, lines.len())
        if total - int(ends[stop - 1]) < chunk_bytes // 4:
            stop = lines.len()
        yield lines.slice(start, stop - start), int(ends[stop - 1]) - done, invalid if start == 0 else 0
        start = stop


def _block_batches(blocks: Iterator[bytes]) -> Iterator[_Batch]:
    """A streamed member's blocks of whole lines (about a chunk each, see `member_stream.BLOCK_BYTES`),
    each split as it comes: no block is joined to another or copied."""
    for block in blocks:
        if block:
            lines, invalid = split_lines(block)
            yield lines, len(block), invalid


class _Batches:
    """A member's line batches, taken a chunk's worth at a time; one batch is read ahead to tell the last."""

    def __init__(self, batches: Iterator[_Batch]) -> None:
        self._batches = batches
        self._next = next(batches, None)

    def take(self, size: int) -> tuple[list[pl.Series], int, bool]:
        """Batches holding at least three quarters of `size` bytes (unless the member ends first), the
        invalid UTF-8 replaced in them, and whether they are the last."""
        taken: list[pl.Series] = []
        got = invalid = 0
        while self._next is not None and (not taken or got < size - size // 4):
            lines, count, replaced = self._next
            taken.append(lines)
            got, invalid = got + count, invalid + replaced
            self._next = next(self._batches, None)
        return taken, invalid, self._next is None


def _without_last_record(parsed: ParsedMember, lines: int) -> ParsedMember:
    """The chunk minus its last record (it keeps its first `lines` lines), recounted; records
    glued on the last record's line go with it, since that whole line is parsed again."""
    events = parsed.events.head(parsed.events.height - 1)
    glued = 0
    if parsed.glued:
        events = events.filter(pl.col("line") < parsed.events["line"][-1])
        glued = _glued_count(events)
    return ParsedMember(
        source=parsed.source, events=events, lines=lines, invalid_utf8=parsed.invalid_utf8,
        formats=_format_counts(events), glued=glued,
    )


def _format_counts(events: pl.DataFrame) -> dict[str, int]:
    """Records per format, in the order the formats first appear: the inventory and findings.json
    list them in this order, and the same bundle must give the same bytes."""
    counts = events.group_by("format", maintain_order=True).len().drop_nulls("format")
    return dict(zip(counts["format"].to_list(), counts["len"].to_list(), strict=True))


def _parse_lines(source: str, lines: pl.Series, invalid: int, formats: list[FormatSpec], ctx: ParseContext,
                 first_line: int = 0) -> ParsedMember:
    """The records of `lines` (physical lines `first_line` + 1 on of the member; `invalid` UTF-8
    sequences were replaced in them)."""
    if lines.len() == 0:
        return ParsedMember(source=source, events=empty_events(), invalid_utf8=invalid)
    physical_lines = lines.len()
    before = deepcopy(ctx.carry)
    fields = match_lines(lines, formats, ctx)
    unglued = _unglued(lines, fields)
    if unglued is not None:
        lines, physical = unglued
        if ctx.carry is not None and before is not None:
            ctx.carry.restore(before)
        fields = match_lines(lines, formats, ctx)
    fields = _reread_pasted_lines(lines, fields, formats, ctx)
    events = fold_journal_tracebacks(_assemble_records(lines, fields, formats))
    if unglued is not None:  # back to the lines of the member
        events = events.with_columns(physical.gather(events["line"].cast(pl.Int64) - 1).alias("line"))
    stated = events["host"].drop_nulls().mode().sort()
    host = stated[0] if stated.len() else None
    if ctx.carry is not None:
        host = ctx.carry.host = host or ctx.carry.host
    stated_zone = pl.when(pl.col("ts_local").is_not_null()).then(pl.lit(ctx.naive_offset, dtype=pl.Int16))
    events = events.with_columns(
        pl.lit(source).alias("source"),
        pl.col("host").fill_null(pl.lit(host, dtype=pl.String)),
        pl.lit(_vpool_of(source), dtype=pl.String).alias("vpool"),
        pl.col("utc_offset").fill_null(stated_zone),
    )
    events = events.select(pl.col(c) if events.schema[c] == kind else pl.col(c).cast(kind)
                           for c, kind in EVENT_SCHEMA.items())  # a column no format filled is all null
    if first_line:
        events = events.with_columns(pl.col("line") + first_line)
    return ParsedMember(
        source=source,
        events=events,
        lines=physical_lines,
        invalid_utf8=invalid,
        formats=_format_counts(events),
        glued=_glued_count(events) if unglued is not None else 0,
    )


#: A record glued to the end of the line before it by a copy-paste (`… took 0.000592Jan 11
#: 12:51:23 …`, ../shared/ovs-log-formats.md 11.8): a syslog, ISO or slash-dated stamp right after
#: a letter, digit or full stop. A stamp after a space, bracket or colon is text or a wrapped record.
_GLUED = (r"([0-9A-Za-z.])((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d "
          r"|\d{4}[-/]\d\d[-/]\d\d[ T]\d\d:\d\d:\d\d)")
#: A glued record puts a time of day after the header of the line it is glued to.
_TIME_OF_DAY = r"\d\d:\d\d:\d\d"


def _unglued(lines: pl.Series, fields: pl.DataFrame) -> tuple[pl.Series, pl.Series] | None:
    """The lines with every glued record cut onto a line of its own, and each line's 1-based
    number among `lines`; None when no record is glued.

    Only lines whose message (or whole text, where no format explains them) holds a time of day
    are searched for a glued stamp: finding those is one scan of the messages (~0.2 s CPU per GiB
    of bundle), and they are few. The choice is per line, so chunking cannot change it."""
    timed = fields.select(pl.coalesce("message", pl.lit(lines)).str.contains(_TIME_OF_DAY)).to_series()
    if not timed.any() or not lines.filter(timed).str.contains(_GLUED).any():
        return None
    cut = pl.DataFrame({"text": lines}).with_row_index("line", offset=1).with_columns(
        pl.col("text").str.replace_all(_GLUED, "${1}\n${2}").str.split("\n")
    ).explode("text")
    return cut["text"], cut["line"]


def _glued_count(events: pl.DataFrame) -> int:
    """Records on the same line as the record before them: only a glued record is."""
    return int(events.select((pl.col("line").diff() == 0).sum()).item())


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
    # both cores, and splitting one chunk into morsels over more threads cost CPU (1 GiB bench -0.2 to
    # -0.5 s); the chunk's extra columns live a moment longer, paid for by jemalloc's shorter decay
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


#: Each level word as producers write it: lower case (C++, OCaml), UPPER (Python), Capitalized.
_LEVEL_SPELLINGS = {spelt: level for word, level in _LEVEL_WORDS.items()
                    for spelt in (word, word.upper(), word.capitalize())}


def level_expr(raw: pl.Expr) -> pl.Expr:
    """Any producer's level word on the one scale trace < ... < critical.

    Headers capture the bare word (padding stays outside the group), so each spelling is
    looked up as written: 3x cheaper than stripping and lower-casing 5 M words first."""
    return raw.replace_strict(_LEVEL_SPELLINGS, default=None)


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
    stripping non-digits with a regex (4x cheaper, and this runs on every zoned line).
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
    back = ((pl.col("ts_local") - previous) < -_NEW_YEAR_JUMP).fill_null(False).cast(pl.Int32).cum_sum()
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


#: An unexplained line that starts like this is a record of a format nobody taught the tool, not
#: the continuation of the record before it (ISO or slash dates, syslog stamps, `[date` prefixes).
_STAMPED = (r"^\s*(?:\d{4}[-/]\d\d[-/]\d\d[ T]\d\d:\d\d|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d"
            r"|\d{1,2}月 [ \d]\d \d\d:|\[\d{4}-\d\d-\d\d)")


def _reread_pasted_lines(lines: pl.Series, fields: pl.DataFrame, formats: list[FormatSpec],
                         ctx: ParseContext) -> pl.DataFrame:
    """Lines a customer pasted into a ticket (../shared/ovs-log-formats.md 11.8) that no format
    explains as they are, matched again as they were before the paste: a leading space and
    markdown escapes (`\\+0200`, `\\_run_hooks`) taken out, and a hard wrap inside the header
    (`- inf\\no -`) undone: a stamped line no format explains and the unstamped line after it, if
    no format explains that one either, are matched as one line, and where that explains them the
    second (`cut_tail`) continues the first's record whatever its format says of continuation
    lines. `raw` keeps the lines as they are. A year-less stamp re-read so takes its year from the
    lines of its format around it (`_years_from_neighbours`)."""
    unexplained = fields["format"].is_null()
    if not unexplained.any():
        return fields  # the usual file: one null count
    ctx = replace(ctx, carry=None)
    texts = pl.DataFrame({"text": lines, "open": unexplained}).with_row_index("idx").with_columns(
        pl.col("text").shift(-1).alias("tail"), pl.col("open").shift(-1).fill_null(False).alias("tail_open"),
    ).filter(pl.col("open")).filter(pl.col("text").str.contains(_STAMPED))
    single = texts.with_columns(_unpasted(pl.col("text")).alias("clean")).filter(pl.col("clean") != pl.col("text"))
    fields, reread = _reread(fields, single["idx"], single["clean"], formats, ctx)
    pairs = texts.filter(pl.col("tail_open") & ~pl.col("idx").is_in(reread.implode())
                         & ~pl.col("tail").str.contains(_STAMPED))
    fields, cut = _reread(fields, pairs["idx"], _unpasted(pairs["text"] + pairs["tail"]), formats, ctx)
    fields = _years_from_neighbours(fields, pl.concat([reread, cut]), formats)
    return fields.with_columns(pl.col("idx").is_in((cut + 1).implode()).alias("cut_tail")) if cut.len() else fields


def _years_from_neighbours(fields: pl.DataFrame, reread: pl.Series, formats: list[FormatSpec]) -> pl.DataFrame:
    """Re-read rows of a year-less format in the year of the nearest row of that format read as
    it was: the one before (a year later if the stamp would then go back more than half a year:
    a New Year in between), else the one after (a year earlier the other way round). Matched
    apart from the other lines, they would roll over and step back on their own."""
    yearless = [f.id for f in formats if f.timestamp is not None and f.timestamp.yearless]
    if reread.len() == 0 or not yearless:
        return fields
    ts = pl.col("ts_local")
    again = pl.col("idx").is_in(reread.implode()) & pl.col("format").is_in(yearless) & ts.is_not_null()
    read_as_is = pl.when(~again).then(ts)
    before = read_as_is.forward_fill().over("format")  # rows are in line order
    after = read_as_is.backward_fill().over("format")

    def in_year_of(anchor: pl.Expr) -> pl.Expr:
        return ts.dt.offset_by(pl.format("{}y", anchor.dt.year().cast(pl.Int32) - ts.dt.year().cast(pl.Int32)))

    near_before, near_after = in_year_of(before), in_year_of(after)
    from_before = pl.when(near_before < before - _NEW_YEAR_JUMP).then(near_before.dt.offset_by("1y")) \
        .otherwise(near_before)
    from_after = pl.when(near_after > after + _NEW_YEAR_JUMP).then(near_after.dt.offset_by("-1y")) \
        .otherwise(near_after)
    return fields.with_columns(pl.when(again).then(pl.coalesce(from_before, from_after, ts)).otherwise(ts)
                               .alias("ts_local"))


def _unpasted(text: pl.Expr | pl.Series) -> pl.Expr | pl.Series:
    return text.str.strip_chars_start().str.replace_all(_MARKDOWN_ESCAPE, "$1")


#: A backslash markdown put before punctuation it would otherwise read as markup.
_MARKDOWN_ESCAPE = r"\\([\\`*_{}\[\]()#+\-.!|<>~])"


def _reread(fields: pl.DataFrame, idx: pl.Series, texts: pl.Series, formats: list[FormatSpec],
            ctx: ParseContext) -> tuple[pl.DataFrame, pl.Series]:
    """`fields` with the rows `idx` taken from `texts` where a format explains them; and those rows."""
    if texts.len() == 0:
        return fields, idx.clear()
    matched = match_lines(texts, formats, ctx).with_columns(idx.alias("idx"))
    hits = matched.filter(pl.col("format").is_not_null())
    if hits.height == 0:
        return fields, idx.clear()
    fields = fields.update(hits, on="idx")
    if not fields["idx"].is_sorted():  # rows stay aligned with the lines
        fields = fields.sort("idx")
    return fields, hits["idx"]


def _assemble_records(lines: pl.Series, fields: pl.DataFrame, formats: list[FormatSpec]) -> pl.DataFrame:
    """Fold continuation lines into the record they continue; the rest become `unparsed`.

    A line no format explains continues the record before it when that record's format says
    records may span lines (tracebacks, banners, a journal entry's indented lines, a customer's
    hard wraps) and the line does not itself start with a time stamp.
    """
    frame = fields.with_columns(
        lines.alias("text"),
        (pl.col("idx") + 1).cast(pl.UInt32).alias("line"),
        pl.col("format").is_not_null().alias("is_header"),
    )
    if "wrapper" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("wrapper"))
    continues = pl.when(pl.col("is_header")).then(pl.col("multiline")).forward_fill().fill_null(False)
    if not frame["is_header"].all():
        continues = continues & ~pl.col("text").str.contains(_STAMPED).fill_null(False)
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
    same host, ident and pid within two seconds fold into the entry before them when they are
    the `Traceback (most recent call last):` line, an indented frame line, or the exception line
    right after a frame; only runs that contain a traceback line fold. The folded record keeps
    its first entry's fields and line number and all entries' raw text.
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
        & an_entry.shift(1)
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


def _vpool_of(source: str) -> str | None:
    """`var/log/ovs/volumedriver/<vpool>.log`, `foc_<vpool>.log`, `dtl_<vpool>.log`."""
    parts = source.split("/")
    if len(parts) < 2 or parts[-2] != "volumedriver":
        return None
    stem = parts[-1].split(".log")[0]
    for prefix in ("foc_", "dtl_"):
        if stem.startswith(prefix):
            return stem[len(prefix):]
    if stem.startswith("metadataserver_"):
        return stem[len("metadataserver_"):].rsplit("_", 1)[0]
    return stem.removesuffix("_ganesha")


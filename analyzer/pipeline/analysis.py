"""The analysis of one bundle: members -> events -> hits and aggregates -> findings.

Members are read one at a time. Small ones are gathered into batches, each parsed in one pass
(`parse_members`) and analyzed in one pass: rules, aggregates and collectors run on the events
of all its members at once (every result keyed by `source`), so a bundle of thousands of tiny
members pays their fixed costs once a batch, not once a member. A large member is parsed and
analyzed a chunk at a time. Only small things are kept per batch (rule hits, per-minute counts,
offset samples, inventory rows), so memory is bounded by a batch or chunk, not the bundle. A
later copy of a duplicated member replaces the earlier one's results, as `ovs collect logs` bug
#1146 requires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.collectors.member_kind import classify
from analyzer.collectors.protocol import Batch, BundleView, Collector
from analyzer.detection.coverage import judge_versions, rule_coverage
from analyzer.detection.evidence import with_context
from analyzer.detection.findings import EVIDENCE_TEXT, Finding, build_findings
from analyzer.detection.matcher import find_hits
from analyzer.detection.rule import ENTITY_GROUPS, Rule
from analyzer.detection.unknown import templates_section, unexplained_errors
from analyzer.frames import Packed, gather_columns, unpack_all
from analyzer.heap import release_free_heap
from analyzer.isotime import iso
from analyzer.lanes import Lane
from analyzer.parsing.chunks import CHUNK_BYTES, CHUNK_LINES, one_chunk, parse_chunks
from analyzer.parsing.context import ParseContext
from analyzer.parsing.copies import HIT_TEXT_KEY, JOURNAL_SOURCES, TEXT_KEY, JournalCopies, drop_copied_hits
from analyzer.parsing.formats import FormatSpec, load_formats
from analyzer.parsing.journal_header import read_header
from analyzer.parsing.member import ParsedMember, parse_members
from analyzer.parsing.summary import activity, in_timeline
from analyzer.parsing.summary import spans as spans_of
from analyzer.parsing.timezones import OFFSETS_SCHEMA, fill_offsets, samples_of, summary_tallies
from analyzer.pipeline.counts import _COUNT_KEYS, _COUNTED, counts_in_utc, dominant_host, end_of_logs, minute_counts
from analyzer.pipeline.registry import default_collectors
from analyzer.reading.bundle import Bundle, Caps, Member, describe, file_sha256, iter_members
from analyzer.reading.stream import TextStream
from analyzer.timings import stage, timed


@dataclass
class MemberReport:
    """What the inventory says about one member."""

    path: str
    stored_size: int
    size: int
    lines: int
    records: int
    unparsed: int
    binary: bool
    invalid_utf8: int
    formats: dict[str, int]
    first_seen: str | None = None
    last_seen: str | None = None
    warnings: list[str] = field(default_factory=list)
    kind: str | None = None
    era: str | None = None
    rotation_set: str | None = None
    #: Records that repeat journal entries (rsyslog's copies): left out of the timeline.
    journal_copies: int = 0
    #: Records a copy-paste had glued to the end of the line before them, read as records of their own.
    glued: int = 0
    #: Records of a format with a time stamp whose stamp names no day of the calendar (Feb 30, 24:00,
    #: Feb 29 of a year-less log settled in a common year) or a time before `CLOCK_SET_BY` (a clock
    #: not yet set): kept, on no timeline; and the first one's line.
    untimed: int = 0
    first_untimed_line: int | None = None


@dataclass
class Analysis:
    """Everything the outputs need; never the full event table."""

    bundle: Bundle
    members: list[MemberReport]
    findings: list[Finding]
    rules: list[Rule]
    counts: pl.DataFrame
    hosts: list[str]
    first_seen: str | None
    last_seen: str | None
    learned_offsets: int
    coverage: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    sha256: str | None = None

    @property
    def lines(self) -> int:
        return sum(m.lines for m in self.members)

    @property
    def unparsed(self) -> int:
        return sum(m.unparsed for m in self.members)


#: A batch of small members is parsed and handed to the analysis lane once it holds this many
#: members (so the lane works beside the parser on a bundle of tiny members), or about a chunk's
#: lines or bytes.
BATCH_MEMBERS = 256


@dataclass
class _Piece:
    """A parsed member, or one chunk of a large one, on its way to the lane, with its inventory row
    so far."""

    report: MemberReport
    parsed: ParsedMember
    #: Its place among its member's chunks, for a member parsed in chunks (each is then a batch of
    #: its own, and what a chunk leaves carries on to the next); None for a member parsed whole.
    chunk: int | None = None


@dataclass
class _BatchResult:
    """What the lane keeps of a batch: one inventory row per piece, and frames of rows keyed by
    `source`, each member's rows together and in archive order, packed until they are combined."""

    reports: list[MemberReport]
    hits: Packed
    counts: Packed
    offsets: Packed
    spans: Packed
    activity: Packed
    unknown: Packed
    parts: dict[str, Packed]


def analyze(path: Path | Bundle, rules: list[Rule], formats: list[FormatSpec] | None = None,
            caps: Caps = Caps(), collectors: list[Collector] | None = None,
            progress: Callable[[Member], None] | None = None) -> Analysis:
    """Analyze one bundle file or folder (or a node `Bundle` of a bundle of bundles);
    `progress` hears of each member once it is parsed (a small one with its batch)."""
    formats = formats if formats is not None else load_formats()
    collectors = default_collectors() if collectors is None else collectors
    bundle = path if isinstance(path, Bundle) else describe(path)
    pending: dict[str, _PendingMember] = {}
    copies = JournalCopies()  # used on the lane only, in archive order
    clocks: dict[str, datetime] = {}  # likewise: each member's last zoned instant, for its next chunk
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ovs-sha256") as hasher, Lane() as lane:
        sha256 = hasher.submit(file_sha256, bundle.path)
        batches = _Batches(lane, partial(_analyze_batch, rules=rules, formats=formats, collectors=collectors,
                                         copies=copies, clocks=clocks), bundle, formats, progress)
        for member in timed(iter_members(bundle, caps), "read"):
            if member.path in pending:
                bundle.warnings.append(f"member {member.path} appears twice in the archive: the last copy was used")
                batches.drop(member.path, pending[member.path].places)
            pending[member.path] = _PendingMember(member.path, batches.add(member), formats, member.warnings,
                                                  member.stream)
            del member  # its bytes go once it is parsed
        with stage("wait for analysis"):
            results = batches.results()
        digest = sha256.result()
    with stage("combine"):
        release_free_heap()  # what reading and parsing freed: the combine's frames cannot reuse it
        reports = [member.report(results) for member in pending.values()]
        return replace(_combine(bundle, reports, batches.kept(results), copies.late(_COUNT_KEYS), rules, collectors,
                                formats), sha256=digest)


def parse_bundle_chunks(member: Member, bundle: Bundle, formats: list[FormatSpec]) -> Iterator[ParsedMember]:
    """A member's records a chunk at a time (see `parse_chunks`), parsed with what the bundle knows
    (host, collection time, journal year) and numbered as lines of the member in the bundle."""
    chunks = parse_chunks(member.path, member.text(), formats, _parse_context(member, bundle))
    return (_numbered(parsed, member) for parsed in chunks)


def parse_bundle_members(members: list[Member], bundle: Bundle, formats: list[FormatSpec]) -> list[ParsedMember]:
    """Whole members parsed in one pass (`parse_members`), as `parse_bundle_chunks` parses each."""
    parsed = parse_members([(m.path, m.data, _parse_context(m, bundle)) for m in members], formats)
    return [_numbered(p, m) for p, m in zip(parsed, members, strict=True)]


def _numbered(parsed: ParsedMember, member: Member) -> ParsedMember:
    """Records numbered as lines of the member in the bundle, and untimed where stamped before
    `CLOCK_SET_BY`: on the timeline, one such record would stretch the bundle's span back to 1970."""
    if member.first_line != 1:  # lines a rotation neighbour holds were dropped from the head
        parsed.events = parsed.events.with_columns(pl.col("line") + (member.first_line - 1))
    earliest = parsed.events["ts_local"].min()
    if earliest is not None and earliest < CLOCK_SET_BY:
        local = pl.col("ts_local")
        parsed.events = parsed.events.with_columns(pl.when(local >= CLOCK_SET_BY).then(local).alias("ts_local"))
    return parsed


def _parse_context(member: Member, bundle: Bundle) -> ParseContext:
    header = read_header(member.head())
    return ParseContext(
        year=header.year,
        collected_at=bundle.collected_at or datetime.fromtimestamp(member.mtime),
        naive_offset=header.offset,
    )


def _report(member: Member, parsed: ParsedMember) -> MemberReport:
    """A piece's inventory row as parsing leaves it (the lane counts its unparsed records and copies)."""
    return MemberReport(
        path=member.path, stored_size=member.stored_size, size=member.size, lines=parsed.lines,
        records=parsed.events.height, unparsed=0, binary=parsed.binary, invalid_utf8=parsed.invalid_utf8,
        glued=parsed.glued, formats=parsed.formats, warnings=list(member.warnings),
    )


#: No Open vStorage node wrote a log before this: a record stamped earlier was written before the
#: node's clock was set (a dead clock battery at boot, before NTP: 1970-01-01, 2000-01-01).
CLOCK_SET_BY = datetime(2010, 1, 1)

#: Where a piece's inventory row is: its batch, and its place in the batch.
_Place = tuple[int, int]


class _Batches:
    """Members gathered into batches, parsed and handed to the lane in archive order.

    A batch holds whole members, each once, up to `BATCH_MEMBERS` of them and about a chunk's
    lines and bytes (`CHUNK_LINES`, `CHUNK_BYTES`), so memory stays that of a chunk; a member
    parsed in chunks goes a chunk at a time, each a batch of its own. A journal dump starts a
    batch, so every member after it in the batch is looked at for copies of its entries, and
    none before it (`JournalCopies.of`)."""

    def __init__(self, lane: Lane, work: Callable[[list[_Piece]], _BatchResult], bundle: Bundle,
                 formats: list[FormatSpec], progress: Callable[[Member], None] | None) -> None:
        self._lane, self._work, self._bundle, self._formats, self._progress = lane, work, bundle, formats, progress
        self._members: list[Member] = []
        self._paths: set[str] = set()
        self._lines = self._bytes = 0
        self._submitted: list[Future[_BatchResult]] = []
        #: Per batch, the members whose later copy replaced them: their rows are dropped.
        self._dropped: dict[int, set[str]] = {}

    def add(self, member: Member) -> list[_Place]:
        """Gather `member` into a batch (handing the one gathered so far over first if it does not
        fit), or parse a large one and hand over its chunks; where its inventory rows will be."""
        if member.stream is not None or not one_chunk(member.data):
            self.flush()
            places = []
            chunks = enumerate(timed(parse_bundle_chunks(member, self._bundle, self._formats), "parse"))
            for n, parsed in chunks:
                places.append(self._submit([_Piece(_report(member, parsed), parsed, chunk=n)]))
            self._parsed([member])
            return places
        lines = member.data.count(b"\n")
        if self._members and (member.path in self._paths or member.path in JOURNAL_SOURCES
                              or self._lines + lines > CHUNK_LINES or self._bytes + member.size > CHUNK_BYTES):
            self.flush()
        place = (len(self._submitted), len(self._members))
        self._members.append(member)
        self._paths.add(member.path)
        self._lines, self._bytes = self._lines + lines, self._bytes + member.size
        if len(self._members) >= BATCH_MEMBERS:
            self.flush()
        return [place]

    def flush(self) -> None:
        """Parse the batch gathered so far and hand it to the lane."""
        if not self._members:
            return
        with stage("parse"):
            parsed = parse_bundle_members(self._members, self._bundle, self._formats)
        self._submit([_Piece(_report(m, p), p) for m, p in zip(self._members, parsed, strict=True)])
        self._parsed(self._members)
        self._members, self._paths, self._lines, self._bytes = [], set(), 0, 0

    def _submit(self, pieces: list[_Piece]) -> _Place:
        self._submitted.append(self._lane.submit(self._work, pieces))
        return len(self._submitted) - 1, 0

    def _parsed(self, members: list[Member]) -> None:
        if self._progress is not None:
            for member in members:
                self._progress(member)

    def drop(self, path: str, places: list[_Place]) -> None:
        """Forget what the batches at `places` learn of member `path`: a later copy replaces it."""
        for batch, _ in places:
            self._dropped.setdefault(batch, set()).add(path)

    def results(self) -> list[_BatchResult]:
        """Every batch's result, once the last batch was handed over and analyzed."""
        self.flush()
        return [batch.result() for batch in self._submitted]

    def kept(self, results: list[_BatchResult]) -> list[_BatchResult]:
        """`results` without the rows of members a later copy replaced."""
        for batch, paths in self._dropped.items():
            result, gone = results[batch], pl.col("source").is_in(list(paths))
            result.hits, result.counts, result.offsets, result.spans, result.activity, result.unknown = (
                _without(frame, gone) for frame in (result.hits, result.counts, result.offsets, result.spans,
                                                    result.activity, result.unknown))
            result.parts = {name: _without(part, gone) for name, part in result.parts.items()}
        return results


def _without(packed: Packed, gone: pl.Expr) -> Packed:
    """A kept frame without the rows `gone` picks (a frame without `source` has none of them)."""
    frame = packed.unpack()
    return Packed.of(frame.filter(~gone)) if "source" in frame.columns else packed


@dataclass
class _PendingMember:
    """A member whose pieces are being analyzed on the lane."""

    path: str
    places: list[_Place]
    formats: list[FormatSpec]
    warnings: Sequence[str]
    #: A streamed member's size and warnings are final only once it was read (never its text: it is gone).
    stream: TextStream | None = None

    def report(self, results: list[_BatchResult]) -> MemberReport:
        """The member's inventory row, its pieces' rows summed."""
        pieces = [results[batch].reports[at] for batch, at in self.places]
        report = pieces[0] if len(pieces) == 1 else _merged(pieces)
        if self.stream is not None:
            report.size, report.stored_size, report.warnings = (self.stream.size, self.stream.stored_size,
                                                                list(self.warnings))
        report.kind, report.era, report.rotation_set = classify(self.path, report.formats, report.binary,
                                                                self.formats)
        if report.binary:
            report.warnings.append("binary file (not a text log): skipped")
        if report.invalid_utf8:
            report.warnings.append(f"{report.invalid_utf8} invalid UTF-8 sequence(s) replaced")
        if report.glued:
            report.warnings.append(f"{report.glued} record(s) glued to the end of a line (a copy-paste) read as "
                                   "records of their own, on that line's number")
        if report.untimed:
            report.warnings.append(f"{report.untimed} record(s) whose time stamp names no day of the calendar, or "
                                   f"a time before {CLOCK_SET_BY.year} (a clock not yet set; the first on line "
                                   f"{report.first_untimed_line}): kept, but on no timeline")
        return report


def _merged(pieces: list[MemberReport]) -> MemberReport:
    """One member's inventory row from its chunks': sums, and records per format added up."""
    formats: dict[str, int] = {}
    for piece in pieces:
        for name, count in piece.formats.items():
            formats[name] = formats.get(name, 0) + count
    return replace(pieces[0], formats=formats, first_untimed_line=next(
        (p.first_untimed_line for p in pieces if p.first_untimed_line is not None), None), **{
        key: sum(getattr(p, key) for p in pieces)
        for key in ("lines", "records", "unparsed", "invalid_utf8", "journal_copies", "glued", "untimed")
    })


def _analyze_batch(pieces: list[_Piece], rules: list[Rule], formats: list[FormatSpec],
                   collectors: list[Collector], copies: JournalCopies, clocks: dict[str, datetime]) -> _BatchResult:
    """Copies, aggregates, rules and collectors over the records of a batch of members at once;
    `clocks` holds each member's last zoned instant for its next chunk (a member starts afresh)."""
    sources = [piece.report.path for piece in pieces]
    events = pl.concat([piece.parsed.events for piece in pieces], rechunk=True) if len(pieces) > 1 \
        else pieces[0].parsed.events
    for piece in pieces:
        copies.learn(piece.report.path, piece.parsed.events)
    copy = copies.of(events, sources)
    reports = [piece.report for piece in pieces]
    with stage("aggregates"):
        history = [f.id for f in formats if not f.timeline]
        batch = Batch.of(sources, events, copy)
        summary = batch.summary
        # a record no format read (`format` null) is an unparsed one
        unparsed = _per_member(summary, pl.col("format").is_null())
        copied = _per_member(summary, pl.col("copy")) if copy is not None else {}
        untimed = _untimed(summary, events, [f.id for f in formats if f.timestamp is not None])
        for report in reports:
            report.unparsed, report.journal_copies = unparsed.get(report.path, 0), copied.get(report.path, 0)
            report.untimed, report.first_untimed_line = untimed.get(report.path, (0, None))
        active = activity(summary, history)
        counts, spans, activity_spans = minute_counts(active), spans_of(summary), spans_of(active)
        offsets = samples_of(summary_tallies(summary, ("source",)), ("source",))
        copies.defer(events, sources, _COUNTED, in_timeline(history))
    with stage("rules"):
        chunk, path = pieces[0].chunk, pieces[0].report.path
        latest = None  # members parsed whole: no chunk after these to carry a clock to
        if chunk is not None:
            latest = {path: clocks[path]} if chunk and path in clocks else {}
        hits = find_hits(events, rules, latest=latest)
        if latest:
            clocks.update(latest)
        if hits.height:
            hits = with_context(hits, events, ["rule_id", *[e for e in ENTITY_GROUPS if e in hits.columns]])
    parts = {c.name: part for c in collectors if (part := _collected(c, batch)) is not None}
    with stage("unexplained errors"):
        unknown = unexplained_errors(events, hits, _explaining(rules))
    if hits.height:
        hits = hits.with_columns(HIT_TEXT_KEY, *_as_labels(hits))
    order = {source: i for i, source in enumerate(sources)}
    kept = partial(_kept, order=order)
    return _BatchResult(reports=reports, hits=kept(hits), counts=kept(counts), offsets=kept(offsets),
                        spans=kept(spans), activity=kept(activity_spans), unknown=kept(unknown),
                        parts={name: kept(part) for name, part in parts.items()})


def _collected(collector: Collector, batch: Batch) -> pl.DataFrame | None:
    """What `collector` keeps of a batch, timed on its own `--timings` row: the collectors differ
    by far in cost, and the one to make faster should be one look away."""
    with stage(f"collector {collector.name}"):
        return collector.collect(batch)


def _untimed(summary: pl.DataFrame, events: pl.DataFrame, stamped: list[str]) -> dict[str, tuple[int, int]]:
    """Per member with any: how many records of a format with a time stamp have no time (the stamp
    names no day of the calendar, or a clock not yet set), and the line of the first of them."""
    rows = summary.filter(pl.col("format").is_in(stamped) & pl.col("minute").is_null())
    if rows.height == 0:
        return {}
    per_member = rows.group_by("source").agg(pl.col("count").sum(), pl.col("row").min())
    lines = events["line"].gather(per_member["row"]).to_list()
    return {source: (int(count), int(line)) for (source, count, _), line in
            zip(per_member.iter_rows(), lines, strict=True)}


def _per_member(summary: pl.DataFrame, picked: pl.Expr) -> dict[str, int]:
    """How many records of each member `picked` picks (only the members it picks any of), from the
    batch's fold of its records."""
    return {source: int(count) for source, count in
            summary.filter(picked).group_by("source").agg(pl.col("count").sum()).iter_rows()}


def _kept(frame: pl.DataFrame, order: dict[str, int]) -> Packed:
    """A batch's frame as it is kept: each member's rows together, in archive order and in the order
    the member alone gives them (what comes later does not depend on how members were batched),
    packed (owning its bytes, compressed)."""
    if "source" in frame.columns and len(order) > 1:
        frame = frame.sort(pl.col("source").replace_strict(order, return_dtype=pl.UInt32), maintain_order=True)
    return Packed.of(frame)


def _explaining(rules: list[Rule]) -> list[str]:
    return [r.id for r in rules if r.kind in ("match", "clock_jump")]


def _combine(bundle: Bundle, reports: list[MemberReport], results: list[_BatchResult], late: pl.DataFrame,
             rules: list[Rule], collectors: list[Collector], formats: list[FormatSpec]) -> Analysis:
    counts = _uncount_late_copies(_stacked([r.counts for r in results]), late, reports)
    node = dominant_host([counts.select("host", "count")] if counts.height else []) or bundle.host_hint

    def of_node(frame: pl.DataFrame) -> pl.DataFrame:
        """A line without a host field was written by this node."""
        return frame.with_columns(pl.col("host").fill_null(pl.lit(node, dtype=pl.String))) if "host" in frame.columns \
            else frame

    counts = of_node(counts)
    samples = _stacked([r.offsets for r in results])
    offsets = of_node(samples.select(*OFFSETS_SCHEMA)) if samples.height else pl.DataFrame(schema=OFFSETS_SCHEMA)
    # a rule may match millions of records: their text and context stay packed, and are read back
    # for the few shown as evidence (`_hit`: a hit's row in the parts one after the other)
    hit_parts = [r.hits for r in results if r.hits.height]
    hits = _stacked(hit_parts, drop=EVIDENCE_TEXT)
    if hits.height:  # once copies are told apart, their text's hash has served
        hits = drop_copied_hits(of_node(hits.with_row_index("_hit"))).drop(TEXT_KEY, strict=False)
        hits = fill_offsets(hits, offsets)
    counts, learned = counts_in_utc([counts], offsets)
    spans = _utc_spans(of_node(_stacked([r.spans for r in results])), offsets)
    for report in reports:
        report.first_seen, report.last_seen = spans.get(report.path, (None, None))
    active = _utc_spans(of_node(_stacked([r.activity for r in results])), offsets).values()
    hosts = sorted(counts["host"].drop_nulls().unique().to_list()) if counts.height else []
    if not hosts and node:
        hosts = [node]
    sections: dict[str, dict[str, Any]] = {}
    view = BundleView(bundle=bundle, node=node, to_utc=lambda frame: fill_offsets(frame, offsets), sections=sections)
    for collector in collectors:
        # handed over, not shared: a collector's parts are freed as soon as its combine lets go of them
        sections[collector.name] = collector.combine([r.parts.pop(collector.name) for r in results
                                                      if collector.name in r.parts], view)
    sections["unknown_errors"] = templates_section([r.unknown for r in results], view.to_utc)
    table_hits = [table for c in collectors if (table := c.rule_hits(rules)) is not None]  # task rules
    if any(f.height for f in table_hits):
        # labels as the rule hits have them: joined to text, all of them would become text again
        labelled = [f.with_columns(_as_labels(f)) for f in table_hits if f.height]
        hits = pl.concat([f for f in (hits, *labelled) if f.height], how="diagonal_relaxed")
    findings = build_findings(hits, counts, rules, end_of_logs(counts),
                              text_of=lambda rows, columns: gather_columns(hit_parts, columns, rows))
    present = set(counts["producer"].drop_nulls().unique().to_list()) if counts.height else set()
    coverage = rule_coverage(rules, {f.rule_id for f in findings}, present, formats)
    findings, coverage["rule_versions"] = judge_versions(findings, rules,
                                                         sections.get("identity", {}).get("versions", {}))
    return Analysis(
        bundle=bundle,
        members=reports,
        findings=findings,
        rules=rules,
        counts=counts,
        hosts=hosts,
        first_seen=min((first for first, _ in active if first), default=None),
        last_seen=max((last for _, last in active if last), default=None),
        learned_offsets=learned,
        coverage=coverage,
        sections=sections,
    )


#: The hit columns that name one of few things (a rule, a host, a member, a producer, a volume...):
#: categorical, so a rule matching millions of records holds each name once, not once a hit.
_HIT_LABELS = ("rule_id", "host", "source", "producer", "component", *ENTITY_GROUPS)


def _as_labels(hits: pl.DataFrame) -> list[pl.Expr]:
    return [pl.col(c).cast(pl.Categorical) for c in _HIT_LABELS if c in hits.columns]


def _stacked(packed: list[Packed], drop: Sequence[str] = ()) -> pl.DataFrame:
    """The batches' frames as one, without the columns in `drop` (an empty frame when none has rows)."""
    filled = unpack_all([p for p in packed if p.height], drop=drop)
    return pl.concat(filled, how="diagonal_relaxed") if filled else pl.DataFrame()


def _uncount_late_copies(counts: pl.DataFrame, late: pl.DataFrame, reports: list[MemberReport]) -> pl.DataFrame:
    """Take rsyslog's copies out of the counts of members read before the journal they copy
    (`JournalCopies.defer`), and say how many records of each member were copies."""
    copied: dict[str, int] = {}
    if late.height and counts.height:
        keys = ["source", *_COUNT_KEYS]
        # a large member's chunks may count the same minute: summed first, so a copy is taken out once
        counts = counts.group_by(keys).agg(pl.col("count").sum().cast(counts.schema["count"]))
        counts = counts.join(late.rename({"count": "_late"}), on=keys, how="left", nulls_equal=True) \
            .with_columns(pl.col("count") - pl.col("_late").fill_null(0)).filter(pl.col("count") > 0).drop("_late")
        copied = dict(late.group_by("source").agg(pl.col("count").sum()).iter_rows())
    for report in reports:
        report.journal_copies += copied.get(report.path, 0)
        if report.journal_copies:
            report.warnings.append(f"{report.journal_copies} record(s) repeat journal entries: "
                                   "counted once in the timeline")
    return counts


def _utc_spans(spans: pl.DataFrame, offsets: pl.DataFrame) -> dict[str, tuple[str | None, str | None]]:
    """Each member's first and last instant in UTC, from its spans per offset (`spans_of`; a large
    member's chunks give one each)."""
    if spans.height == 0:
        return {}
    spans = spans.group_by("source", "utc_offset").agg(pl.col("host").first(), pl.col("first").min(),
                                                       pl.col("last").max()).filter(pl.col("first").is_not_null())
    first = fill_offsets(spans.select("source", "host", pl.col("first").alias("ts_local"), "utc_offset"), offsets)
    last = fill_offsets(spans.select("source", "host", pl.col("last").alias("ts_local"), "utc_offset"), offsets)
    ends = first.group_by("source").agg(pl.col("ts").min().alias("first")).join(
        last.group_by("source").agg(pl.col("ts").max().alias("last")), on="source")
    return {source: (iso(first), iso(last)) for source, first, last in ends.iter_rows()}
